"""The weekly digest: plan who gets what (planner), then send each email once (sender)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chorus import clock
from chorus.domain.content import Content
from chorus.domain.digest import EMPLOYEES_PER_BATCH, DigestBatch, DigestRun, Recipient, activities_for
from chorus.domain.employee import Employee
from chorus.domain.magic_links import (
    ME_LIFETIME,
    ME_SCOPE,
    UNSUBSCRIBE_LIFETIME,
    UNSUBSCRIBE_SCOPE,
    KeyRing,
    activity_link_expiry,
    activity_scope,
    sign_link,
)
from chorus.domain.scoring import week_key
from chorus.domain.timing import Week, overlaps, week_of
from chorus.errors import StoreError
from chorus.messages.channel import Addressee, Channel, Digest, DigestItem
from chorus.observability import DIGESTS_FAILED, DIGESTS_SENT, DIGESTS_SKIPPED, count, logger

ROSTER_PAGE_SIZE = 500
CONTENT_PAGE_SIZE = 100
# Digest markers outlive the week they stand for, then TTL removes them.
MARKER_LIFETIME = timedelta(days=60)
# A week's run record (requests and counts) is the history of sends: kept for a year and more.
RUN_LIFETIME = timedelta(days=400)


class _Page[T](Protocol):
    @property
    def items(self) -> list[T]: ...
    @property
    def next_token(self) -> dict[str, Any] | None: ...


class Listings(Protocol):
    def list_active_content(self, limit: int, start: dict[str, Any] | None = None) -> _Page[Content]: ...
    def active_roster_page(self, limit: int, start: dict[str, Any] | None = None) -> _Page[Employee]: ...


class BatchQueue(Protocol):
    def send_all(self, bodies: Sequence[str]) -> int: ...


class DigestMarks(Protocol):
    def claim_digest(self, employee_id: str, week_id: str, expires_at: datetime) -> bool: ...
    def release_digest(self, employee_id: str, week_id: str) -> None: ...


class DigestRuns(Protocol):
    def record_plan(self, week_id: str, queued: int, now: datetime, expires_at: datetime) -> DigestRun: ...
    def record_sends(
        self, week_id: str, *, sent: int, already_sent: int, failed: int, expires_at: datetime
    ) -> None: ...
    def run(self, week_id: str) -> DigestRun: ...


class KeyRingSource(Protocol):
    def key_ring(self) -> KeyRing: ...


def _pages[T](fetch: Callable[[dict[str, Any] | None], _Page[T]]) -> Iterator[T]:
    token: dict[str, Any] | None = None
    while True:
        page = fetch(token)
        yield from page.items
        token = page.next_token
        if not token:
            return


@dataclass(frozen=True)
class PlanSummary:
    """What one request to send the week's digest did, and the week's run as it stood after it."""

    week_id: str
    employees: int
    recipients: int
    batches: int
    unsubscribed: int
    nothing_to_share: int
    week: DigestRun

    def as_json(self) -> dict[str, Any]:
        earlier = self.week.sent
        note = (
            f"{self.recipients} recipients queued. Each employee gets one digest a week: "
            f"{earlier} already went out this week, and whoever already has it is skipped, not "
            "sent twice. The week's counts grow as batches are sent (GET /admin/digests)."
            if earlier
            else f"{self.recipients} recipients queued; each gets this week's digest once."
        )
        return {
            "week_id": self.week_id,
            "employees": self.employees,
            "recipients": self.recipients,
            "batches": self.batches,
            "not_queued": {"unsubscribed": self.unsubscribed, "nothing_to_share": self.nothing_to_share},
            "week": self.week.as_json(),
            "note": note,
        }


class DigestPlanner:
    def __init__(self, listings: Listings, queue: BatchQueue, *, runs: DigestRuns, timezone: str) -> None:
        self._listings = listings
        self._queue = queue
        self._runs = runs
        self._timezone = timezone

    def week(self, now: datetime, week_id: str | None = None) -> DigestRun:
        """A week's run (this week's by default): requests, sent, skipped, failed."""
        return self._runs.run(week_id or week_of(now, self._timezone).week_id)

    def plan(self, now: datetime) -> PlanSummary:
        week = week_of(now, self._timezone)
        last_week = week_key(now - timedelta(days=7))
        contents = [
            content
            for content in _pages(lambda token: self._listings.list_active_content(CONTENT_PAGE_SIZE, token))
            if overlaps(content.starts_at, content.ends_at, week)
        ]
        employees = 0
        recipients = 0
        unsubscribed = 0
        nothing_to_share = 0
        bodies: list[str] = []
        pending: list[tuple[Recipient, list[Content]]] = []
        for employee in _pages(lambda token: self._listings.active_roster_page(ROSTER_PAGE_SIZE, token)):
            employees += 1
            if not employee.wants_digest():
                unsubscribed += 1
                continue
            chosen = activities_for(employee, contents, week)
            if not chosen:
                nothing_to_share += 1
                continue
            recipients += 1
            pending.append((_recipient(employee, chosen, last_week), chosen))
            if len(pending) == EMPLOYEES_PER_BATCH:
                bodies.append(_batch(week, pending).model_dump_json())
                pending = []
        if pending:
            bodies.append(_batch(week, pending).model_dump_json())
        if bodies:
            self._queue.send_all(bodies)
        run = self._runs.record_plan(week.week_id, recipients, now, week.end + RUN_LIFETIME)
        summary = PlanSummary(week.week_id, employees, recipients, len(bodies), unsubscribed, nothing_to_share, run)
        logger.info(
            "digest planned",
            week_id=week.week_id,
            employees=employees,
            recipients=recipients,
            batches=len(bodies),
            contents=len(contents),
            unsubscribed=unsubscribed,
            nothing_to_share=nothing_to_share,
            sent_before=run.sent,
        )
        return summary


def _recipient(employee: Employee, chosen: list[Content], last_week: str) -> Recipient:
    impact = employee.impact.get(last_week, {})
    return Recipient(
        last_week_points=impact.get("points", 0),
        last_week_clicks=impact.get("clicks", 0),
        employee_id=employee.employee_id,
        email=employee.email,
        name=employee.name,
        locale=employee.locale,
        timezone=employee.timezone,
        content_ids=[content.content_id for content in chosen],
    )


def _batch(week: Week, pending: list[tuple[Recipient, list[Content]]]) -> DigestBatch:
    contents = {content.content_id: content for _, chosen in pending for content in chosen}
    return DigestBatch(
        week_id=week.week_id,
        week_start=week.start,
        week_end=week.end,
        recipients=[recipient for recipient, _ in pending],
        contents=contents,
    )


class Pacer:
    """Spaces calls so this sender never exceeds its share of the SES send rate."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("the send rate must be positive")
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0

    def wait(self) -> None:
        now = self._clock()
        if now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self._interval


class SendFailed(Exception):
    """Some recipients of a batch could not be sent to; a redelivery retries only them."""


@dataclass(frozen=True)
class Links:
    base_url: str

    def activity(self, token: str) -> str:
        return f"{self.base_url}/a/{token}"

    def me(self, token: str) -> str:
        return f"{self.base_url}/me?t={token}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.base_url}/unsubscribe?t={token}"


class DigestSender:
    def __init__(
        self,
        marks: DigestMarks,
        channel: Channel,
        keys: KeyRingSource,
        pacer: Pacer,
        *,
        runs: DigestRuns,
        links: Links,
        marker_lifetime: timedelta = MARKER_LIFETIME,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._marker_lifetime = marker_lifetime
        self._marks = marks
        self._runs = runs
        self._channel = channel
        self._keys = keys
        self._pacer = pacer
        self._links = links
        self._now = now

    def send_batch(self, batch: DigestBatch) -> int:
        """Sends each recipient's digest unless already sent this week; returns how many were sent."""
        sent = 0
        failures = 0
        already_sent = 0
        for recipient in batch.recipients:
            expires_at = batch.week_end + self._marker_lifetime
            if not self._marks.claim_digest(recipient.employee_id, batch.week_id, expires_at):
                logger.info("digest already sent", employee_id=recipient.employee_id, week_id=batch.week_id)
                already_sent += 1
                continue
            try:
                self._pacer.wait()
                self._channel.send_digest(self._digest(batch, recipient))
            except Exception:
                # Undo the claim so the redelivered message sends this one; the others stay sent.
                self._marks.release_digest(recipient.employee_id, batch.week_id)
                logger.exception("digest not sent", employee_id=recipient.employee_id, week_id=batch.week_id)
                failures += 1
                continue
            sent += 1
        logger.info("digest batch done", week_id=batch.week_id, sent=sent, already_sent=already_sent, failed=failures)
        count({DIGESTS_SENT: sent, DIGESTS_SKIPPED: already_sent, DIGESTS_FAILED: failures})
        self._count(batch, sent=sent, already_sent=already_sent, failed=failures)
        if failures:
            raise SendFailed(f"{failures} of {len(batch.recipients)} digests failed")
        return sent

    def _count(self, batch: DigestBatch, *, sent: int, already_sent: int, failed: int) -> None:
        """The week's counters; a count that cannot be written is logged, the emails stay sent."""
        try:
            self._runs.record_sends(
                batch.week_id,
                sent=sent,
                already_sent=already_sent,
                failed=failed,
                expires_at=batch.week_end + RUN_LIFETIME,
            )
        except StoreError:
            logger.exception("digest counts not recorded", week_id=batch.week_id, sent=sent)

    def _digest(self, batch: DigestBatch, recipient: Recipient) -> Digest:
        ring = self._keys.key_ring()
        now = self._now()
        items = []
        for content_id in recipient.content_ids:
            content = batch.contents[content_id]
            token = sign_link(
                ring, recipient.employee_id, activity_scope(content_id), activity_link_expiry(now, content.ends_at)
            )
            items.append(DigestItem(content=content, link=self._links.activity(token)))
        me_token = sign_link(ring, recipient.employee_id, ME_SCOPE, now + ME_LIFETIME)
        unsubscribe_token = sign_link(ring, recipient.employee_id, UNSUBSCRIBE_SCOPE, now + UNSUBSCRIBE_LIFETIME)
        return Digest(
            to=Addressee(
                employee_id=recipient.employee_id,
                email=recipient.email,
                name=recipient.name,
                locale=recipient.locale,
                timezone=recipient.timezone,
            ),
            items=items,
            me_link=self._links.me(me_token),
            unsubscribe_link=self._links.unsubscribe(unsubscribe_token),
            sent_at=now,
            last_week_points=recipient.last_week_points,
            last_week_clicks=recipient.last_week_clicks,
        )
