"""Page cursors: what a listing hands out comes back as the same start key; anything else is bad
input (400 with the field named), never an error page."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.errors import InvalidInput
from chorus.web.cursors import MAX_PAGE_SIZE, decode_cursor, encode_cursor, page_size

start_keys = st.dictionaries(st.sampled_from(["PK", "SK", "GSI2PK", "GSI2SK"]), st.text(), min_size=1)


@given(start_keys)
def test_a_cursor_brings_back_the_start_key_it_was_made_from(key: dict[str, str]) -> None:
    cursor = encode_cursor(key)

    assert cursor is not None and decode_cursor(cursor) == key
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


def test_the_last_page_has_no_cursor_and_no_cursor_is_the_first_page() -> None:
    assert encode_cursor(None) is None and encode_cursor({}) is None
    assert decode_cursor(None) is None and decode_cursor("") is None


@pytest.mark.parametrize(
    "forged",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"{not json").decode(),
        base64.urlsafe_b64encode(b'["PK", "SK"]').decode(),
        base64.urlsafe_b64encode(b'{"PK": {"S": "EMP#1"}}').decode(),
    ],
)
def test_a_cursor_we_did_not_issue_is_refused_as_bad_input(forged: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(forged)

    assert [problem.field for problem in refused.value.problems] == ["next"]


@pytest.mark.parametrize(("raw", "size"), [(None, 50), ("1", 1), (str(MAX_PAGE_SIZE), MAX_PAGE_SIZE)])
def test_a_page_size_within_bounds_is_taken(raw: str | None, size: int) -> None:
    assert page_size(raw) == size


@pytest.mark.parametrize("raw", ["0", str(MAX_PAGE_SIZE + 1), "-1", "ten", ""])
def test_a_page_size_out_of_bounds_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        page_size(raw)

    assert [problem.field for problem in refused.value.problems] == ["limit"]
