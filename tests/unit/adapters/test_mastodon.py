"""Mastodon adapter: idempotency key, exact status text, SSRF guard, failure kinds."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st

from chorus.adapters.networks.http import NetworkCredentials, validate_instance_url
from chorus.adapters.networks.mastodon import MastodonPublisher, fetch_instance_limits
from chorus.domain.content import Network
from chorus.domain.lengths import MAX_HONOURED_LIMIT, InstanceLimits
from chorus.domain.publishing import FailureKind, PostRequest, PublishFailed
from tests.unit.adapters.recordings import INSTANCE, TOKEN, credentials, make_post, recorded_now, replay, sent_json

STATUSES_URL = f"{INSTANCE}/api/v1/statuses"


def toot(text: str = "Proud of the team 🎉", link: str = "https://example.com/news/q3-report") -> PostRequest:
    return make_post(network=Network.MASTODON, text=text, link=link)


class TestPublish:
    def test_success_sends_status_visibility_and_idempotency_key(self, rsps: responses.RequestsMock) -> None:
        # Given the instance accepts the status
        replay(rsps, "POST", STATUSES_URL, "mastodon_status_created")
        post = toot()
        # When published
        published = MastodonPublisher(session=requests.Session()).publish(post, credentials())
        # Then the status id and its public URL come back
        assert published.external_id == "103270115826048975"
        assert published.url == "https://mastodon.social/@Gargron/103270115826048975"
        request = rsps.calls[0].request
        assert request.headers["Idempotency-Key"] == post.idempotency_key
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert sent_json(rsps) == {
            "status": "Proud of the team 🎉\n\nhttps://example.com/news/q3-report",
            "visibility": "public",
        }

    @given(st.text())
    def test_status_is_the_approved_text_byte_for_byte(self, text: str) -> None:
        with responses.RequestsMock() as rsps:
            replay(rsps, "POST", STATUSES_URL, "mastodon_status_created")
            MastodonPublisher().publish(toot(text=text), credentials())
            status = sent_json(rsps)["status"]
        assert status.encode("utf-8") == (text + "\n\nhttps://example.com/news/q3-report").encode("utf-8")

    def test_a_retry_sends_the_same_idempotency_key(self, rsps: responses.RequestsMock) -> None:
        # Given the first attempt timed out after reaching the instance
        rsps.add("POST", STATUSES_URL, body=requests.exceptions.ReadTimeout("slow"))
        replay(rsps, "POST", STATUSES_URL, "mastodon_status_created")
        publisher, post = MastodonPublisher(), toot()
        with pytest.raises(PublishFailed) as caught:
            publisher.publish(post, credentials())
        assert caught.value.kind is FailureKind.TRANSIENT
        # When retried, Then the key is the same, so Mastodon answers with the first status
        publisher.publish(post, credentials())
        keys = [call.request.headers["Idempotency-Key"] for call in rsps.calls]
        assert keys == [post.idempotency_key, post.idempotency_key]

    def test_validation_failure_is_rejected_with_the_error(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", STATUSES_URL, "mastodon_validation_failed")
        with pytest.raises(PublishFailed) as caught:
            MastodonPublisher().publish(toot(), credentials())
        assert caught.value.kind is FailureKind.REJECTED
        assert "Text character limit of 500 exceeded" in caught.value.reason

    @pytest.mark.parametrize(
        ("fixture", "kind"),
        [
            ("mastodon_unauthorized", FailureKind.UNAUTHORIZED),
            ("mastodon_forbidden", FailureKind.UNAUTHORIZED),
            ("mastodon_server_error", FailureKind.TRANSIENT),
        ],
    )
    def test_status_translation(self, rsps: responses.RequestsMock, fixture: str, kind: FailureKind) -> None:
        replay(rsps, "POST", STATUSES_URL, fixture)
        with pytest.raises(PublishFailed) as caught:
            MastodonPublisher().publish(toot(), credentials())
        assert caught.value.kind is kind
        assert TOKEN not in str(caught.value)

    def test_rate_limited_waits_until_the_iso_reset(self, rsps: responses.RequestsMock) -> None:
        # Given X-RateLimit-Reset is 136.02 s after the response's Date
        replay(rsps, "POST", STATUSES_URL, "mastodon_rate_limited")
        publisher = MastodonPublisher(clock=lambda: recorded_now("mastodon_rate_limited"))
        with pytest.raises(PublishFailed) as caught:
            publisher.publish(toot(), credentials())
        assert caught.value.kind is FailureKind.RATE_LIMITED
        assert caught.value.retry_after_seconds == 137

    def test_rate_limited_falls_back_to_retry_after(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", STATUSES_URL, status=429, headers={"Retry-After": "42"}, json={"error": "Too many requests"})
        with pytest.raises(PublishFailed) as caught:
            MastodonPublisher().publish(toot(), credentials())
        assert caught.value.kind is FailureKind.RATE_LIMITED
        assert caught.value.retry_after_seconds == 42

    def test_connect_timeout_is_transient(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", STATUSES_URL, body=requests.exceptions.ConnectTimeout("slow"))
        with pytest.raises(PublishFailed) as caught:
            MastodonPublisher().publish(toot(), credentials())
        assert caught.value.kind is FailureKind.TRANSIENT

    @pytest.mark.parametrize("body", [{}, {"id": ""}, {"id": 5}, []])
    def test_success_without_an_id_is_never_published(self, rsps: responses.RequestsMock, body: Any) -> None:
        rsps.add("POST", STATUSES_URL, status=200, json=body)
        with pytest.raises(PublishFailed) as caught:
            MastodonPublisher().publish(toot(), credentials())
        assert caught.value.kind is FailureKind.TRANSIENT

    def test_a_non_https_status_url_is_not_passed_on(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", STATUSES_URL, status=200, json={"id": "1", "url": "javascript:alert(1)"})
        published = MastodonPublisher().publish(toot(), credentials())
        assert published == published.__class__(external_id="1", url=None)

    def test_a_hostile_instance_cannot_make_us_leak_the_token(self, rsps: responses.RequestsMock) -> None:
        # Given an instance that echoes the Authorization header in its error
        rsps.add("POST", STATUSES_URL, status=422, json={"error": f"Bearer {TOKEN} is not welcome"})
        with pytest.raises(PublishFailed) as caught:
            MastodonPublisher().publish(toot(), credentials())
        assert TOKEN not in str(caught.value)
        assert TOKEN not in repr(caught.value.args)

    def test_no_connection_is_unauthorized(self, rsps: responses.RequestsMock) -> None:
        with pytest.raises(PublishFailed) as caught:
            MastodonPublisher().publish(toot(), None)
        assert caught.value.kind is FailureKind.UNAUTHORIZED
        assert len(rsps.calls) == 0

    def test_the_token_is_not_in_the_credentials_repr(self) -> None:
        assert TOKEN not in repr(credentials())


class TestSsrfGuard:
    @pytest.mark.parametrize(
        "url",
        [
            None,
            "",
            "http://mastodon.social",
            "ftp://mastodon.social",
            "mastodon.social",
            "https://127.0.0.1",
            "https://10.0.0.8",
            "https://169.254.169.254",
            "https://[::1]",
            "https://[fd00::1]",
            "https://2130706433",
            "https://0x7f.0.0.1",
            "https://127.1",
            "https://localhost",
            "https://app.localhost",
            "https://printer.local",
            "https://metadata.google.internal",
            "https://intranet",
            "https://user:pass@mastodon.social",
            "https://mastodon.social@169.254.169.254",
            "https://mastodon.social:8443",
            "https://mastodon.social:80",
            "https://mastodon.social/api",
            "https://mastodon.social?x=1",
            "https://mastodon.social#frag",
            "https://mastodon.social\\@evil.example",
            "https://mastodon.social./",
            "https://bücher.example",
            "https://-bad-.example",
            "https://mastodon .social",
            "https://mastodon.social\r\nX-Evil: 1",
        ],
    )
    def test_unsafe_instances_are_rejected_before_any_request(
        self, rsps: responses.RequestsMock, url: str | None
    ) -> None:
        with pytest.raises(PublishFailed) as caught:
            MastodonPublisher().publish(toot(), NetworkCredentials(access_token=TOKEN, instance_url=url))
        assert caught.value.kind is FailureKind.REJECTED
        assert len(rsps.calls) == 0

    @pytest.mark.parametrize(
        ("url", "normalised"),
        [
            ("https://mastodon.social", "https://mastodon.social"),
            ("https://Mastodon.Social/", "https://mastodon.social"),
            ("https://mastodon.social:443", "https://mastodon.social"),
            ("https://fosstodon.org", "https://fosstodon.org"),
            ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
            ("https://social.my-company.co.uk", "https://social.my-company.co.uk"),
        ],
    )
    def test_public_https_instances_are_accepted(self, url: str, normalised: str) -> None:
        assert validate_instance_url(url) == normalised


INSTANCE_URL = f"{INSTANCE}/api/v2/instance"


class TestInstanceLimits:
    def test_the_servers_limits_come_from_api_v2_instance(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "GET", INSTANCE_URL, "mastodon_instance_v2")
        assert fetch_instance_limits(INSTANCE) == InstanceLimits(500, 23)
        assert rsps.calls[0].request.headers["Accept"] == "application/json"

    def test_a_server_with_its_own_limit(self, rsps: responses.RequestsMock) -> None:
        statuses = {"max_characters": 5000, "characters_reserved_per_url": 30}
        rsps.add("GET", INSTANCE_URL, json={"configuration": {"statuses": statuses}})
        assert fetch_instance_limits(INSTANCE) == InstanceLimits(5000, 30)

    def test_a_longer_limit_than_chorus_offers_is_capped(self, rsps: responses.RequestsMock) -> None:
        # Some servers allow 50,000 characters; an approval form must still hold every network's text.
        statuses = {"max_characters": 50_000, "characters_reserved_per_url": 23}
        rsps.add("GET", INSTANCE_URL, json={"configuration": {"statuses": statuses}})
        assert fetch_instance_limits(INSTANCE) == InstanceLimits(MAX_HONOURED_LIMIT, 23)

    @pytest.mark.parametrize(
        "statuses",
        [
            {"max_characters": "5000", "characters_reserved_per_url": None},
            {"max_characters": True, "characters_reserved_per_url": -1},
            {"max_characters": 0, "characters_reserved_per_url": 10**9},
            {"max_characters": 10**12},
        ],
    )
    def test_implausible_claims_fall_back_to_mastodons_defaults(
        self, rsps: responses.RequestsMock, statuses: dict[str, Any]
    ) -> None:
        rsps.add("GET", INSTANCE_URL, json={"configuration": {"statuses": statuses}})
        assert fetch_instance_limits(INSTANCE) == InstanceLimits(500, 23)

    @pytest.mark.parametrize("answer", [{"status": 404, "json": {"error": "Not Found"}}, {"status": 200, "json": []}])
    def test_a_server_that_does_not_say_is_a_failure(
        self, rsps: responses.RequestsMock, answer: dict[str, Any]
    ) -> None:
        rsps.add("GET", INSTANCE_URL, **answer)
        with pytest.raises(PublishFailed) as caught:
            fetch_instance_limits(INSTANCE)
        assert caught.value.kind is FailureKind.TRANSIENT

    @pytest.mark.parametrize("url", ["http://mastodon.social", "https://127.0.0.1", "https://mastodon.local"])
    def test_the_ssrf_guard_runs_before_any_request(self, rsps: responses.RequestsMock, url: str) -> None:
        with pytest.raises(PublishFailed) as caught:
            fetch_instance_limits(url)
        assert caught.value.kind is FailureKind.REJECTED
        assert len(rsps.calls) == 0
