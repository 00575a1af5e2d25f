"""Slack request signatures (on the exact bytes), the interaction payload, and the "Post as
shown" scope that binds a content version and each network's exact text."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.magic_links import KeyRing, LinkRejected, Purpose, ShownPosts, sign_link, verify_link
from chorus.domain.slack import (
    POST_AS_SHOWN,
    SlackRequestRejected,
    parse_interaction,
    signature_of,
    verify_request,
)

SECRET = b"8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TIMESTAMP = str(int(NOW.timestamp()))
BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"
RING = KeyRing(current="k1", keys={"k1": b"k" * 32})


def slack_signs(secret: bytes, timestamp: str, body: bytes) -> str:
    """Slack's algorithm as its documentation states it, written independently of ours."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


class TestRequestSignature:
    def test_a_request_signed_by_slack_is_accepted(self):
        verify_request(SECRET, TIMESTAMP, slack_signs(SECRET, TIMESTAMP, BODY), BODY, NOW)

    def test_slacks_documented_example_verifies(self):
        # The worked example of Slack's "Verifying requests from Slack" page.
        body = (
            b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
        )
        moment = datetime.fromtimestamp(1531420618, UTC)
        signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        verify_request(SECRET, "1531420618", signature, body, moment)
        assert signature_of(SECRET, "1531420618", body) == signature

    def test_a_wrong_secret_is_refused(self):
        signature = slack_signs(b"another-workspace-secret", TIMESTAMP, BODY)
        with pytest.raises(SlackRequestRejected, match="signature"):
            verify_request(SECRET, TIMESTAMP, signature, BODY, NOW)

    @pytest.mark.parametrize("age", [timedelta(minutes=5, seconds=1), timedelta(hours=2), -timedelta(minutes=6)])
    def test_a_stale_or_future_timestamp_is_refused_even_when_signed(self, age):
        timestamp = str(int((NOW - age).timestamp()))
        with pytest.raises(SlackRequestRejected, match="stale"):
            verify_request(SECRET, timestamp, slack_signs(SECRET, timestamp, BODY), BODY, NOW)

    def test_within_five_minutes_is_accepted(self):
        timestamp = str(int((NOW - timedelta(minutes=4, seconds=59)).timestamp()))
        verify_request(SECRET, timestamp, slack_signs(SECRET, timestamp, BODY), BODY, NOW)

    @pytest.mark.parametrize(
        "altered",
        [BODY + b"&x=1", BODY.replace(b"block", b"blocc"), BODY[:-1], b" " + BODY, BODY.replace(b"%7B", b"%7b")],
    )
    def test_a_body_altered_by_one_byte_is_refused(self, altered):
        with pytest.raises(SlackRequestRejected, match="signature"):
            verify_request(SECRET, TIMESTAMP, slack_signs(SECRET, TIMESTAMP, BODY), altered, NOW)

    def test_a_timestamp_other_than_the_signed_one_is_refused(self):
        later = str(int(NOW.timestamp()) + 1)
        with pytest.raises(SlackRequestRejected):
            verify_request(SECRET, later, slack_signs(SECRET, TIMESTAMP, BODY), BODY, NOW)

    @pytest.mark.parametrize("timestamp", ["", "abc", "-1", "1e9", "9" * 20])
    def test_a_malformed_timestamp_is_refused(self, timestamp):
        with pytest.raises(SlackRequestRejected):
            verify_request(SECRET, timestamp, slack_signs(SECRET, timestamp, BODY), BODY, NOW)

    @pytest.mark.parametrize("signature", ["", "v0=", "v1=" + "0" * 64, slack_signs(SECRET, TIMESTAMP, BODY).upper()])
    def test_a_missing_or_malformed_signature_is_refused(self, signature):
        with pytest.raises(SlackRequestRejected):
            verify_request(SECRET, TIMESTAMP, signature, BODY, NOW)


def interaction(**overrides: object) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U123"},
        "actions": [{"action_id": POST_AS_SHOWN, "value": "k1.token.sig"}],
        "response_url": "https://hooks.slack.com/actions/T1/1/abc",
        "trigger_id": "trigger-1",
        **overrides,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


class TestInteractionPayload:
    def test_a_post_as_shown_click(self):
        click = parse_interaction(interaction())
        assert click is not None
        assert (click.slack_user_id, click.token, click.click_id) == ("U123", "k1.token.sig", "trigger-1")

    @pytest.mark.parametrize(
        "overrides",
        [
            {"actions": [{"action_id": "edit_first", "url": "https://x"}]},
            {"type": "view_submission"},
            {"response_url": "http://insecure.example.com/"},
            {"actions": []},
        ],
    )
    def test_anything_else_is_no_click(self, overrides):
        assert parse_interaction(interaction(**overrides)) is None

    @pytest.mark.parametrize("body", [b"", b"payload=not-json", b"\xff\xfe", b"a=1&b=2", b"payload=%7B%7D"])
    def test_an_unreadable_body_is_refused(self, body):
        with pytest.raises(SlackRequestRejected):
            parse_interaction(body)


class TestShownPosts:
    @given(
        content_id=st.text(min_size=1, max_size=60).filter(lambda text: text.strip() == text and text),
        version=st.integers(min_value=0, max_value=10**6),
        digests=st.dictionaries(
            st.sampled_from(["linkedin", "x", "mastodon", "sandbox"]),
            st.binary(min_size=1).map(lambda data: hashlib.sha256(data).hexdigest()),
            min_size=1,
        ),
    )
    def test_the_scope_round_trips_whatever_the_content_id(self, content_id, version, digests):
        shown = ShownPosts(content_id=content_id, version=version, text_sha256=digests)
        assert ShownPosts.from_scope(shown.scope()) == shown

    def test_a_token_for_slack_opens_no_page_and_a_page_link_approves_nothing(self):
        shown = ShownPosts(content_id="c1", version=3, text_sha256={"x": "a" * 64})
        token = sign_link(RING, "e-1", shown.scope(), NOW + timedelta(days=1))
        assert verify_link(RING, token, NOW, {Purpose.SLACK_APPROVE}).shown == shown
        for purpose in (Purpose.ACTIVITY, Purpose.ME, Purpose.CONNECT, Purpose.UNSUBSCRIBE):
            with pytest.raises(LinkRejected):
                verify_link(RING, token, NOW, {purpose})
        page = sign_link(RING, "e-1", "c:c1", NOW + timedelta(days=1))
        with pytest.raises(LinkRejected):
            verify_link(RING, page, NOW, {Purpose.SLACK_APPROVE})

    @pytest.mark.parametrize("scope", ["s:c1|3|x=short", "s:c1|v|x=" + "a" * 64, "s:|3|x=" + "a" * 64, "s:c1|3|"])
    def test_a_malformed_scope_is_refused(self, scope):
        with pytest.raises(LinkRejected):
            ShownPosts.from_scope(scope)
