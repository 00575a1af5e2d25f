"""The roll-up job (the report function, every quarter of an hour): the scorer's STATS shards of
each report period added up into team rows, and every content item's funnel added up per
campaign with the top content, written as a few items the team board and the console's reports
read in one call each.

Safe to run twice: each run overwrites the same items with what the counters say at that moment.
Calls per run: 8 Queries per period (2 periods) + 1 listing Query per 1,000 content items (and one
per listing) + 1 BatchGetItem per 25 content items + 3 PutItems."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from chorus import clock
from chorus.domain.funnel import Funnel
from chorus.domain.points_report import report_period
from chorus.domain.rollup import CampaignRollup, CampaignTally, ListedContent, TeamRollup, team_rollup
from chorus.domain.scoring import Period, period_keys
from chorus.observability import logger


class Counters(Protocol):
    def stats(self, period_key: str) -> list[dict[str, Any]]: ...


class Funnels(Protocol):
    def funnels(self, content_ids: Sequence[str]) -> dict[str, Funnel]: ...


class Rollups(Protocol):
    def save_teams(self, rollup: TeamRollup) -> None: ...
    def save_campaigns(self, rollup: CampaignRollup) -> None: ...
    def content_pages(self) -> Iterator[list[ListedContent]]: ...


# The periods the scorer keeps counters for: a quarter's board is its month's (report_period).
ROLLUP_PERIODS = tuple(dict.fromkeys(report_period(period) for period in Period))


class RollupJob:
    def __init__(
        self, counters: Counters, funnels: Funnels, rollups: Rollups, *, now: Callable[[], datetime] = clock.now
    ) -> None:
        self._counters = counters
        self._funnels = funnels
        self._rollups = rollups
        self._now = now

    def run(self) -> dict[str, int]:
        computed_at = self._now()
        keys = period_keys(computed_at)
        campaign_points: dict[str, int] = {}
        teams = 0
        for period in ROLLUP_PERIODS:
            stats = self._counters.stats(keys[period])
            rollup = team_rollup(keys[period], stats, computed_at)
            self._rollups.save_teams(rollup)
            teams = max(teams, rollup.teams_total)
            if period is Period.ALL:
                campaign_points = {
                    str(row["name"]): int(row.get("points", 0)) for row in stats if row["dimension"] == "campaign"
                }
        tally = CampaignTally()
        for page in self._rollups.content_pages():
            funnels = self._funnels.funnels([item.content_id for item in page])
            for item in page:
                tally.add(item, funnels.get(item.content_id, Funnel()))
        campaigns = tally.rollup(campaign_points, computed_at)
        self._rollups.save_campaigns(campaigns)
        logger.info(
            "roll-up computed", teams=teams, campaigns=campaigns.campaigns_total, content_items=campaigns.content_items
        )
        return {"teams": teams, "campaigns": campaigns.campaigns_total, "content_items": campaigns.content_items}
