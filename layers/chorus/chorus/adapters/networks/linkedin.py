"""LinkedIn Posts API (`POST /rest/posts`): an article share on the member's own feed.

The `commentary` field is in LinkedIn's "little" text format: `\\ | { } @ [ ] ( ) < > # * _ ~`
are reserved and must be backslash-escaped, otherwise LinkedIn silently truncates the post at
the first one or turns it into a mention or hashtag. We escape every one of them, so the post
reads exactly as approved (a `#tag` shows as typed, as plain text).

Versions: every call names a monthly `LinkedIn-Version` (YYYYMM). LinkedIn supports each one for
at least a year, then answers 426 NONEXISTENT_VERSION ("Requested version 20241101 is not
active"). That is the operator's to fix (deploy a newer `LinkedInVersion`), never the
employee's: the publisher keeps such a post waiting and raises an alarm. Sunset dates are
published at https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations
(versioning policy: https://learn.microsoft.com/en-us/linkedin/marketing/versioning).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
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
    send,
)
from chorus.clock import timestamp
from chorus.domain.lengths import LITTLE_TEXT_RESERVED
from chorus.domain.networks import Network, profile_of
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed

POSTS_URL = "https://api.linkedin.com/rest/posts"
# The newest Marketing version we could check was released (July 2026: published as the latest
# version in August 2026), so the one with the longest runway: supported until about July 2027.
DEFAULT_VERSION = "202607"
NETWORK = "linkedin"
# Sunset dates LinkedIn has published (migrations page, checked 2026-11-29). LinkedIn skips some
# months (there is no 202512), and the day varies from the 15th to the 22nd.
PUBLISHED_SUNSETS: dict[str, date] = {
    "202407": date(2025, 7, 22),
    "202408": date(2025, 8, 18),
    "202409": date(2025, 9, 15),
    "202410": date(2025, 10, 15),
    "202411": date(2025, 11, 17),
    "202510": date(2026, 10, 15),
    "202511": date(2026, 11, 16),
    "202601": date(2027, 1, 15),
    "202602": date(2027, 2, 15),
    "202603": date(2027, 3, 16),
}
# The 426 body: {"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version ... is not active"}
_RETIRED_VERSION = 426

_RESERVED = re.compile("([" + re.escape("".join(sorted(LITTLE_TEXT_RESERVED))) + "])")
# LinkedIn's limit applies to the commentary as sent, escaped (chorus.domain.lengths).
LENGTH_RULE = profile_of(Network.LINKEDIN).length_rule
_VERSION = re.compile(r"^20[0-9]{2}(0[1-9]|1[0-2])$")
_MEMBER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_POST_URN = re.compile(r"^urn:li:(share|ugcPost):[0-9]{1,30}$")


def linkedin_version_sunset(version: str) -> date:
    """The last day LinkedIn may serve `version`: the published sunset date when there is one,
    otherwise the earliest its policy allows (a year after release, on the 15th)."""
    if not _VERSION.match(version):
        raise ValueError("LinkedIn-Version must be YYYYMM")
    published = PUBLISHED_SUNSETS.get(version)
    if published is not None:
        return published
    return date(int(version[:4]) + 1, int(version[4:]), 15)


def escape_little_text(text: str) -> str:
    """Plain text -> little text that LinkedIn renders as exactly that plain text."""
    return _RESERVED.sub(r"\\\1", text)


class LinkedInPublisher:
    def __init__(
        self,
        session: requests.Session | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        version: str = DEFAULT_VERSION,
        clock: Clock = timestamp,
    ) -> None:
        if not _VERSION.match(version):
            raise ValueError("LinkedIn-Version must be YYYYMM")
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout
        self._version = version
        self._clock = clock

    def body(self, post: PostRequest, member_id: str) -> dict[str, Any]:
        return {
            "author": f"urn:li:person:{member_id}",
            "commentary": escape_little_text(post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": {"source": post.link, "title": post.title}},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    def publish(self, post: PostRequest, credentials: CredentialsLike | None) -> Published:
        token = require_token(credentials, NETWORK)
        member_id = credentials.member_id if credentials is not None else None
        if not member_id or not _MEMBER_ID.match(member_id):
            raise PublishFailed(FailureKind.UNAUTHORIZED, f"{NETWORK}: the connection is incomplete, reconnect")
        if not LENGTH_RULE.fits(post.text):
            # LinkedIn would answer 422 (or cut the post): say why without sending it.
            length = LENGTH_RULE.length(post.text)
            raise PublishFailed(
                FailureKind.REJECTED,
                f"{NETWORK}: the text is {length} characters once escaped; LinkedIn allows {LENGTH_RULE.limit}",
            )
        response = send(
            self._session,
            "POST",
            POSTS_URL,
            network=NETWORK,
            timeout=self._timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "LinkedIn-Version": self._version,
                "X-Restli-Protocol-Version": "2.0.0",
                "Content-Type": "application/json",
            },
            body=encode_json(self.body(post, member_id), NETWORK),
        )
        if 200 <= response.status_code < 300:
            urn = response.headers.get("x-restli-id", "")
            if not _POST_URN.match(urn):
                # The post may exist: a retry then meets DUPLICATE_POST rather than a second post.
                raise PublishFailed(FailureKind.TRANSIENT, f"{NETWORK}: success without a post id")
            return Published(external_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")
        if response.status_code == 422 and _is_duplicate(json_body(response)):
            raise failure(FailureKind.DUPLICATE, NETWORK, network_message(response), token)
        if response.status_code == _RETIRED_VERSION:
            message = f"LinkedIn-Version {self._version} is not served any more ({network_message(response)})"
            raise failure(FailureKind.OPERATOR, NETWORK, message, token)
        retry_after = seconds_from_retry_after(response.headers.get("Retry-After"), self._clock())
        raise classify(response, network=NETWORK, token=token, retry_after=retry_after)


def _is_duplicate(body: Any) -> bool:
    """LinkedIn's 422: {"errorDetails": {"inputErrors": [{"code": "DUPLICATE_POST", ...}]}, ...}."""
    if not isinstance(body, Mapping):
        return False
    if body.get("code") == "DUPLICATE_POST":
        return True
    details = body.get("errorDetails")
    errors = details.get("inputErrors") if isinstance(details, Mapping) else None
    if not isinstance(errors, list):
        return False
    return any(isinstance(error, Mapping) and error.get("code") == "DUPLICATE_POST" for error in errors)
