"""The sweeper (every 10 minutes): nothing approved is silently lost, no connection lapses unseen.

- SCHEDULED posts whose time passed (a schedule that failed to be created, was deleted, or whose
  invocation was lost) are published now through the same once-only path as the schedule;
- connections that end within 7 days get one reminder email; ended ones are marked EXPIRED (their
  scheduled posts become NEEDS_RECONNECT when their time comes, and the employee is told then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chorus import clock
from chorus.domain.approval import Approval
from chorus.domain.connection import REMINDER_BEFORE_EXPIRY, Connection, ConnectionStatus
from chorus.messages.channel import Notice, NoticeKind
from chorus.observability import logger
from chorus.services.publish import Outcome, PublishTarget

# A schedule fires within a minute of its time; older SCHEDULED posts have lost theirs.
GRACE = timedelta(minutes=5)


class OverdueSource(Protocol):
    def overdue(self, before: datetime, limit: int = 100) -> list[Approval]: ...


class Publisher(Protocol):
    def publish(self, target: PublishTarget) -> Outcome: ...


class ExpiringConnections(Protocol):
    def expiring_before(self, moment: datetime) -> list[Connection]: ...
    def mark(
        self, connection: Connection, *, status: ConnectionStatus | None = None, reminded: datetime | None = None
    ) -> None: ...


class Notices(Protocol):
    def notify(self, employee_id: str, notice: Notice) -> None: ...


@dataclass(frozen=True)
class SweepSummary:
    overdue: int
    published: int
    reminders: int
    expired: int


class Sweeper:
    def __init__(
        self,
        approvals: OverdueSource,
        publisher: Publisher,
        connections: ExpiringConnections,
        notices: Notices,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._approvals = approvals
        self._publisher = publisher
        self._connections = connections
        self._notices = notices
        self._now = now

    def sweep(self) -> SweepSummary:
        now = self._now()
        overdue = self._approvals.overdue(now - GRACE)
        published = 0
        for approval in overdue:
            target = PublishTarget(
                employee_id=approval.employee_id,
                content_id=approval.content_id,
                network=approval.network,
                revision=approval.revision,
            )
            if self._publisher.publish(target) is Outcome.PUBLISHED:
                published += 1
        reminders = expired = 0
        for connection in self._connections.expiring_before(now + REMINDER_BEFORE_EXPIRY):
            if connection.status is not ConnectionStatus.CONNECTED or connection.expires_at is None:
                continue
            if connection.expires_at <= now:
                self._connections.mark(connection, status=ConnectionStatus.EXPIRED)
                expired += 1
            elif connection.reminder_sent_at is None:
                self._notices.notify(
                    connection.employee_id,
                    Notice(NoticeKind.EXPIRING, connection.network, until=connection.expires_at),
                )
                self._connections.mark(connection, reminded=now)
                reminders += 1
        summary = SweepSummary(len(overdue), published, reminders, expired)
        logger.info("swept", overdue=summary.overdue, published=published, reminders=reminders, expired=expired)
        return summary
