"""The consent ledger as an admin or an auditor reads it: each approval as recorded, with what
became of it. Nothing here is computed from the text: the hashes are the ones recorded when the
employee approved, so what is shown can be checked against the text, never the other way round."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

from chorus.domain.approval import Approval, ApprovalStatus
from chorus.errors import FieldProblem, InvalidInput

EMPLOYEE_ID = re.compile(r"^e-[0-9a-f]{20}$")
CONTENT_ID = re.compile(r"^c-[0-9a-f]{20}$")
MAX_QUERY = 320


class SearchBy(StrEnum):
    EMPLOYEE = "employee"
    CONTENT = "content"


class LedgerSearch(BaseModel):
    """Approvals of one employee (by address or id) or of one content item (by id)."""

    model_config = ConfigDict(frozen=True)

    by: SearchBy
    value: str

    @classmethod
    def parse(cls, by: str, raw: str) -> LedgerSearch:
        value = raw.strip()
        if by not in {SearchBy.EMPLOYEE.value, SearchBy.CONTENT.value}:
            raise InvalidInput("bad search", [FieldProblem("by", "must be employee or content")])
        if not value or len(value) > MAX_QUERY:
            raise InvalidInput("bad search", [FieldProblem("q", f"must be 1 to {MAX_QUERY} characters")])
        if by == SearchBy.CONTENT.value and not CONTENT_ID.match(value):
            raise InvalidInput("bad search", [FieldProblem("q", "a content id looks like c- and 20 hex digits")])
        if by == SearchBy.EMPLOYEE.value and "@" not in value and not EMPLOYEE_ID.match(value):
            raise InvalidInput(
                "bad search", [FieldProblem("q", "is an email address, or an employee id (e- and 20 hex digits)")]
            )
        return cls(by=SearchBy(by), value=value.lower() if "@" in value else value)

    @property
    def email(self) -> str | None:
        return self.value if self.by is SearchBy.EMPLOYEE and "@" in self.value else None


class Outcome(StrEnum):
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    RETRACTED = "retracted"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    # Compliance review (ReviewEditedPosts): waiting for a reviewer, or refused by one.
    IN_REVIEW = "waiting for review"
    REJECTED = "rejected in review"


OUTCOMES = {
    ApprovalStatus.SCHEDULED: Outcome.SCHEDULED,
    ApprovalStatus.PUBLISHING: Outcome.PUBLISHING,
    ApprovalStatus.PUBLISHED: Outcome.PUBLISHED,
    ApprovalStatus.CANCELLED: Outcome.CANCELLED,
    ApprovalStatus.RETRACTED: Outcome.RETRACTED,
    ApprovalStatus.FAILED: Outcome.FAILED,
    ApprovalStatus.NEEDS_RECONNECT: Outcome.FAILED,
    ApprovalStatus.UNCONFIRMED: Outcome.UNCONFIRMED,
    ApprovalStatus.IN_REVIEW: Outcome.IN_REVIEW,
    ApprovalStatus.REJECTED: Outcome.REJECTED,
}


class LedgerEntry(BaseModel):
    """One approval (one network of one content item) as the ledger holds it now.

    ``pseudonymised_at``: erasure or the ledger's retention took the words (text, user agent,
    time zone, the post's address) and kept the proof: the hashes, times, channel and outcome."""

    model_config = ConfigDict(frozen=True)

    approval: Approval
    pseudonymised_at: datetime | None = None

    @property
    def outcome(self) -> Outcome:
        return OUTCOMES[self.approval.status]

    @property
    def local_time(self) -> datetime | None:
        """The approval time on the employee's clock (their time zone as recorded), if known."""
        if self.pseudonymised_at is not None:
            return None
        try:
            return self.approval.approved_at.astimezone(ZoneInfo(self.approval.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            return None
