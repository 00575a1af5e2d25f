"""The roster as the console shows it: a page of the active roster, an employee found by their
address, and one employee's activity and points.

Every read is bounded: the roster page is one Query of the sparse roster index, an address is one
GetItem (an employee's id is derived from it), and an employee is their own partition (the same
read as "Download my data"). Deactivation is not here: it is ``LifecycleService.deactivate``, the
one the admin API, the CLI and roster uploads use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from chorus.domain.employee import Employee
from chorus.domain.listing import Page
from chorus.errors import NotFound
from chorus.store.privacy import PersonalRecords

MAX_ROSTER_PAGE = 100


class Roster(Protocol):
    def active_roster_page(self, limit: int, start: dict[str, Any] | None = None) -> Page[Employee]: ...
    def employee_by_email(self, email: str) -> Employee | None: ...


class Records(Protocol):
    def records(self, employee_id: str) -> PersonalRecords: ...


@dataclass(frozen=True)
class PostActivity:
    """One approved post of the employee: what, where, when, what became of it."""

    content_id: str
    title: str
    network: str
    status: str
    publish_at: str
    visits: int
    post_url: str | None


@dataclass(frozen=True)
class Person:
    employee: Employee
    posts: list[PostActivity]
    declines: int
    points: int
    lifetime_points: int
    joined_at: str | None


class PeopleService:
    def __init__(self, roster: Roster, records: Records) -> None:
        self._roster = roster
        self._records = records

    def roster_page(self, limit: int, start: dict[str, Any] | None = None) -> Page[Employee]:
        return self._roster.active_roster_page(min(max(limit, 1), MAX_ROSTER_PAGE), start)

    def find(self, email: str) -> Employee:
        employee = self._roster.employee_by_email(email.strip().lower())
        if employee is None or not employee.email:
            raise NotFound("no employee has this address")
        return employee

    def person(self, employee_id: str) -> Person:
        found = self._records.records(employee_id)
        if found.profile is None or "erased_at" in found.profile:
            raise NotFound("no such employee (never on the roster, or erased)")
        balance = next(iter(found.of("balance")), {})
        posts = sorted(
            (
                PostActivity(
                    content_id=str(item.get("content_id", "")),
                    title=str(item.get("title") or item.get("content_id", "")),
                    network=str(item.get("network", "")),
                    status=str(item.get("status", "")),
                    publish_at=_shown_time(item.get("publish_at")),
                    visits=int(item.get("clicks", 0)),
                    post_url=item.get("external_post_url"),
                )
                for item in found.of("approval")
            ),
            key=lambda post: post.publish_at,
            reverse=True,
        )
        return Person(
            employee=Employee.model_validate(found.profile),
            posts=posts,
            declines=len(found.of("decline")),
            points=int(balance.get("balance", 0)),
            lifetime_points=int(balance.get("lifetime", 0)),
            joined_at=_shown_time(found.profile.get("created_at")) or None,
        )


def _shown_time(value: object) -> str:
    """A stored ISO time as the console shows it (UTC, to the minute)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M UTC")
