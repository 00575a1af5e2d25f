"""Consent records: an employee's explicit approval of one exact post for one network.

Nothing is published without one. The record holds a snapshot of everything the post carries
(the text as approved, the link target, the title, the image) and their SHA-256, the content
version the employee saw, when and where it goes, and how the approval was given (time, time
zone, user agent). The publisher posts the snapshot and nothing read later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from chorus.domain.content import Content, Network
from chorus.errors import Conflict


class ApprovalStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    PUBLISHING = "PUBLISHING"
    PUBLISHED = "PUBLISHED"
    FAILED = "FAILED"
    NEEDS_RECONNECT = "NEEDS_RECONNECT"
    CANCELLED = "CANCELLED"
    RETRACTED = "RETRACTED"
    # The publisher stopped while the network had the post, on a network that takes no
    # idempotency key: it may or may not have gone out, and it is never sent again blindly.
    # The employee is asked to check their profile, and may approve it again.
    UNCONFIRMED = "UNCONFIRMED"
    # ReviewEditedPosts: the employee approved a text they edited; nothing is scheduled until a
    # reviewer approves it (then SCHEDULED, exactly this snapshot) or rejects it (REJECTED).
    IN_REVIEW = "IN_REVIEW"
    REJECTED = "REJECTED"


# Statuses from which the employee may approve the same content for the same network again:
# a new, explicit approval (new revision) is the only way a post that did not go out is retried.
# A rejected revision never goes out; the employee may rewrite and approve again (a new revision).
REAPPROVABLE = frozenset(
    {
        ApprovalStatus.CANCELLED,
        ApprovalStatus.FAILED,
        ApprovalStatus.NEEDS_RECONNECT,
        ApprovalStatus.UNCONFIRMED,
        ApprovalStatus.REJECTED,
    }
)
# Statuses in which the post is still waiting to go out (and can be cancelled).
PENDING = frozenset({ApprovalStatus.SCHEDULED, ApprovalStatus.IN_REVIEW})


# Why a post was cancelled without the employee pressing Cancel.
EMPLOYEE_INACTIVE = "employee no longer active"


class ContentUnavailable(Conflict):
    """The content was retracted, or the chosen time is outside its window."""

    http_status = 410
    code = "content_unavailable"


class AlreadyDecided(Conflict):
    code = "already_decided"


class ContentChanged(Conflict):
    """The content is not the version the employee's page showed: nothing was recorded."""

    code = "content_changed"


class DailyLimitReached(Conflict):
    """The company caps posts per employee per network per day."""

    http_status = 422
    code = "daily_limit"


class When(StrEnum):
    NOW = "now"
    AT = "at"
    SPREAD = "spread"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PostSnapshot:
    """Everything a post carries, frozen at approval time."""

    text: str
    link_url: str
    title: str
    image_url: str | None = None
    # Not posted, but the tracked link records it for click reports.
    campaign: str = ""

    def sha256(self) -> str:
        """Hash of a canonical form of what is posted (versioned, so the form can evolve)."""
        canonical = json.dumps(
            {"v": 1, "text": self.text, "link": self.link_url, "title": self.title, "image": self.image_url},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def snapshot_of(content: Content, text: str) -> PostSnapshot:
    """The post an employee approves: their own text, and this content version's link (with its
    query, exactly as uploaded), title and image."""
    return PostSnapshot(
        text=text, link_url=content.url, title=content.title, image_url=content.image_url, campaign=content.campaign
    )


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
    # Publish attempts of this revision that ended in a retryable failure (rate limit, outage),
    # waited for a network's quota, or were taken over after their invocation stopped.
    attempt: int = 0
    # The kind of the last retryable failure (chorus.domain.publishing.FailureKind).
    last_failure: str | None = None
    # While PUBLISHING: when the attempt started, and when its invocation is certainly over (the
    # lease); past it, the sweeper finds the post and the publisher decides what it may do.
    publishing_at: datetime | None = None
    lease_until: datetime | None = None
    schedule_name: str
    approved_at: datetime
    user_agent: str = ""
    # Where the employee approved: "page" (the approval page) or "slack" (a "Post as shown" button).
    channel: str = "page"
    cancelled_at: datetime | None = None
    # Unique human clicks on the post's tracked link (counted by the scoring function).
    clicks: int = 0
    external_post_id: str | None = None
    external_post_url: str | None = None
    failure_reason: str | None = None
    cancel_reason: str | None = None
    # The snapshot (see PostSnapshot). None only on approvals recorded before snapshots existed:
    # the publisher then publishes only if the content provably did not change since.
    link_url: str | None = None
    title: str | None = None
    image_url: str | None = None
    campaign: str | None = None
    content_version: int | None = None
    snapshot_sha256: str | None = None
    # ReviewEditedPosts: the text the employee was offered (what the reviewer compares with), and
    # the reviewer's decision: who (the console session's subject and name), when, the outcome
    # (chorus.domain.review.ReviewOutcome) and the note told to the employee.
    offered_text: str | None = None
    reviewed_at: datetime | None = None
    reviewer_subject: str | None = None
    reviewer_name: str | None = None
    review_outcome: str | None = None
    review_note: str | None = None

    @property
    def cancellable(self) -> bool:
        return self.status in PENDING

    def snapshot(self) -> PostSnapshot | None:
        """The approved post, or None if this approval has no (intact) snapshot."""
        if self.snapshot_sha256 is None or self.link_url is None or self.title is None:
            return None
        snapshot = PostSnapshot(
            text=self.text,
            link_url=self.link_url,
            title=self.title,
            image_url=self.image_url,
            campaign=self.campaign or "",
        )
        if snapshot.sha256() != self.snapshot_sha256 or text_sha256(self.text) != self.text_sha256:
            return None
        return snapshot

    def with_snapshot(self, snapshot: PostSnapshot, content_version: int | None) -> Approval:
        return self.model_copy(
            update={
                "text": snapshot.text,
                "text_sha256": text_sha256(snapshot.text),
                "link_url": snapshot.link_url,
                "title": snapshot.title,
                "image_url": snapshot.image_url,
                "campaign": snapshot.campaign,
                "content_version": content_version,
                "snapshot_sha256": snapshot.sha256(),
            }
        )


class Decline(BaseModel):
    model_config = ConfigDict(frozen=True)

    employee_id: str
    content_id: str
    reason: str = ""
    declined_at: datetime
    # The content version declined; None on declines recorded before versions were kept.
    content_version: int | None = None
