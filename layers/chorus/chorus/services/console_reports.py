"""The console's reports: participation by group over time (the census run's monthly snapshots),
top advocates (the leaderboards, through the scoring service the admin API uses), and the funnel
per campaign with the top content (the report function's roll-up, one read)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chorus import clock
from chorus.domain.overview import last_months
from chorus.domain.participation import GroupTrend, MonthParticipation, group_trends
from chorus.domain.rollup import CampaignRollup
from chorus.domain.scoring import OVERALL, Period, Ranked

TOP_ADVOCATES = 10


class Snapshots(Protocol):
    def months(self, first: str, last: str) -> dict[str, MonthParticipation]: ...


class Leaderboards(Protocol):
    def leaderboard(self, period: Period, scope: str, k: int) -> list[Ranked]: ...


class CampaignRollups(Protocol):
    def campaigns(self) -> CampaignRollup | None: ...


@dataclass(frozen=True)
class GroupParticipation:
    months: list[str]  # labels, oldest first
    groups: list[GroupTrend]  # the largest group first
    counted_at: datetime | None  # the latest snapshot's census


class ConsoleReports:
    def __init__(
        self,
        snapshots: Snapshots,
        leaderboards: Leaderboards,
        rollups: CampaignRollups,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._snapshots = snapshots
        self._leaderboards = leaderboards
        self._rollups = rollups
        self._now = now

    def participation_by_group(self) -> GroupParticipation:
        months = last_months(self._now())
        found = self._snapshots.months(months[0][0], months[-1][0])
        latest = max((snapshot.counted_at for snapshot in found.values() if snapshot.counted_at), default=None)
        return GroupParticipation(
            months=[label for _, label in months], groups=group_trends(months, found), counted_at=latest
        )

    def top_advocates(self, period: Period) -> list[Ranked]:
        """The overall board's top: employees who hid themselves from leaderboards are on no board,
        this one included (their points still count in every total)."""
        return self._leaderboards.leaderboard(period, OVERALL, TOP_ADVOCATES)

    def campaigns(self) -> CampaignRollup | None:
        """The funnel per campaign and the top content as of the latest roll-up; None before the
        report function's first run (adding every item's funnel up here would read the library)."""
        return self._rollups.campaigns()
