"""Pure rules of employees' rights: how an erased address gets a new id, how an upload is
recognised as mentioning someone (streamed, in any letter case, as CSV or JSON writes it)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.employee import employee_id_for
from chorus.domain.privacy import Mentions


def test_generation_zero_is_the_id_as_it_always_was_and_each_generation_is_new() -> None:
    address = "Ada@Example.com "
    assert employee_id_for(address) == employee_id_for("ada@example.com", 0)
    ids = {employee_id_for(address, generation) for generation in range(5)}
    assert len(ids) == 5 and all(identifier.startswith("e-") for identifier in ids)


def test_a_mention_is_found_in_any_letter_case_and_as_json_escapes_it() -> None:
    mentions = Mentions.of("zoë.durand@example.com", "Zoë Durand")
    assert mentions.found_in([b"email,name\nZOE@x.com,ZO\xc3\x8b DURAND\n"])
    assert mentions.found_in([json.dumps({"name": "Zoë Durand"}).encode()])  # "Zo\u00eb Durand"
    assert not mentions.found_in([b"email,name\nzoe.durand@example.org,Zoe Durand\n"])


def test_names_too_short_to_mean_anyone_are_not_searched() -> None:
    assert Mentions.of("", "Al").needles == ()
    assert not Mentions.of("", "Al").found_in([b"Al was here"])


@given(
    before=st.text(max_size=200),
    after=st.text(max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=6),
)
def test_a_mention_split_across_chunks_is_still_found(before: str, after: str, cuts: list[int]) -> None:
    # Given a file with the name somewhere, streamed in chunks cut anywhere (even mid-letter)
    name = "Zoë Ångström"
    data = f"{before}{name}{after}".encode()
    bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    chunks = [data[start:end] for start, end in itertools.pairwise(bounds)]
    # Then it is found
    assert Mentions.of(name).found_in(chunks)
