"""What goes into each employee's weekly digest, and the batches the planner hands the sender."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.content import Content, ContentStatus
from chorus.domain.employee import Employee
from chorus.domain.slack import DigestChannel
from chorus.domain.timing import Week, overlaps

# Employees per SQS message. The message carries content ids, never content (the sender reads the
# content once per batch): 50 recipients make about 20 KB, and each batch costs the sender two
# calls besides the two per recipient (one BatchGetItem, one run-counter update), 0.04 a recipient.
EMPLOYEES_PER_BATCH = 50
# A batch is also closed before its body passes this many bytes (recipients with long names or
# many content items): the DigestQueue's MaximumMessageSize (64 KiB) is never approached.
BATCH_BODY_BUDGET = 48 * 1024
# The DigestQueue's MaximumMessageSize, set in template.yaml to the same value.
DIGEST_MESSAGE_LIMIT = 64 * 1024


def activities_for(employee: Employee, contents: Iterable[Content], week: Week) -> list[Content]:
    """Content active this week, meant for one of the employee's groups, whose current version the
    employee has not decided on yet (a changed item comes back to review again)."""
    chosen: list[Content] = []
    groups = set(employee.groups)
    for content in contents:
        if content.status is not ContentStatus.ACTIVE:
            continue
        if not overlaps(content.starts_at, content.ends_at, week):
            continue
        if content.groups and not groups.intersection(content.groups):
            continue
        if employee.has_decided(content.content_id, content.version):
            continue
        chosen.append(content)
    return chosen


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    employee_id: str
    email: str
    name: str
    locale: str
    timezone: str
    content_ids: list[str]
    # Last week's impact (points, visits), shown at the top of the digest when there was some.
    last_week_points: int = 0
    last_week_clicks: int = 0
    # Slack: where they want the digest, their Slack user, when we last looked them up.
    digest_channel: DigestChannel = DigestChannel.EMAIL
    slack_user_id: str | None = None
    slack_checked_at: datetime | None = None


class DigestBatch(BaseModel):
    """One SQS message: up to EMPLOYEES_PER_BATCH recipients and the ids of their content."""

    model_config = ConfigDict(frozen=True)

    week_id: str
    week_start: datetime
    week_end: datetime
    recipients: list[Recipient]

    def content_ids(self) -> list[str]:
        """Every content id the batch's recipients need, each once, in first-seen order."""
        return list(dict.fromkeys(content_id for recipient in self.recipients for content_id in recipient.content_ids))


class PlanPage(BaseModel):
    """One SQS message of the plan queue: plan the roster page that starts at ``start``.

    The planner handles one page per message and queues the next page's message, so no
    invocation holds more than one roster page, whatever the roster's size. ``run_id`` names one
    request to send the week's digest; (run_id, page) is claimed once, so a redelivered or
    duplicated page message plans nothing twice and a chain never forks.
    """

    model_config = ConfigDict(frozen=True)

    week_id: str
    run_id: str
    page: int = Field(ge=0)
    start: dict[str, Any] | None = None


class PageClaim(enum.Enum):
    CLAIMED = "claimed"  # this message plans the page (first time, or again after failing)
    DONE = "done"  # the page was planned already: nothing to do
    TAKEN = "taken"  # another message (a duplicate) is planning it


@dataclass(frozen=True)
class PageCounts:
    employees: int
    recipients: int
    unsubscribed: int
    nothing_to_share: int
    last: bool


@dataclass(frozen=True)
class DigestRun:
    """One week's digest as it stands: every request to send it, and what the senders did.

    Planning is counted page by page: ``runs_planned`` equals ``requests`` once every request's
    last roster page is planned. ``sent`` is exact (each send is claimed once per employee and
    week). ``already_sent`` counts the times a sender skipped someone who had this week's
    digest: a second request for the week, or a batch SQS delivered again. ``failed`` counts
    failed sends; SQS delivers their batch again, so a later success also counts in ``sent``.
    """

    week_id: str
    requests: int = 0
    # Planning, counted once per roster page when the page is done.
    pages: int = 0
    employees: int = 0
    unsubscribed: int = 0
    nothing_to_share: int = 0
    runs_planned: int = 0
    queued: int = 0
    sent: int = 0
    already_sent: int = 0
    failed: int = 0
    first_requested_at: datetime | None = None
    last_requested_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "week_id": self.week_id,
            "requests": self.requests,
            "planning": {
                "runs_planned": self.runs_planned,
                "pages": self.pages,
                "employees": self.employees,
                "not_queued": {"unsubscribed": self.unsubscribed, "nothing_to_share": self.nothing_to_share},
            },
            "queued": self.queued,
            "sent": self.sent,
            "skipped": {"already_sent": self.already_sent},
            "failed": self.failed,
            "first_requested_at": self.first_requested_at.isoformat() if self.first_requested_at else None,
            "last_requested_at": self.last_requested_at.isoformat() if self.last_requested_at else None,
        }
