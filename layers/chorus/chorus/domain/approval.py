"""Consent records: an employee's explicit approval of one exact text for one network.

Nothing is published without one. The record holds the text as approved, its SHA-256, when and
where it goes, and how the approval was given (time, time zone, user agent).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from chorus.domain.content import Network


class ApprovalStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    PUBLISHING = "PUBLISHING"
    PUBLISHED = "PUBLISHED"
    FAILED = "FAILED"
    NEEDS_RECONNECT = "NEEDS_RECONNECT"
    CANCELLED = "CANCELLED"
    RETRACTED = "RETRACTED"


# Statuses from which the employee may approve the same content for the same network again:
# a new, explicit approval (new revision) is the only way a post that did not go out is retried.
REAPPROVABLE = frozenset({ApprovalStatus.CANCELLED, ApprovalStatus.FAILED, ApprovalStatus.NEEDS_RECONNECT})
# Statuses in which the post is still waiting to go out (and can be cancelled).
PENDING = frozenset({ApprovalStatus.SCHEDULED})


class When(StrEnum):
    NOW = "now"
    AT = "at"
    SPREAD = "spread"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def approval_id_for(employee_id: str, content_id: str, network: Network) -> str:
    return "a-" + hashlib.sha256(f"{employee_id}\x00{content_id}\x00{network.value}".encode()).hexdigest()[:24]


def schedule_name_for(approval_id: str, revision: int, attempt: int = 0) -> str:
    """Unique per approval revision (a stale schedule of a cancelled approval never matches) and
    per retry attempt (a fired one-time schedule deletes itself, a retry needs a new one)."""
    return f"{approval_id}-r{revision}" + (f"-a{attempt}" if attempt else "")


class Approval(BaseModel):
    model_config = ConfigDict(frozen=True)

    approval_id: str
    employee_id: str
    content_id: str
    network: Network
    text: str
    text_sha256: str
    publish_at: datetime
    timezone: str
    when: When
    status: ApprovalStatus
    revision: int = 1
    # Publish attempts of this revision that ended in a retryable failure (rate limit, outage).
    attempt: int = 0
    schedule_name: str
    approved_at: datetime
    user_agent: str = ""
    cancelled_at: datetime | None = None
    # Unique human clicks on the post's tracked link (counted by the scoring function).
    clicks: int = 0
    external_post_id: str | None = None
    external_post_url: str | None = None
    failure_reason: str | None = None

    @property
    def cancellable(self) -> bool:
        return self.status in PENDING


class Decline(BaseModel):
    model_config = ConfigDict(frozen=True)

    employee_id: str
    content_id: str
    reason: str = ""
    declined_at: datetime
