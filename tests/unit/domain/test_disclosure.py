"""The disclosure in every proposed post (FTC Endorsement Guides, 16 CFR 255), and the one
function that says what an employee is offered for (content, network, locale)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.content import Content
from chorus.domain.disclosure import Disclosure, proposed_text
from chorus.domain.networks import Network, networks, profile_of

RULE = Disclosure({"en": "#employee", "fr": "#collaborateur"})
CONTENT = Content(
    content_id="c-1", title="T", url="https://example.com/t", text="We opened in Lyon", texts={Network.X: "Lyon!"}
)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "We opened in Lyon\n\n#employee"),
        ("fr-FR", "We opened in Lyon\n\n#collaborateur"),
        ("fr_CA", "We opened in Lyon\n\n#collaborateur"),
        ("de", "We opened in Lyon\n\n#employee"),  # no German disclosure: the default language's
    ],
)
def test_the_disclosure_of_the_employees_language_is_added(locale, expected):
    assert proposed_text(CONTENT, Network.LINKEDIN, locale, RULE) == expected


def test_each_networks_own_text_gets_it_too():
    assert proposed_text(CONTENT, Network.X, "en", RULE) == "Lyon!\n\n#employee"


def test_a_text_that_already_discloses_is_left_as_written():
    written = CONTENT.model_copy(update={"text": "Proud #employee of Lyon"})
    assert proposed_text(written, Network.LINKEDIN, "en", RULE) == "Proud #employee of Lyon"


def test_without_a_disclosure_the_text_is_the_contents():
    assert proposed_text(CONTENT, Network.LINKEDIN, "fr", Disclosure()) == "We opened in Lyon"


@pytest.mark.parametrize(
    ("text", "carried"),
    [
        ("Lyon #employee", True),
        ("#employee: Lyon", True),
        ("Lyon #collaborateur.", True),
        ("Lyon #employees", False),
        ("Lyon #Employee", False),
        ("Lyon employee", False),
        ("Lyon x#employee", False),
    ],
)
def test_a_disclosure_counts_as_a_whole_word(text, carried):
    assert RULE.carried_by(text) is carried


def test_a_required_disclosure_needs_a_text():
    with pytest.raises(ValueError, match="at least one"):
        Disclosure({}, required=True)


@given(st.text(max_size=300), st.sampled_from(["en", "fr", "fr-BE", "es", ""]), st.sampled_from(networks()))
def test_what_is_proposed_always_carries_the_disclosure_and_is_stable(text, locale, network):
    content = CONTENT.model_copy(update={"text": text, "texts": {}})
    proposed = proposed_text(content, network, locale, RULE)
    assert RULE.carried_by(proposed)
    # Proposing again from what was proposed adds nothing (a text is never tagged twice).
    again = content.model_copy(update={"text": proposed})
    assert proposed_text(again, network, locale, RULE) == proposed


def test_the_disclosure_counts_in_each_networks_length():
    """The proposed text is what the counter and the server's length check see."""
    for network in (Network.X, Network.LINKEDIN, Network.MASTODON):
        rule = profile_of(network).length_rule
        bare = proposed_text(CONTENT, network, "en", Disclosure())
        tagged = proposed_text(CONTENT, network, "en", RULE)
        assert rule.length(tagged) == rule.length(bare) + rule.length("\n\n#employee")
    # LinkedIn sends "#" escaped: it counts twice there
    assert profile_of(Network.LINKEDIN).length_rule.length(proposed_text(CONTENT, Network.LINKEDIN, "en", RULE)) == 29
