"""Slack: how its requests are authenticated, what a button click says, and who chose Slack.

Slack signs every request to our interactivity URL (https://api.slack.com/authentication/verifying-requests-from-slack):
``X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" + raw body)>``.
A request is genuine only if that signature matches the exact bytes received, in constant time,
and its timestamp is within five minutes of our clock; a genuine request seen before is a replay
(the store remembers each signature for those five minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, ValidationError

from chorus.errors import ChorusError

SIGNATURE_VERSION = "v0"
MAX_REQUEST_AGE = timedelta(minutes=5)
# Who was not found in Slack is asked again after this long (they may have joined since).
LOOKUP_RETRY_AFTER = timedelta(days=30)
POST_AS_SHOWN = "post_as_shown"


class SlackRequestRejected(ChorusError):
    """A request that Slack did not sign, that is stale, altered or replayed: nothing is done."""

    http_status = 401
    code = "slack_request_rejected"


class DigestChannel(StrEnum):
    """Where an employee wants their weekly digest."""

    EMAIL = "email"
    SLACK = "slack"
    BOTH = "both"

    @property
    def by_email(self) -> bool:
        return self is not DigestChannel.SLACK

    @property
    def by_slack(self) -> bool:
        return self is not DigestChannel.EMAIL


def signature_of(secret: bytes, timestamp: str, body: bytes) -> str:
    base = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    return f"{SIGNATURE_VERSION}=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def verify_request(secret: bytes, timestamp: str, signature: str, body: bytes, now: datetime) -> None:
    """Refuses (SlackRequestRejected) a request not signed with ``secret`` over these exact bytes,
    or sent more than five minutes from ``now``. Replays are the caller's to refuse."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SlackRequestRejected("missing or malformed request timestamp")
    sent_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - sent_at) > MAX_REQUEST_AGE:
        raise SlackRequestRejected("stale request")
    expected = signature_of(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SlackRequestRejected("bad signature")


class SlackIdentity(BaseModel):
    """Who an employee is in Slack, and how to speak to them (from their profile)."""

    model_config = ConfigDict(frozen=True)

    slack_user_id: str
    locale: str
    timezone: str


class ButtonClick(BaseModel):
    """A click on a "Post as shown" button, as the asynchronous step receives it.

    ``response_url`` lets whoever holds it replace the message: it is never logged."""

    model_config = ConfigDict(frozen=True)

    slack_user_id: str
    token: str
    response_url: str
    # Slack's id for this click (trigger_id): the same click delivered twice is one job.
    click_id: str


class _User(BaseModel):
    id: str


class _Action(BaseModel):
    action_id: str
    value: str = ""


class _Payload(BaseModel):
    type: str
    user: _User
    actions: list[_Action] = []
    response_url: str = ""
    trigger_id: str = ""


def parse_interaction(body: bytes) -> ButtonClick | None:
    """The "Post as shown" click in an interactivity request's body (``payload=<JSON>``, form
    encoded), or None for anything else (the "Edit first" link button also reaches us)."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=True, max_num_fields=4)
        (raw,) = fields["payload"]
        payload = _Payload.model_validate(json.loads(raw))
    except (UnicodeDecodeError, ValueError, KeyError, ValidationError):
        raise SlackRequestRejected("not an interaction payload") from None
    if payload.type != "block_actions" or len(payload.actions) != 1:
        return None
    (action,) = payload.actions
    if action.action_id != POST_AS_SHOWN or not action.value or not payload.response_url.startswith("https://"):
        return None
    return ButtonClick(
        slack_user_id=payload.user.id,
        token=action.value,
        response_url=payload.response_url,
        click_id=payload.trigger_id or hashlib.sha256(body).hexdigest(),
    )
