"""The sweeper (every 10 minutes): nothing approved is silently lost, no connection lapses unseen.

- Posts that should have gone out and have not are handed to the publisher again, through their
  network's publish queue: SCHEDULED posts whose time passed (a schedule that failed to be
  created, was deleted, or whose delivery was lost) and PUBLISHING posts whose lease passed (the
  invocation publishing them stopped mid-way; the publisher decides whether the network may be
  asked again). The sweeper pages through every one of them and only enqueues, ten to a call,
  so ten thousand orphans leave in one run and the networks' queues publish them at their own
  pace. A network whose queue still has messages waiting gets none this time: those may be the
  very posts listed (a busy queue makes due posts look overdue), and sending them again would
  only queue them twice; the next sweep looks again.
- Connections that end within 7 days get one reminder email; ended ones are marked EXPIRED (their
  scheduled posts become NEEDS_RECONNECT when their time comes, and the employee is told then).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from chorus import clock
from chorus.domain.connection import REMINDER_BEFORE_EXPIRY, Connection, ConnectionStatus
from chorus.domain.content import Network
from chorus.domain.publishing import PublishTarget
from chorus.messages.channel import Notice, NoticeKind
from chorus.observability import logger

# A schedule fires within a minute of its time; older SCHEDULED posts have lost theirs.
GRACE = timedelta(minutes=5)
# Stop listing with this much of the invocation left: what is not enqueued yet waits for the
# next sweep, and nothing is half done (every enqueued post is whole and may be sent twice).
STOP_WITH_SECONDS_LEFT = 30.0


class Listings(Protocol):
    def due_pages(self, before: datetime) -> Iterator[list[PublishTarget]]: ...
    def expired_lease_pages(self, now: datetime) -> Iterator[list[PublishTarget]]: ...


class PublishQueues(Protocol):
    def waiting(self, network: Network) -> int: ...
    def send(self, network: Network, targets: Sequence[PublishTarget]) -> int: ...


class ExpiringConnections(Protocol):
    def expiring_before(self, moment: datetime) -> list[Connection]: ...
    def mark(
        self, connection: Connection, *, status: ConnectionStatus | None = None, reminded: datetime | None = None
    ) -> None: ...


class Notices(Protocol):
    def notify(self, employee_id: str, notice: Notice) -> None: ...


@dataclass
class SweepSummary:
    # Overdue SCHEDULED posts and stalled PUBLISHING ones handed to the publisher.
    overdue: int = 0
    stalled: int = 0
    # Listed but left for the next sweep: their network's queue was busy.
    left: int = 0
    # Whether every listed post was seen (False: the invocation ran short of time).
    complete: bool = True
    reminders: int = 0
    expired: int = 0
    busy_networks: list[str] = field(default_factory=list)


class Sweeper:
    def __init__(
        self,
        approvals: Listings,
        queues: PublishQueues,
        connections: ExpiringConnections,
        notices: Notices,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._approvals = approvals
        self._queues = queues
        self._connections = connections
        self._notices = notices
        self._now = now

    def sweep(self, seconds_left: Callable[[], float] | None = None) -> SweepSummary:
        now = self._now()
        summary = SweepSummary()
        busy: dict[Network, bool] = {}
        out_of_time = (lambda: seconds_left() < STOP_WITH_SECONDS_LEFT) if seconds_left else (lambda: False)
        # Stalled first: fewer, and older trouble.
        summary.stalled, left, done = self._hand_over(self._approvals.expired_lease_pages(now), busy, out_of_time)
        summary.left += left
        if done:
            summary.overdue, left, done = self._hand_over(self._approvals.due_pages(now - GRACE), busy, out_of_time)
            summary.left += left
        summary.complete = done
        summary.busy_networks = sorted(network.value for network, waiting in busy.items() if waiting)
        summary.reminders, summary.expired = self._connections_ending(now)
        logger.info(
            "swept",
            overdue=summary.overdue,
            stalled=summary.stalled,
            left=summary.left,
            complete=summary.complete,
            busy_networks=summary.busy_networks,
            reminders=summary.reminders,
            expired=summary.expired,
        )
        return summary

    def _hand_over(
        self, pages: Iterable[list[PublishTarget]], busy: dict[Network, bool], out_of_time: Callable[[], bool]
    ) -> tuple[int, int, bool]:
        """(enqueued, left, every page seen). A network's queue is looked at once per sweep, when
        the first of its posts is listed: one call, and only for networks with posts to hand over."""
        sent = left = 0
        for page in pages:
            by_network: dict[Network, list[PublishTarget]] = defaultdict(list)
            for target in page:
                by_network[target.network].append(target)
            for network, targets in by_network.items():
                if network not in busy:
                    busy[network] = self._queues.waiting(network) > 0
                if busy[network]:
                    left += len(targets)
                    continue
                self._queues.send(network, targets)
                sent += len(targets)
            if out_of_time():
                logger.warning("sweep stopped short of time; the next one goes on", enqueued=sent)
                return sent, left, False
        return sent, left, True

    def _connections_ending(self, now: datetime) -> tuple[int, int]:
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
        return reminders, expired
