"""X API v2 (`POST /2/tweets`) with an OAuth 2.0 user-context token.

The body is `{"text": <approved text> + " " + <link>}` and nothing else; it validates against
`CreatePostsRequest` in the pinned OpenAPI document (tests check it).

Allowances: besides the endpoint's window (`x-rate-limit-*`: 100 posts per 15 minutes per user),
creating posts counts against 24-hour allowances of the app (10,000 per 24 hours,
docs.x.com/x-api/fundamentals/rate-limits) and, on some access levels, of each user. Answers
report them as `x-app-limit-24hour-limit`/`-remaining`/`-reset` and
`x-user-limit-24hour-limit`/`-remaining`/`-reset` (reset: epoch seconds). Every answer's 24-hour
figures go back to the publisher as `Quota`s: it stops before the app's allowance runs out and
resumes at its reset, and waits for the user's reset when that one is spent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from chorus.adapters.networks.http import (
    DEFAULT_TIMEOUT,
    Clock,
    CredentialsLike,
    Timeout,
    classify,
    encode_json,
    failure,
    json_body,
    network_message,
    require_token,
    seconds_from_retry_after,
    seconds_until_epoch,
    send,
)
from chorus.clock import timestamp
from chorus.domain.networks import Network, profile_of
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed, Quota, QuotaScope

TWEETS_URL = "https://api.x.com/2/tweets"
NETWORK = "x"
# How X counts (twitter-text v3 weighted length) and where the link goes: chorus.domain.lengths.
LENGTH_RULE = profile_of(Network.X).length_rule
_POST_ID = re.compile(r"^[0-9]{1,19}$")
# X answers a repeated post with 403 and only this sentence to tell it apart (no error code).
_DUPLICATE = re.compile(r"duplicate content", re.IGNORECASE)
# A 24-hour allowance resets within a day; an hour more for clocks that disagree.
_DAY_AND_SLACK = 25 * 60 * 60


def post_text(post: PostRequest) -> str:
    """The approved text, byte for byte, then one space and the link."""
    return LENGTH_RULE.compose(post.text, post.link)


class XPublisher:
    def __init__(
        self,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        clock: Clock = timestamp,
    ) -> None:
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout
        self._clock = clock

    def body(self, post: PostRequest) -> dict[str, Any]:
        return {"text": post_text(post)}

    def publish(self, post: PostRequest, credentials: CredentialsLike | None) -> Published:
        token = require_token(credentials, NETWORK)
        length = LENGTH_RULE.length(post_text(post))
        if length > LENGTH_RULE.limit:
            # X would refuse it (403): say why without sending it.
            raise PublishFailed(
                FailureKind.REJECTED, f"{NETWORK}: the post is {length} characters as X counts them; X allows 280"
            )
        response = send(
            self._session,
            "POST",
            TWEETS_URL,
            network=NETWORK,
            timeout=self._timeout,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            body=encode_json(self.body(post), NETWORK),
        )
        now = self._clock()
        quotas = daily_quotas(response.headers, now)
        if 200 <= response.status_code < 300:
            post_id = _created_id(json_body(response))
            if post_id is None:
                # The post may exist: a retry then meets X's duplicate check rather than a second post.
                raise PublishFailed(FailureKind.TRANSIENT, f"{NETWORK}: success without a post id", quotas=quotas)
            return Published(external_id=post_id, url=f"https://x.com/i/web/status/{post_id}", quotas=quotas)
        message = network_message(response)
        if response.status_code == 403 and _DUPLICATE.search(message):
            raise failure(FailureKind.DUPLICATE, NETWORK, message, token)
        retry_after = seconds_until_epoch(response.headers.get("x-rate-limit-reset"), now)
        if retry_after is None:
            retry_after = seconds_from_retry_after(response.headers.get("Retry-After"), now)
        raise classify(response, network=NETWORK, token=token, retry_after=retry_after, quotas=quotas)


def daily_quotas(headers: Mapping[str, str], now: float) -> tuple[Quota, ...]:
    """The app's and the user's 24-hour allowances an answer reports (none when it reports none,
    or reports them unreadably: a reset in the past or more than a day ahead)."""
    quotas = []
    for scope, prefix in ((QuotaScope.APP, "x-app-limit-24hour"), (QuotaScope.USER, "x-user-limit-24hour")):
        remaining, reset = headers.get(f"{prefix}-remaining", ""), headers.get(f"{prefix}-reset", "")
        if not (remaining.strip().isdigit() and reset.strip().isdigit()):
            continue
        if not now < int(reset) <= now + _DAY_AND_SLACK:
            continue
        limit = headers.get(f"{prefix}-limit", "").strip()
        quotas.append(
            Quota(
                scope=scope,
                remaining=int(remaining),
                resets_at=datetime.fromtimestamp(int(reset), UTC),
                limit=int(limit) if limit.isdigit() else None,
            )
        )
    return tuple(quotas)


def _created_id(body: Any) -> str | None:
    data = body.get("data") if isinstance(body, Mapping) else None
    post_id = data.get("id") if isinstance(data, Mapping) else None
    return post_id if isinstance(post_id, str) and _POST_ID.match(post_id) else None
