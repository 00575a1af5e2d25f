"""Scoring: turns the table's stream into points, exactly once per source event.

The stream delivers approvals and clicks (the event source mapping filters out everything
else, including this function's own writes). A retried batch awards nothing twice: each award
is keyed by its source event in a conditional ledger write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chorus import clock
from chorus.domain.scoring import Award, AwardKind, Context, Period, awards_from_change, period_keys
from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger
from chorus.store.scores import Ranked, Standing


@dataclass(frozen=True)
class Change:
    """One stream record, as plain dicts."""

    old: dict[str, Any] | None
    new: dict[str, Any] | None
    occurred_at: datetime

    @property
    def employee_id(self) -> str | None:
        value = (self.new or {}).get("employee_id")
        return str(value) if value else None

    @property
    def content_id(self) -> str | None:
        value = (self.new or {}).get("content_id")
        return str(value) if value else None


class Lookups(Protocol):
    def context_for(self, employee_ids: Iterable[str], content_ids: Iterable[str]) -> Context: ...


class Scores(Protocol):
    def award(
        self, award: Award, *, name: str, groups: list[str], hidden: bool, click_cap: int | None = None
    ) -> bool: ...
    def ledger_entry(self, employee_id: str, event_id: str) -> dict[str, Any]: ...
    def top(self, period_key: str, scope: str, k: int) -> list[Ranked]: ...
    def standing(self, employee_id: str, period_key: str, scope: str, nearby: int = 2) -> Standing: ...
    def set_hidden(self, employee_id: str, hidden: bool) -> None: ...
    def stats(self, period_key: str) -> list[dict[str, Any]]: ...
    def board_rows(self, period_key: str, scope: str) -> list[dict[str, Any]]: ...


class Roster(Protocol):
    def active_roster_page(self, limit: int, start: dict[str, Any] | None = None) -> Any: ...


class ScoringService:
    def __init__(
        self,
        scores: Scores,
        lookups: Lookups,
        roster: Roster | None = None,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._scores = scores
        self._lookups = lookups
        self._roster = roster
        self._now = now

    def context_for(self, changes: list[Change]) -> Context:
        return self._lookups.context_for(
            {change.employee_id for change in changes if change.employee_id},
            {change.content_id for change in changes if change.content_id},
        )

    def apply(self, change: Change, context: Context) -> int:
        """Awards what one change earns; returns how many awards were new."""
        content = context.contents.get(change.content_id or "")
        employee = context.employees.get(change.employee_id or "")
        if employee is None:
            return 0
        made = 0
        for award in awards_from_change(change.old, change.new, content, change.occurred_at):
            if self._scores.award(
                award,
                name=employee.name,
                groups=employee.groups,
                hidden=employee.employee_id in context.hidden,
                click_cap=content.click_cap if content and award.kind is AwardKind.CLICK else None,
            ):
                made += 1
                logger.info("points awarded", employee_id=award.employee_id, kind=award.kind.value, points=award.points)
        return made

    def reverse(self, employee_id: str, event_id: str, reason: str, context: Context) -> Award:
        """An admin takes an award back: a negative ledger entry with the reason, once."""
        if not reason.strip():
            raise InvalidInput("say why", [FieldProblem("reason", "is required")])
        entry = self._scores.ledger_entry(employee_id, event_id)
        employee = context.employees.get(employee_id)
        if employee is None or entry.get("kind") == AwardKind.REVERSAL.value:
            raise InvalidInput("cannot reverse", [FieldProblem("event_id", "is not an award that can be reversed")])
        award = Award(
            event_id=f"reversal#{event_id}",
            kind=AwardKind.REVERSAL,
            employee_id=employee_id,
            points=-int(entry["points"]),
            occurred_at=self._now(),
            content_id=entry.get("content_id"),
            network=entry.get("network"),
            campaign=str(entry.get("campaign", "")),
            reason=reason.strip()[:300],
        )
        self._scores.award(award, name=employee.name, groups=employee.groups, hidden=employee_id in context.hidden)
        logger.info("award reversed", employee_id=employee_id, event_id=event_id)
        return award

    def reverse_award(self, employee_id: str, event_id: str, reason: str) -> Award:
        return self.reverse(employee_id, event_id, reason, self._lookups.context_for([employee_id], []))

    def _active_members(self) -> tuple[int, dict[str, int]]:
        """Active employees, overall and per group (a paged read of the roster index)."""
        total, per_group = 0, dict[str, int]()
        token: dict[str, Any] | None = None
        while self._roster is not None:
            page = self._roster.active_roster_page(500, token)
            for employee in page.items:
                total += 1
                for group in employee.groups:
                    per_group[group] = per_group.get(group, 0) + 1
            token = page.next_token
            if not token:
                break
        return total, per_group

    def team_board(self, period: Period) -> list[dict[str, Any]]:
        """Teams ranked by points per active member, so large teams do not win by size."""
        period_key = period_keys(self._now())[period if period is not Period.QUARTER else Period.MONTH]
        totals = {
            str(row["SK"]).removeprefix("GROUP#"): int(row.get("points", 0))
            for row in self._scores.stats(period_key)
            if str(row["SK"]).startswith("GROUP#")
        }
        _, members = self._active_members()
        teams = [
            {
                "group": group,
                "points": totals.get(group, 0),
                "members": count,
                "average": round(totals.get(group, 0) / count, 2),
            }
            for group, count in members.items()
        ]
        return sorted(teams, key=lambda team: (-float(team["average"]), str(team["group"])))

    def report(self, period: Period) -> dict[str, Any]:
        """Participation, approvals, publications, clicks and points per campaign, group, employee."""
        stats_period = Period.ALL if period is Period.ALL else Period.MONTH
        period_key = period_keys(self._now())[stats_period]
        stats = self._scores.stats(period_key)

        def rows(prefix: str) -> list[dict[str, Any]]:
            return sorted(
                (
                    {"name": str(row["SK"]).removeprefix(prefix) or "(none)", **_counters(row)}
                    for row in stats
                    if str(row["SK"]).startswith(prefix)
                ),
                key=lambda row: (-row["points"], row["name"]),
            )

        employees = [
            {"name": row["name"], "employee_id": row["employee_id"], **_counters({**row, "points": row["score"]})}
            for row in self._scores.board_rows(period_key, "*")
        ]
        active, _ = self._active_members()
        participants = sum(1 for row in employees if row["approvals"] > 0)
        return {
            "period": stats_period.value,
            "period_key": period_key,
            "active_employees": active,
            "participants": participants,
            "participation_rate": round(participants / active, 4) if active else 0.0,
            "campaigns": rows("CAMPAIGN#"),
            "groups": rows("GROUP#"),
            "employees": employees,
        }

    def leaderboard(self, period: Period, scope: str, k: int) -> list[Ranked]:
        return self._scores.top(period_keys(self._now())[period], scope, k)

    def standing(self, employee_id: str, period: Period, scope: str) -> Standing:
        return self._scores.standing(employee_id, period_keys(self._now())[period], scope)

    def hide(self, employee_id: str, hidden: bool) -> None:
        self._scores.set_hidden(employee_id, hidden)


def _counters(row: dict[str, Any]) -> dict[str, int]:
    return {name: int(row.get(name, 0)) for name in ("points", "approvals", "publications", "clicks")}
