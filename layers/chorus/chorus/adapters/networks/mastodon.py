"""Mastodon (`POST {instance}/api/v1/statuses`), on the instance the employee connected.

The status is the approved text, a blank line, then the link (`text + "\\n\\n" + link`): Mastodon
keeps line breaks, and a link on its own line gets the preview card. The request carries
`Idempotency-Key: <post.idempotency_key>`, so a retry within Mastodon's window (about an hour)
returns the first status instead of posting twice. The instance URL comes from the employee:
it passes `http.validate_instance_url`, and every request goes through a `PublicSession`, which
connects only to a public address the name resolved to (`egress.py`). Other calls to the
instance (GET /api/v2/instance...) go through ``send(self._session, ...)`` the same way.

Each server sets its own status limit: `fetch_instance_limits` reads it from
`GET {instance}/api/v2/instance` (configuration.statuses.max_characters and
characters_reserved_per_url, https://docs.joinmastodon.org/methods/instance/#v2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from chorus.adapters.networks.egress import PublicSession
from chorus.adapters.networks.http import (
    DEFAULT_TIMEOUT,
    Clock,
    CredentialsLike,
    Timeout,
    classify,
    encode_json,
    json_body,
    require_token,
    seconds_from_retry_after,
    seconds_until_iso,
    send,
    validate_instance_url,
)
from chorus.clock import timestamp
from chorus.domain.lengths import InstanceLimits
from chorus.domain.networks import Network, profile_of
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed

NETWORK = "mastodon"
# Where the link goes and what it costs (chorus.domain.lengths); the limit is the server's own.
LENGTH_RULE = profile_of(Network.MASTODON).length_rule


def status_text(post: PostRequest) -> str:
    """The approved text, byte for byte, then a blank line and the link."""
    return LENGTH_RULE.compose(post.text, post.link)


# Asked while an employee's page renders: a slow server must not hold the page up for long.
INSTANCE_TIMEOUT: Timeout = (2.0, 3.0)


def fetch_instance_limits(
    instance_url: str, session: requests.Session | None = None, timeout: Timeout = INSTANCE_TIMEOUT
) -> InstanceLimits:
    """The server's status limits; PublishFailed when it cannot say (unreachable, not Mastodon 4+).

    The server is the employee's choice: by default the request goes through a `PublicSession`."""
    instance = validate_instance_url(instance_url)
    response = send(
        session if session is not None else PublicSession(),
        "GET",
        f"{instance}/api/v2/instance",
        network=NETWORK,
        timeout=timeout,
        headers={"Accept": "application/json"},
    )
    body = json_body(response) if response.status_code == 200 else None
    configuration = body.get("configuration") if isinstance(body, Mapping) else None
    statuses = configuration.get("statuses") if isinstance(configuration, Mapping) else None
    if not isinstance(statuses, Mapping):
        raise PublishFailed(FailureKind.TRANSIENT, f"{NETWORK}: the server did not say its limits")
    limit, url_cost = statuses.get("max_characters"), statuses.get("characters_reserved_per_url")
    return InstanceLimits.from_configuration(limit, url_cost)


def rate_limit_wait(response: requests.Response, now: float) -> int | None:
    """Mastodon sends X-RateLimit-Reset as an ISO 8601 time; proxies may add Retry-After."""
    wait = seconds_until_iso(response.headers.get("X-RateLimit-Reset"), now)
    return wait if wait is not None else seconds_from_retry_after(response.headers.get("Retry-After"), now)


class MastodonPublisher:
    def __init__(
        self,
        session: PublicSession | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        clock: Clock = timestamp,
    ) -> None:
        self._session = session if session is not None else PublicSession()
        self._timeout = timeout
        self._clock = clock

    def body(self, post: PostRequest) -> dict[str, Any]:
        return {"status": status_text(post), "visibility": "public"}

    def publish(self, post: PostRequest, credentials: CredentialsLike | None) -> Published:
        token = require_token(credentials, NETWORK)
        instance = validate_instance_url(credentials.instance_url if credentials is not None else None)
        response = send(
            self._session,
            "POST",
            f"{instance}/api/v1/statuses",
            network=NETWORK,
            timeout=self._timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": post.idempotency_key,
            },
            body=encode_json(self.body(post), NETWORK),
        )
        if 200 <= response.status_code < 300:
            return _published(json_body(response))
        raise classify(
            response,
            network=NETWORK,
            token=token,
            retry_after=rate_limit_wait(response, self._clock()),
            unauthorized=frozenset({401, 403}),
        )


def _published(body: Any) -> Published:
    status_id = body.get("id") if isinstance(body, Mapping) else None
    if not isinstance(status_id, str) or not status_id:
        # The same Idempotency-Key makes the retry return the status if it was created.
        raise PublishFailed(FailureKind.TRANSIENT, f"{NETWORK}: success without a status id")
    url = body.get("url")
    # The instance is employee-chosen: only an https link is worth showing back.
    return Published(external_id=status_id, url=url if isinstance(url, str) and url.startswith("https://") else None)
