"""Compliance review (ReviewEditedPosts): the reviewer's queue and decisions.

An approval the employee edited was recorded IN_REVIEW by the consent service, with nothing
scheduled. A reviewer approves it (it is scheduled exactly as approved, through the consent
service's own scheduling step) or rejects it with a note; the employee is told either way. The
reviewer never supplies a text: the decision names the approval and its revision, nothing else.

A decision acts once: it is conditioned on the approval being IN_REVIEW at that revision, so a
double click, a retry, or a decision after the employee cancelled, the content was retracted or
the employee left does nothing (or lapses the approval), and never schedules a post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from chorus import clock
from chorus.domain.approval import Approval, ApprovalStatus
from chorus.domain.content import Content, ContentStatus, Network
from chorus.domain.employee import Employee
from chorus.domain.listing import Page
from chorus.domain.review import (
    ReviewDecision,
    Reviewer,
    ReviewOutcome,
    ReviewRefusal,
    publish_time_after_review,
    review_note,
)
from chorus.domain.timing import QuietHours
from chorus.errors import ChorusError, FieldProblem, InvalidInput, NotFound
from chorus.messages.channel import Notice, NoticeKind
from chorus.observability import logger
from chorus.services.consent import Scheduler, schedule_approved
from chorus.store.reviews import ReviewState

QUEUE_PAGE_SIZE = 20
# Why an approval lapsed (chorus.messages.i18n says it in the employee's language).
LAPSED_CLOSED = "closed"
LAPSED_CHANGED = "changed"
LAPSED_INACTIVE = "employee inactive"


class ReviewRecords(Protocol):
    def queue(self, limit: int, start: dict[str, Any] | None) -> Page[Approval]: ...
    def decision_state(self, employee_id: str, content_id: str, network: Network) -> ReviewState: ...
    def approve(
        self, approval: Approval, reviewer: Reviewer, now: datetime, publish_at: datetime, schedule_name: str
    ) -> ReviewRefusal | None: ...
    def close(
        self, approval: Approval, reviewer: Reviewer, now: datetime, outcome: ReviewOutcome, note: str
    ) -> bool: ...


class DaySlots(Protocol):
    def release_day_slot(self, approval: Approval) -> None: ...


class Notices(Protocol):
    def notify_employee(self, employee: Employee, notice: Notice, *, base_url: str | None = None) -> None: ...


class ReviewResult(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    LAPSED = "lapsed"
    # Decided before (a double click, a retry), or cancelled meanwhile: nothing was done now.
    ALREADY_DECIDED = "already-decided"


@dataclass(frozen=True)
class _Decision:
    """One decision in progress: who, on what (as read), and where the employee's pages are."""

    reviewer: Reviewer
    approval: Approval
    content: Content | None
    employee: Employee | None
    links_base: str | None


@dataclass(frozen=True)
class ReviewRequest:
    """What a reviewer's form names: the approval (its key and revision) and the decision."""

    employee_id: str
    content_id: str
    network: Network
    revision: int
    decision: ReviewDecision
    note: str = ""


class ReviewService:
    def __init__(
        self,
        records: ReviewRecords,
        slots: DaySlots,
        scheduler: Scheduler,
        notices: Notices,
        *,
        quiet_hours: QuietHours | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._records = records
        self._slots = slots
        self._scheduler = scheduler
        self._notices = notices
        self._quiet = quiet_hours
        self._now = now

    def now(self) -> datetime:
        return self._now()

    def queue(self, start: dict[str, Any] | None) -> Page[Approval]:
        """Approvals waiting for review, oldest first, a page at a time."""
        return self._records.queue(QUEUE_PAGE_SIZE, start)

    def decide(self, reviewer: Reviewer, request: ReviewRequest, *, links_base: str | None = None) -> ReviewResult:
        """Acts on the approval the request names; ``links_base`` is where the employee pages are
        (the email's link)."""
        note = review_note(request.note)
        if request.decision is ReviewDecision.REJECT and not note:
            raise InvalidInput("write a note", [FieldProblem("note", "tell the employee why it is not approved")])
        state = self._records.decision_state(request.employee_id, request.content_id, request.network)
        approval = state.approval
        if approval is None:
            raise NotFound("there is no such post")
        if approval.status is not ApprovalStatus.IN_REVIEW or approval.revision != request.revision:
            return ReviewResult.ALREADY_DECIDED
        decision = _Decision(reviewer, approval, state.content, state.employee, links_base)
        if request.decision is ReviewDecision.REJECT:
            if not self._records.close(approval, reviewer, self._now(), ReviewOutcome.REJECTED, note):
                return ReviewResult.ALREADY_DECIDED
            self._slots.release_day_slot(approval)
            self._log("review rejected", approval)
            self._tell(
                decision,
                Notice(NoticeKind.REVIEW_REJECTED, approval.network, approval.content_id, approval.text, note),
            )
            return ReviewResult.REJECTED
        return self._approve(decision)

    def _approve(self, decision: _Decision) -> ReviewResult:
        now = self._now()
        approval, content = decision.approval, decision.content
        if content is None or content.status is not ContentStatus.ACTIVE or content.version != approval.content_version:
            return self._lapse(decision, LAPSED_CHANGED)
        publish_at = publish_time_after_review(
            approval.publish_at, now, approval.timezone, ends_at=content.ends_at, quiet=self._quiet
        )
        if publish_at is None:
            return self._lapse(decision, LAPSED_CLOSED)
        refusal = self._records.approve(approval, decision.reviewer, now, publish_at, approval.schedule_name)
        if refusal is ReviewRefusal.NOT_IN_REVIEW:
            return ReviewResult.ALREADY_DECIDED
        if refusal is ReviewRefusal.EMPLOYEE_INACTIVE:
            return self._lapse(decision, LAPSED_INACTIVE)
        if refusal is ReviewRefusal.CONTENT_CHANGED:
            return self._lapse(decision, LAPSED_CHANGED)
        scheduled = approval.model_copy(update={"status": ApprovalStatus.SCHEDULED, "publish_at": publish_at})
        schedule_approved(self._scheduler, scheduled)
        self._log("review approved", scheduled)
        self._tell(
            decision,
            Notice(NoticeKind.REVIEW_APPROVED, approval.network, approval.content_id, approval.text, until=publish_at),
        )
        return ReviewResult.APPROVED

    def _lapse(self, decision: _Decision, why: str) -> ReviewResult:
        approval = decision.approval
        if not self._records.close(approval, decision.reviewer, self._now(), ReviewOutcome.LAPSED, why):
            return ReviewResult.ALREADY_DECIDED
        self._slots.release_day_slot(approval)
        self._log("review lapsed", approval, why=why)
        if why != LAPSED_INACTIVE:
            self._tell(decision, Notice(NoticeKind.REVIEW_LAPSED, approval.network, approval.content_id, None, why))
        return ReviewResult.LAPSED

    def _tell(self, decision: _Decision, notice: Notice) -> None:
        """The decision is recorded whatever happens to the email: a failed send is logged, and a
        retried decision finds it decided and sends nothing twice. Nobody who left is written to."""
        employee = decision.employee
        if employee is None or not employee.active:
            return
        try:
            self._notices.notify_employee(employee, notice, base_url=decision.links_base)
        except ChorusError:
            logger.exception("review notice not sent", employee_id=employee.employee_id, kind=notice.kind.value)

    @staticmethod
    def _log(message: str, approval: Approval, why: str = "") -> None:
        logger.info(
            message,
            employee_id=approval.employee_id,
            content_id=approval.content_id,
            network=approval.network.value,
            revision=approval.revision,
            why=why,
        )
