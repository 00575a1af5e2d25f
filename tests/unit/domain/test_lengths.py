"""Length rules: twitter-text's own conformance suite for X, and each network's post as sent.

The suite (tests/fixtures/twitter_text, Apache-2.0) is what every twitter-text port must pass;
the page's counter runs the same cases in Chromium (tests/e2e/test_length_counter_in_browser.py).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.adapters.networks.linkedin import escape_little_text
from chorus.domain import twitter_text_data
from chorus.domain.lengths import Counting, UrlCounting, page_patterns, url_spans, weighted_length
from chorus.domain.networks import Network, networks, profile_of

CONFORMANCE = Path(__file__).resolve().parents[2] / "fixtures" / "twitter_text"
LINK = "https://chorus.example.com/r/k3Jx9aQ2"
X, MASTODON, LINKEDIN = (profile_of(network).length_rule for network in (Network.X, Network.MASTODON, Network.LINKEDIN))


@cache
def suite(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CONFORMANCE / name).read_text(encoding="utf-8"))["tests"]
    return loaded


def cases(name: str, *sections: str) -> list[Any]:
    loaded = suite(name)
    return [
        pytest.param(case, id=f"{section}: {case['description']}") for section in sections for case in loaded[section]
    ]


# The v3 rules X applies (emoji sequences count 2); `WeightedTweetsCounterTest` is v2 (no emoji parsing).
WEIGHTED = cases("validate.yml", "WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")
URLS = cases("extract.yml", "urls", "urls_with_directional_markers", "tco_urls_with_params")
URLS_WITH_INDICES = cases("extract.yml", "urls_with_indices")


class TestTwitterTextConformance:
    def test_the_suite_is_there(self) -> None:
        assert len(WEIGHTED) >= 20 and len(URLS) + len(URLS_WITH_INDICES) >= 100

    @pytest.mark.parametrize("case", WEIGHTED)
    def test_weighted_length(self, case: dict[str, Any]) -> None:
        assert weighted_length(case["text"]) == case["expected"]["weightedLength"]

    @pytest.mark.parametrize("case", URLS)
    def test_url_extraction(self, case: dict[str, Any]) -> None:
        text = case["text"]
        expected = [entry["url"] if isinstance(entry, dict) else entry for entry in case["expected"]]
        assert [text[start:end] for start, end in url_spans(text)] == expected

    @pytest.mark.parametrize("case", URLS_WITH_INDICES)
    def test_url_extraction_with_indices(self, case: dict[str, Any]) -> None:
        assert url_spans(case["text"]) == [tuple(entry["indices"]) for entry in case["expected"]]


class TestX:
    @pytest.mark.parametrize(
        ("text", "length"),
        [
            ("漢" * 128, 256),  # CJK weighs 2: 128 of them fill the room
            ("漢" * 256, 512),  # what a code point count would have let through
            ("👩🏽‍💻", 2),  # modifier + ZWJ sequence: one emoji
            ("👨‍👩‍👧‍👦" * 3, 6),
            ("🇫🇷🇩🇪", 4),
            ("1️⃣ #️⃣", 5),
            ("Café", 4),
            ("Cafe\u0301", 4),  # NFC first
            ("see example.com and https://example.org/a?b=c", 55),  # 4 + 23 + 5 + 23: every URL is 23
            ("a.b", 3),  # not a TLD: as typed
            ("“quotes” — dashes…", 19),  # U+2010-U+201F weigh 1; the ellipsis U+2026 weighs 2
        ],
    )
    def test_weighted(self, text: str, length: int) -> None:
        assert X.length(text) == length

    def test_room_leaves_a_space_and_23_for_the_link(self) -> None:
        assert (X.limit, X.link_cost, X.room) == (280, 24, 256)
        assert X.length(X.compose("x" * 256, LINK)) == 280


class TestMastodon:
    def test_a_maximum_length_text_still_fits_with_the_link(self) -> None:
        # 476 + "\n\n" + 23 was 501: refused by a 500-character server
        assert MASTODON.room == 475
        assert MASTODON.length(MASTODON.compose("m" * 475, LINK)) == 500
        assert not MASTODON.fits("m" * 476)

    def test_urls_with_a_protocol_count_23_whatever_their_length(self) -> None:
        assert MASTODON.length("https://a.co") == 23
        assert MASTODON.length("https://example.com/" + "p" * 100) == 23
        assert MASTODON.length("example.com") == 11  # Mastodon only shortens links with a protocol

    def test_the_servers_own_limit(self) -> None:
        rule = MASTODON.with_limit(1000, 30)
        assert (rule.room, rule.length("https://example.com")) == (1000 - 2 - 30, 30)

    def test_code_points_never_undercount_grapheme_clusters(self) -> None:
        assert MASTODON.length("👩🏽‍💻") == 4  # Mastodon counts 1: we may refuse, never let through


class TestLinkedIn:
    def test_the_limit_applies_to_the_escaped_commentary(self) -> None:
        assert LINKEDIN.length("#" * 1500) == 3000
        assert not LINKEDIN.fits("(" * 1501)
        assert LINKEDIN.link_cost == 0  # the link is the article card, not in the text

    @given(st.text())
    def test_length_is_the_utf16_length_of_what_is_sent(self, text: str) -> None:
        sent = escape_little_text(unicodedata.normalize("NFC", text))
        assert LINKEDIN.length(text) == len(sent.encode("utf-16-le")) // 2


# Texts as an employee writes them: words, CJK, emoji sequences, links with and without a protocol.
PIECES = st.sampled_from(
    ["word", " ", "\n", "漢字", "é", "e\u0301", "🙋🏽", "👨‍👩‍👧‍👦", "🇫🇷", "1⃣", "#tag", "@team", "(x)", "a.b",
     "example.com", "https://example.org/path?q=1", "www.exämple.de/ü", "t.co/abc", "xn--bcher-kva.de", "\u200d"]
)  # fmt: skip
TEXTS = st.lists(PIECES, max_size=30).map("".join)


class TestComposedPosts:
    @settings(max_examples=200, deadline=None)
    @given(text=TEXTS)
    def test_what_fits_still_fits_once_the_link_is_added(self, text: str) -> None:
        for rule in (X, MASTODON):
            if rule.fits(text):
                assert rule.length(rule.compose(text, LINK)) <= rule.limit

    @settings(max_examples=200, deadline=None)
    @given(text=TEXTS)
    def test_the_link_costs_exactly_what_the_rule_says(self, text: str) -> None:
        text = text.strip()
        for rule in (X, MASTODON):
            assert rule.length(rule.compose(text, LINK)) == rule.length(text) + rule.link_cost if text else True


class TestRules:
    def test_every_network_has_one(self) -> None:
        assert {network.value for network in networks()} == {"linkedin", "x", "mastodon", "bluesky", "sandbox"}
        assert all(profile_of(network).length_rule.limit > 0 for network in networks())

    def test_what_each_network_counts(self) -> None:
        assert (X.counting, X.urls) == (Counting.WEIGHTED, UrlCounting.ANY)
        assert (MASTODON.counting, MASTODON.urls) == (Counting.CODE_POINTS, UrlCounting.WITH_PROTOCOL)
        assert LINKEDIN.counting is Counting.UTF16

    def test_tlds_need_no_escaping_in_either_regex_engine(self) -> None:
        tlds = twitter_text_data.GENERIC_TLDS + twitter_text_data.COUNTRY_TLDS
        assert all(unicodedata.category(char)[0] in "LMN" for tld in tlds for char in tld)

    def test_page_patterns_are_javascript_source(self) -> None:
        patterns = page_patterns()["patterns"]
        for source in patterns.values():
            assert source.isascii() and not re.search(r"\\U[0-9a-fA-F]{8}", source)
        assert "\\u{1f468}" in patterns["emoji"]


def test_the_longest_public_base_url_the_template_accepts_fits_the_bluesky_link_reserve():
    # Given the longest PublicBaseUrl a stack can be deployed with
    from chorus.domain.lengths import BLUESKY_LINK_RESERVE, grapheme_count
    from chorus.domain.tracking import link_code
    from tests.support.template import template

    longest = template()["Parameters"]["PublicBaseUrl"]["MaxLength"]
    base = "https://" + "a" * (longest - len("https://"))
    # When a post's tracked link is written with it
    link = f"{base}/r/{link_code('approval-1')}"
    # Then it fits what a Bluesky post keeps for its link
    assert grapheme_count(link) <= BLUESKY_LINK_RESERVE
