"""Employment and consent lifecycle: when an employee leaves, nothing is posted in their name.

The one place that withdraws a deactivated employee: every scheduled post is cancelled and its
schedule deleted, and every stored social token (connection) is deleted. Every path uses it:

- the admin action (API route, CLI) calls ``deactivate``: it flips the profile to inactive, then
  withdraws;
- any write that turns ``active`` from true to false (a roster upload through S3 or the admin
  API, the admin action itself) emits a table stream record, and the lifecycle function calls
  ``withdraw`` for it. The event source mapping retries it, so an ingest that crashed after its
  upsert (whose redelivery then sees the row "unchanged") still leaves nothing scheduled.

Safe to run twice or concurrently with a publication due that minute: cancelling is a
conditional SCHEDULED -> CANCELLED write, deleting a schedule or a connection that is gone is
done, and the publisher's SCHEDULED -> PUBLISHING transition is itself conditioned on the
employee being active. A post whose publication started before the deactivation is already in
flight (it was consented by an active employee) and is left to finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chorus import clock
from chorus.domain.approval import EMPLOYEE_INACTIVE, Approval, ApprovalStatus
from chorus.domain.connection import Connection
from chorus.domain.content import Network
from chorus.domain.employee import Employee
from chorus.errors import ChorusError
from chorus.observability import logger

# Approvals whose schedule may still exist after the employee was withdrawn (a run that crashed
# between cancelling and deleting the schedule is repaired by the next one).
_MAY_HAVE_A_SCHEDULE = frozenset({ApprovalStatus.SCHEDULED, ApprovalStatus.CANCELLED})


class EmployeeState(Protocol):
    @property
    def employee(self) -> Employee: ...
    @property
    def approvals(self) -> list[Approval]: ...
    @property
    def connections(self) -> list[Connection]: ...


class EmployeeStates(Protocol):
    def employee_state(self, employee_id: str) -> EmployeeState: ...


class Cancellations(Protocol):
    def cancel(
        self, employee_id: str, content_id: str, network: Network, now: datetime, *, reason: str | None = None
    ) -> Approval: ...


class Profiles(Protocol):
    def deactivate_employee(self, employee: Employee) -> bool: ...


class Connections(Protocol):
    def delete(self, employee_id: str, network: Network) -> None: ...


class ScheduleDeleter(Protocol):
    def delete(self, name: str) -> None: ...


@dataclass(frozen=True)
class Withdrawal:
    employee_id: str
    deactivated_now: bool
    posts_cancelled: int
    connections_deleted: int

    def to_dict(self) -> dict[str, object]:
        return {
            "employee_id": self.employee_id,
            "deactivated_now": self.deactivated_now,
            "posts_cancelled": self.posts_cancelled,
            "connections_deleted": self.connections_deleted,
        }


class LifecycleService:
    def __init__(
        self,
        records: EmployeeStates,
        approvals: Cancellations,
        profiles: Profiles,
        connections: Connections,
        scheduler: ScheduleDeleter,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._records = records
        self._approvals = approvals
        self._profiles = profiles
        self._connections = connections
        self._scheduler = scheduler
        self._now = now

    def deactivate(self, employee_id: str) -> Withdrawal:
        """The admin action: the employee becomes inactive (raises NotFound for an unknown one),
        then everything they had scheduled or connected is withdrawn."""
        state = self._records.employee_state(employee_id)
        flipped = state.employee.active and self._profiles.deactivate_employee(state.employee)
        withdrawal = self._withdraw(self._records.employee_state(employee_id) if flipped else state)
        return Withdrawal(employee_id, flipped, withdrawal.posts_cancelled, withdrawal.connections_deleted)

    def withdraw(self, employee_id: str) -> Withdrawal:
        """For a stream record of a deactivation: cancels and deletes, never changes the profile.

        It withdraws even if the employee was reactivated since the record was written: posts and
        connections are consent the employee gives again, never consent that survives leaving.
        """
        return self._withdraw(self._records.employee_state(employee_id))

    def _withdraw(self, state: EmployeeState) -> Withdrawal:
        employee_id = state.employee.employee_id
        cancelled = 0
        for approval in state.approvals:
            if approval.cancellable:
                try:
                    self._approvals.cancel(
                        employee_id, approval.content_id, approval.network, self._now(), reason=EMPLOYEE_INACTIVE
                    )
                    cancelled += 1
                except ChorusError:
                    # Publishing started before the deactivation (the post is in flight), or a
                    # concurrent run cancelled it: either way it is past cancelling here.
                    logger.info("post not cancellable", employee_id=employee_id, network=approval.network.value)
            if approval.status in _MAY_HAVE_A_SCHEDULE:
                self._scheduler.delete(approval.schedule_name)
        for connection in state.connections:
            self._connections.delete(employee_id, connection.network)
        logger.info(
            "employee withdrawn",
            employee_id=employee_id,
            posts_cancelled=cancelled,
            connections_deleted=len(state.connections),
        )
        return Withdrawal(employee_id, False, cancelled, len(state.connections))
