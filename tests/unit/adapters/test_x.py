"""X API v2 adapter: the body validates against the pinned OpenAPI spec; failures are translated."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import responses
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from chorus import clock
from chorus.adapters.networks.http import NetworkCredentials
from chorus.adapters.networks.x import LENGTH_RULE, TWEETS_URL, XPublisher
from chorus.domain.content import Network
from chorus.domain.publishing import FailureKind, PublishFailed, Quota, QuotaScope
from tests.unit.adapters.recordings import TOKEN, credentials, make_post, recorded, recorded_now, replay, sent_json

# Vendored with its source and version (tests/fixtures/specs/README.md). A missing spec fails loudly.
SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "specs" / "x-api-v2-openapi.json"
SPEC_URI = "urn:chorus:x-api-v2-openapi"
OPERATION = "#/paths/~12~1tweets/post"  # JSON pointer to POST /2/tweets


@cache
def spec_registry() -> Registry[Any]:
    document = json.loads(SPEC.read_text(encoding="utf-8"))
    resource: Resource[Any] = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


def validator_for(pointer: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at `pointer` in the whole document, so nested $refs resolve."""
    return jsonschema.Draft202012Validator({"$ref": f"{SPEC_URI}{pointer}"}, registry=spec_registry())


REQUEST_SCHEMA = f"{OPERATION}/requestBody/content/application~1json/schema"
CREATED_SCHEMA = f"{OPERATION}/responses/201/content/application~1json/schema"


def x_post(text: str, link: str = "https://example.com/news/q3-report") -> Any:
    return make_post(network=Network.X, text=text, link=link)


class TestSpec:
    def test_the_validator_really_checks_the_body(self) -> None:
        # Sanity: the resolved schema refuses what X refuses (unknown fields, wrong types)
        validator = validator_for(REQUEST_SCHEMA)
        assert not list(validator.iter_errors({"text": "hi"}))
        assert list(validator.iter_errors({"text": "hi", "link": "https://example.com"}))
        assert list(validator.iter_errors({"text": 42}))

    @pytest.mark.parametrize(
        "text",
        [
            "Plain text",
            "Émilie : « ça marche » — déjà 🎉🚀👩🏽‍💻",
            "Line one\nLine two\r\n\nthird\ttabbed",
            '{"json": "looking"} <b>html</b> & \\ backslash',
            "",
        ],
    )
    def test_sent_body_validates_against_the_spec(self, rsps: responses.RequestsMock, text: str) -> None:
        # Given X accepts the post
        replay(rsps, "POST", TWEETS_URL, "x_post_created")
        # When published
        XPublisher().publish(x_post(text), credentials())
        # Then the exact bytes sent validate against CreatePostsRequest
        validator_for(REQUEST_SCHEMA).validate(sent_json(rsps))

    @settings(max_examples=50)
    @given(text=st.text(), link=st.sampled_from(["https://example.com/a?b=c&d=é", ""]))
    def test_any_text_makes_a_valid_body(self, text: str, link: str) -> None:
        assume(LENGTH_RULE.length(f"{text} {link}") <= LENGTH_RULE.limit)
        with responses.RequestsMock() as rsps:
            replay(rsps, "POST", TWEETS_URL, "x_post_created")
            XPublisher().publish(x_post(text, link), credentials())
            body = sent_json(rsps)
        validator_for(REQUEST_SCHEMA).validate(body)
        assert body == {"text": f"{text} {link}" if link else text}

    def test_recorded_success_matches_the_response_schema(self) -> None:
        validator_for(CREATED_SCHEMA).validate(recorded("x_post_created")["body"])


class TestPublish:
    def test_success(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", TWEETS_URL, "x_post_created")
        published = XPublisher(session=requests.Session()).publish(x_post("Our Q3 report is out"), credentials())
        assert published.external_id == "1445880548472328192"
        assert published.url == "https://x.com/i/web/status/1445880548472328192"
        request = rsps.calls[0].request
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Content-Type"] == "application/json"
        assert sent_json(rsps) == {"text": "Our Q3 report is out https://example.com/news/q3-report"}

    @pytest.mark.parametrize("text", ["  spaced  ", "Ça\n\nva 🎉", "tab\tend\n"])
    def test_text_is_byte_for_byte(self, rsps: responses.RequestsMock, text: str) -> None:
        replay(rsps, "POST", TWEETS_URL, "x_post_created")
        XPublisher().publish(x_post(text), credentials())
        sent = sent_json(rsps)["text"]
        assert sent.encode("utf-8") == (text + " https://example.com/news/q3-report").encode("utf-8")

    def test_duplicate(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", TWEETS_URL, "x_duplicate")
        with pytest.raises(PublishFailed) as caught:
            XPublisher().publish(x_post("again"), credentials())
        assert caught.value.kind is FailureKind.DUPLICATE

    def test_rate_limited_waits_until_the_reset(self, rsps: responses.RequestsMock) -> None:
        # Given X says the window resets 300 s after the response's Date
        replay(rsps, "POST", TWEETS_URL, "x_rate_limited")
        publisher = XPublisher(clock=lambda: recorded_now("x_rate_limited"))
        with pytest.raises(PublishFailed) as caught:
            publisher.publish(x_post("hi"), credentials())
        assert caught.value.kind is FailureKind.RATE_LIMITED
        assert caught.value.retry_after_seconds == 300

    def test_by_default_the_reset_is_read_against_the_one_clock(self, rsps: responses.RequestsMock) -> None:
        # Given the process clock (the local cloud installs its virtual one) at the recording's time
        replay(rsps, "POST", TWEETS_URL, "x_rate_limited")
        recorded_at = datetime.fromtimestamp(recorded_now("x_rate_limited"), UTC)
        clock.install(lambda: recorded_at)
        try:
            with pytest.raises(PublishFailed) as caught:
                XPublisher().publish(x_post("hi"), credentials())
        finally:
            clock.install(None)
        # Then the wait is measured from that clock, not the machine's
        assert caught.value.retry_after_seconds == 300

    def test_a_reset_in_the_past_still_waits_a_second(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", TWEETS_URL, "x_rate_limited")
        publisher = XPublisher(clock=lambda: recorded_now("x_rate_limited") + 10_000)
        with pytest.raises(PublishFailed) as caught:
            publisher.publish(x_post("hi"), credentials())
        assert caught.value.retry_after_seconds == 1

    def test_the_24_hour_allowances_of_the_app_and_the_user_come_back_with_the_post(
        self, rsps: responses.RequestsMock
    ) -> None:
        # Given X's answer reports both 24-hour allowances (reset: epoch seconds)
        now = 1_780_000_000
        rsps.add(
            "POST",
            TWEETS_URL,
            status=201,
            json={"data": {"id": "1445880548472328192", "text": "hi"}},
            headers={
                "x-app-limit-24hour-limit": "10000",
                "x-app-limit-24hour-remaining": "37",
                "x-app-limit-24hour-reset": str(now + 3600),
                "x-user-limit-24hour-limit": "17",
                "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": str(now + 7200),
            },
        )
        published = XPublisher(clock=lambda: now).publish(x_post("hi"), credentials())
        # Then the publisher gets both, as figures it can stop on
        assert published.quotas == (
            Quota(QuotaScope.APP, 37, datetime.fromtimestamp(now + 3600, UTC), limit=10000),
            Quota(QuotaScope.USER, 0, datetime.fromtimestamp(now + 7200, UTC), limit=17),
        )
        assert published.quotas[1].exhausted and not published.quotas[0].exhausted

    @pytest.mark.parametrize(
        "headers",
        [
            {},  # X did not say
            {"x-app-limit-24hour-remaining": "many", "x-app-limit-24hour-reset": "1780003600"},
            {"x-app-limit-24hour-remaining": "5", "x-app-limit-24hour-reset": "1779990000"},  # in the past
            {"x-app-limit-24hour-remaining": "5", "x-app-limit-24hour-reset": "1790000000"},  # months ahead
        ],
    )
    def test_an_allowance_not_stated_or_unreadable_is_none(
        self, rsps: responses.RequestsMock, headers: dict[str, str]
    ) -> None:
        rsps.add("POST", TWEETS_URL, status=201, json={"data": {"id": "1", "text": "hi"}}, headers=headers)
        assert XPublisher(clock=lambda: 1_780_000_000).publish(x_post("hi"), credentials()).quotas == ()

    def test_a_429_of_a_spent_app_allowance_carries_it(self, rsps: responses.RequestsMock) -> None:
        now = 1_780_000_000
        rsps.add(
            "POST",
            TWEETS_URL,
            status=429,
            json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
            headers={"x-app-limit-24hour-remaining": "0", "x-app-limit-24hour-reset": str(now + 5000)},
        )
        with pytest.raises(PublishFailed) as caught:
            XPublisher(clock=lambda: now).publish(x_post("hi"), credentials())
        assert caught.value.kind is FailureKind.RATE_LIMITED
        assert caught.value.quotas == (Quota(QuotaScope.APP, 0, datetime.fromtimestamp(now + 5000, UTC)),)

    @pytest.mark.parametrize(
        ("fixture", "kind", "message"),
        [
            ("x_unauthorized", FailureKind.UNAUTHORIZED, "Unauthorized"),
            ("x_forbidden", FailureKind.REJECTED, "not permitted"),
            ("x_invalid_request", FailureKind.REJECTED, "parameters to your request was invalid"),
            ("x_server_error", FailureKind.TRANSIENT, "Service Unavailable"),
        ],
    )
    def test_status_translation(
        self, rsps: responses.RequestsMock, fixture: str, kind: FailureKind, message: str
    ) -> None:
        replay(rsps, "POST", TWEETS_URL, fixture)
        with pytest.raises(PublishFailed) as caught:
            XPublisher().publish(x_post("hi"), credentials())
        assert caught.value.kind is kind
        assert message in caught.value.reason
        assert TOKEN not in str(caught.value)

    @pytest.mark.parametrize(
        "error", [requests.exceptions.ConnectTimeout("slow"), requests.exceptions.ReadTimeout("slow")]
    )
    def test_timeouts_are_transient(self, rsps: responses.RequestsMock, error: Exception) -> None:
        rsps.add("POST", TWEETS_URL, body=error)
        with pytest.raises(PublishFailed) as caught:
            XPublisher(timeout=1.0).publish(x_post("hi"), credentials())
        assert caught.value.kind is FailureKind.TRANSIENT

    @pytest.mark.parametrize("body", [{}, {"data": {}}, {"data": {"id": "not-a-number"}}, {"errors": []}])
    def test_success_without_an_id_is_never_published(self, rsps: responses.RequestsMock, body: Any) -> None:
        rsps.add("POST", TWEETS_URL, status=201, json=body)
        with pytest.raises(PublishFailed) as caught:
            XPublisher().publish(x_post("hi"), credentials())
        assert caught.value.kind is FailureKind.TRANSIENT

    def test_a_post_longer_than_x_counts_is_refused_without_sending(self, rsps: responses.RequestsMock) -> None:
        # Given a text approved before X's weighted count was applied: 129 CJK = 258, + 24 for the link
        with pytest.raises(PublishFailed) as caught:
            XPublisher().publish(x_post("漢" * 129), credentials())
        # Then nothing is sent and the reason says how X counts
        assert caught.value.kind is FailureKind.REJECTED
        assert "282 characters as X counts them" in caught.value.reason
        assert len(rsps.calls) == 0

    def test_a_post_of_exactly_280_weighted_characters_is_sent(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", TWEETS_URL, "x_post_created")
        XPublisher().publish(x_post("漢" * 128), credentials())
        assert LENGTH_RULE.length(sent_json(rsps)["text"]) == 280

    def test_empty_token_sends_nothing(self, rsps: responses.RequestsMock) -> None:
        with pytest.raises(PublishFailed) as caught:
            XPublisher().publish(x_post("hi"), NetworkCredentials(access_token=""))
        assert caught.value.kind is FailureKind.UNAUTHORIZED
        assert len(rsps.calls) == 0
