"""Scoring: turns the table's stream into points, exactly once per source event.

The stream delivers approvals and clicks (the event source mapping filters out everything
else, including this function's own writes). A retried batch awards nothing twice: each award
is keyed by its source event in a conditional ledger write (store/scores.py keeps every later
transaction of an award exactly once too). A click past its post's cap earns nothing and writes
nothing per click: the batch adds its visits up and writes them once per post at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chorus import clock
from chorus.domain.scoring import (
    Award,
    AwardKind,
    AwardOutcome,
    Context,
    Period,
    Post,
    Ranked,
    Standing,
    awards_from_change,
    click_event_id,
    period_keys,
)
from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger


@dataclass(frozen=True)
class Change:
    """One stream record, as plain dicts."""

    old: dict[str, Any] | None
    new: dict[str, Any] | None
    occurred_at: datetime
    record_id: str = ""

    @property
    def employee_id(self) -> str | None:
        value = (self.new or {}).get("employee_id")
        return str(value) if value else None

    @property
    def content_id(self) -> str | None:
        value = (self.new or {}).get("content_id")
        return str(value) if value else None

    @property
    def clicked_post(self) -> Post | None:
        new = self.new or {}
        if new.get("entity") != "click" or not (self.employee_id and self.content_id and new.get("network")):
            return None
        return (self.employee_id, self.content_id, str(new["network"]))


class Lookups(Protocol):
    def context_for(
        self,
        employee_ids: Iterable[str],
        content_ids: Iterable[str],
        posts: Iterable[Post] = (),
        clicks: Iterable[tuple[str, str]] = (),
    ) -> Context: ...


class Scores(Protocol):
    def award(
        self, award: Award, *, name: str, groups: list[str], hidden: bool, click_cap: int | None = None
    ) -> AwardOutcome: ...
    def ledger_entry(self, employee_id: str, event_id: str) -> dict[str, Any]: ...
    def count_visits(self, visits: dict[Post, int]) -> None: ...
    def visits_past_cap(self, employee_id: str) -> dict[tuple[str, str], int]: ...
    def top(self, period_key: str, scope: str, k: int) -> list[Ranked]: ...
    def standing(self, employee_id: str, period_key: str, scope: str, nearby: int = 2) -> Standing: ...
    def set_hidden(self, employee_id: str, hidden: bool) -> None: ...


class ScoringService:
    def __init__(self, scores: Scores, lookups: Lookups, *, now: Callable[[], datetime] = clock.now) -> None:
        self._scores = scores
        self._lookups = lookups
        self._now = now

    def context_for(self, changes: list[Change]) -> Context:
        clicked = [(post, change) for change in changes if (post := change.clicked_post) and change.new]
        return self._lookups.context_for(
            {change.employee_id for change in changes if change.employee_id},
            {change.content_id for change in changes if change.content_id},
            {post for post, _ in clicked},
            {(post[0], click_event_id(change.new)) for post, change in clicked if change.new and "code" in change.new},
        )

    def apply(self, change: Change, context: Context) -> int:
        """Awards what one change earns; returns how many awards were new."""
        content = context.contents.get(change.content_id or "")
        employee = context.employees.get(change.employee_id or "")
        if employee is None:
            return 0
        made = 0
        for award in awards_from_change(change.old, change.new, content, change.occurred_at):
            cap = content.click_cap if content and award.kind is AwardKind.CLICK else None
            post = change.clicked_post
            if (
                post
                and cap is not None
                and award.event_id not in context.awarded_events
                and context.awarded_clicks.get(post, 0) >= cap
            ):
                outcome = AwardOutcome.OVER_CAP  # known from the batch's read: no transaction tried
            else:
                outcome = self._scores.award(
                    award,
                    name=employee.name,
                    groups=employee.groups,
                    hidden=employee.employee_id in context.hidden,
                    click_cap=cap,
                )
            if outcome is AwardOutcome.OVER_CAP and post:
                context.visits[change.record_id] = post
            elif outcome is AwardOutcome.AWARDED:
                made += 1
                if post:
                    context.awarded_clicks[post] = context.awarded_clicks.get(post, 0) + 1
                logger.info("points awarded", employee_id=award.employee_id, kind=award.kind.value, points=award.points)
        return made

    def count_visits(self, context: Context, settled_records: Iterable[str]) -> None:
        """Writes the visits past the cap of the records the stream will not deliver again (those
        before the batch's first failure: Lambda retries from there)."""
        visits = context.visits_per_post(settled_records)
        if visits:
            self._scores.count_visits(visits)

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

    def leaderboard(self, period: Period, scope: str, k: int) -> list[Ranked]:
        return self._scores.top(period_keys(self._now())[period], scope, k)

    def standing(self, employee_id: str, period: Period, scope: str) -> Standing:
        return self._scores.standing(employee_id, period_keys(self._now())[period], scope)

    def visits_past_cap(self, employee_id: str) -> dict[tuple[str, str], int]:
        return self._scores.visits_past_cap(employee_id)

    def hide(self, employee_id: str, hidden: bool) -> None:
        self._scores.set_hidden(employee_id, hidden)
