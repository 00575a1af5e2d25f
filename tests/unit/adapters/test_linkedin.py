"""LinkedIn Posts API adapter: body, little-text escaping, and every failure kind."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import responses
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chorus import clock
from chorus.adapters.networks.linkedin import (
    DEFAULT_VERSION,
    LITTLE_TEXT_RESERVED,
    POSTS_URL,
    PUBLISHED_SUNSETS,
    LinkedInPublisher,
    escape_little_text,
    linkedin_version_sunset,
)
from chorus.config import PublisherSettings
from chorus.domain.publishing import FailureKind, PublishFailed
from tests.unit.adapters.recordings import TOKEN, credentials, make_post, recorded_now, replay, sent_json

URN = "urn:li:share:6844785523593134080"


def unescape_little_text(little: str) -> str:
    """An independent reader of little text: `\\x` is the literal x; a bare reserved char is markup."""
    out: list[str] = []
    chars = iter(little)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            assert escaped is not None, "dangling backslash"
            assert escaped in LITTLE_TEXT_RESERVED, f"escaped a non-reserved character {escaped!r}"
            out.append(escaped)
        else:
            assert char not in LITTLE_TEXT_RESERVED, f"unescaped reserved character {char!r}"
            out.append(char)
    return "".join(out)


class TestEscaping:
    def test_every_reserved_character_is_escaped(self) -> None:
        # Given the characters the little text format reserves
        text = "\\ | { } @ [ ] ( ) < > # * _ ~"
        # When escaped
        escaped = escape_little_text(text)
        # Then each one has a backslash in front
        assert escaped == r"\\ \| \{ \} \@ \[ \] \( \) \< \> \# \* \_ \~"

    def test_ordinary_text_is_untouched(self) -> None:
        text = "Café crème, 100% ready! Ça va? 🎉\nNew line: \"quoted\" & 'single' $5 = ok; ^ + ? ! / . , :"
        assert escape_little_text(text) == text

    @given(st.text())
    def test_escaping_round_trips(self, text: str) -> None:
        # Given any text, When escaped then read back as little text, Then it is the original
        assert unescape_little_text(escape_little_text(text)) == text

    @given(st.text(alphabet=st.sampled_from([*sorted(LITTLE_TEXT_RESERVED), "a", " ", "\n", "é"])))
    def test_reserved_characters_never_appear_unescaped(self, text: str) -> None:
        escaped = escape_little_text(text)
        # Every reserved character sits right after an escaping backslash
        assert re.fullmatch(r"(?:\\[\\|{}@\[\]()<>#*_~]|[^\\|{}@\[\]()<>#*_~])*", escaped, flags=re.DOTALL)


class TestPublish:
    def test_success_sends_the_documented_request(self, rsps: responses.RequestsMock) -> None:
        # Given LinkedIn accepts the post
        replay(rsps, "POST", POSTS_URL, "linkedin_post_created")
        post = make_post(text="Our (new) report: 50% faster #launch @team")
        # When published
        published = LinkedInPublisher(session=requests.Session(), version="202510").publish(post, credentials())
        # Then the post URN comes from x-restli-id and the URL points at the feed update
        assert published.external_id == URN
        assert published.url == f"https://www.linkedin.com/feed/update/{URN}/"
        request = rsps.calls[0].request
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["LinkedIn-Version"] == "202510"
        assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
        assert request.headers["Content-Type"] == "application/json"
        assert sent_json(rsps) == {
            "author": "urn:li:person:782bbtaQ",
            "commentary": r"Our \(new\) report: 50% faster \#launch \@team",
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": {"source": "https://example.com/news/q3-report", "title": "Q3 report"}},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    @pytest.mark.parametrize(
        "text",
        [
            "Émilie a dit : « ça marche » — déjà 🎉🚀",
            "Line one\nLine two\r\n\n  indented line  \t",
            "  leading and trailing spaces  ",
            "👩🏽‍💻 zero-width\u200bjoiner and combining e\u0301",
            "",
        ],
    )
    def test_commentary_is_the_approved_text_byte_for_byte(self, rsps: responses.RequestsMock, text: str) -> None:
        replay(rsps, "POST", POSTS_URL, "linkedin_post_created")
        LinkedInPublisher().publish(make_post(text=text), credentials())
        body = rsps.calls[0].request.body
        assert isinstance(body, bytes)
        # Sent as UTF-8, nothing trimmed or rewritten: unescaping gives the exact approved text
        assert unescape_little_text(sent_json(rsps)["commentary"]).encode("utf-8") == text.encode("utf-8")
        assert all(ch.encode("utf-8") in body for ch in text if ord(ch) > 127)

    def test_the_limit_applies_to_the_escaped_commentary(self, rsps: responses.RequestsMock) -> None:
        # Given 1,600 reserved characters: 3,200 once escaped, over LinkedIn's 3,000
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(text="#" * 1600), credentials())
        # Then nothing is sent, and the reason says why
        assert caught.value.kind is FailureKind.REJECTED
        assert "3200 characters once escaped" in caught.value.reason
        assert len(rsps.calls) == 0

    def test_an_escaped_commentary_of_exactly_3000_is_sent(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", POSTS_URL, "linkedin_post_created")
        LinkedInPublisher().publish(make_post(text="(" * 1000 + "a" * 1000), credentials())
        assert len(sent_json(rsps)["commentary"]) == 3000

    def test_duplicate_post(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", POSTS_URL, "linkedin_duplicate_post")
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials())
        assert caught.value.kind is FailureKind.DUPLICATE
        assert "urn:li:share:7141138937766391808" in caught.value.reason

    def test_other_422_is_rejected_with_the_networks_message(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", POSTS_URL, "linkedin_field_invalid")
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials())
        assert caught.value.kind is FailureKind.REJECTED
        assert "length exceeds the maximum of 3000" in caught.value.reason

    @pytest.mark.parametrize(
        ("fixture", "kind"),
        [
            ("linkedin_unauthorized", FailureKind.UNAUTHORIZED),
            ("linkedin_forbidden", FailureKind.REJECTED),
            ("linkedin_server_error", FailureKind.TRANSIENT),
        ],
    )
    def test_status_translation(self, rsps: responses.RequestsMock, fixture: str, kind: FailureKind) -> None:
        replay(rsps, "POST", POSTS_URL, fixture)
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials())
        assert caught.value.kind is kind
        assert TOKEN not in str(caught.value)

    def test_throttled_uses_retry_after(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", POSTS_URL, "linkedin_throttled")
        publisher = LinkedInPublisher(clock=lambda: recorded_now("linkedin_throttled"))
        with pytest.raises(PublishFailed) as caught:
            publisher.publish(make_post(), credentials())
        assert caught.value.kind is FailureKind.RATE_LIMITED
        assert caught.value.retry_after_seconds == 3600

    def test_throttled_without_retry_after_says_nothing_of_when(self, rsps: responses.RequestsMock) -> None:
        # LinkedIn's 429 carries no Retry-After: no made-up wait (a fixed one would send every post
        # refused together back together); the publisher backs off with jitter, then waits for
        # midnight UTC (tests/unit/services/test_publish_quotas.py).
        rsps.add("POST", POSTS_URL, status=429, json={"status": 429, "message": "Too many requests"})
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials())
        assert caught.value.kind is FailureKind.RATE_LIMITED
        assert caught.value.retry_after_seconds is None

    @pytest.mark.parametrize(
        "error",
        [
            requests.exceptions.ConnectTimeout("connect timed out"),
            requests.exceptions.ReadTimeout("read timed out"),
            requests.exceptions.ConnectionError("connection reset"),
        ],
    )
    def test_network_trouble_is_transient(self, rsps: responses.RequestsMock, error: Exception) -> None:
        rsps.add("POST", POSTS_URL, body=error)
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials())
        assert caught.value.kind is FailureKind.TRANSIENT

    def test_success_without_an_id_is_never_published(self, rsps: responses.RequestsMock) -> None:
        # Given a 201 that lacks the x-restli-id header
        rsps.add("POST", POSTS_URL, status=201, body=b"")
        # Then no Published comes back; a retry would meet DUPLICATE_POST, not a second post
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials())
        assert caught.value.kind is FailureKind.TRANSIENT

    @pytest.mark.parametrize("member_id", [None, "", "abc/../x", "a b"])
    def test_missing_member_id_sends_nothing(self, rsps: responses.RequestsMock, member_id: str | None) -> None:
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials(member_id=member_id))
        assert caught.value.kind is FailureKind.UNAUTHORIZED
        assert len(rsps.calls) == 0

    def test_a_redirect_is_not_followed(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", POSTS_URL, status=307, headers={"Location": "http://169.254.169.254/latest"})
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials())
        assert caught.value.kind is FailureKind.REJECTED
        assert len(rsps.calls) == 1

    def test_an_echoed_token_is_redacted(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", POSTS_URL, status=400, json={"status": 400, "message": f"Bad header Bearer {TOKEN}"})
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), credentials())
        assert TOKEN not in str(caught.value)
        assert TOKEN not in caught.value.reason
        assert "[redacted]" in caught.value.reason

    def test_accepts_the_domain_connection_credentials(self, rsps: responses.RequestsMock) -> None:
        # Given the credentials type the publish service passes (structurally the same fields)
        from chorus.domain.connection import Credentials

        replay(rsps, "POST", POSTS_URL, "linkedin_post_created")
        domain_credentials = Credentials(access_token=TOKEN, member_id="782bbtaQ", instance_url=None)
        assert LinkedInPublisher().publish(make_post(), domain_credentials).external_id == URN

    def test_no_connection_is_unauthorized(self, rsps: responses.RequestsMock) -> None:
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher().publish(make_post(), None)
        assert caught.value.kind is FailureKind.UNAUTHORIZED
        assert len(rsps.calls) == 0

    def test_version_must_be_yyyymm(self) -> None:
        with pytest.raises(ValueError, match="YYYYMM"):
            LinkedInPublisher(version="2025-10")


class TestVersions:
    def test_a_retired_version_is_the_operators_problem_not_a_refusal(self, rsps: responses.RequestsMock) -> None:
        # Given LinkedIn answers 426 NONEXISTENT_VERSION (the pinned version was sunset)
        replay(rsps, "POST", POSTS_URL, "linkedin_version_retired")
        # When a post is published with that version
        with pytest.raises(PublishFailed) as caught:
            LinkedInPublisher(version="202510").publish(make_post(), credentials())
        # Then the failure says so, naming the version: the publisher keeps the post waiting
        assert caught.value.kind is FailureKind.OPERATOR
        assert "LinkedIn-Version 202510" in caught.value.reason and "is not active" in caught.value.reason
        assert TOKEN not in str(caught.value)

    def test_the_pinned_version_is_supported_today(self) -> None:
        # Fails the day LinkedIn retires it: pin a newer version (see the migrations page).
        assert linkedin_version_sunset(DEFAULT_VERSION) > clock.now().date()

    def test_the_pinned_version_is_the_newest_known_one(self) -> None:
        assert all(version < DEFAULT_VERSION for version in PUBLISHED_SUNSETS)

    def test_template_config_and_adapter_pin_the_same_version(self) -> None:
        root = Path(__file__).resolve().parents[3]

        class Loader(yaml.SafeLoader):
            pass

        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        template = yaml.load((root / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)
        assert template["Parameters"]["LinkedInVersion"]["Default"] == DEFAULT_VERSION
        assert PublisherSettings.model_fields["linkedin_version"].default == DEFAULT_VERSION

    @pytest.mark.parametrize(
        ("version", "sunset"),
        [
            ("202510", date(2026, 10, 15)),  # the one this project used to pin: retired
            ("202511", date(2026, 11, 16)),
            ("202603", date(2027, 3, 16)),
            ("202607", date(2027, 7, 15)),  # not yet published: a year after release, on the 15th
            ("202612", date(2027, 12, 15)),
        ],
    )
    def test_sunset_dates(self, version: str, sunset: date) -> None:
        assert linkedin_version_sunset(version) == sunset

    @given(st.integers(2022, 2040), st.integers(1, 12))
    def test_every_version_is_served_about_a_year(self, year: int, month: int) -> None:
        version = f"{year}{month:02d}"
        runway = linkedin_version_sunset(version) - date(year, month, 1)
        assert timedelta(days=365) <= runway <= timedelta(days=365 + 31 + 22)

    @pytest.mark.parametrize("version", ["2025-10", "20251001", "202513", "", "latest"])
    def test_a_malformed_version_is_refused(self, version: str) -> None:
        with pytest.raises(ValueError, match="YYYYMM"):
            linkedin_version_sunset(version)
