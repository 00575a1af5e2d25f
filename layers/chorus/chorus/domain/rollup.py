"""The report function's roll-up: figures the console and the admin API would otherwise add up on
every request (the scorer's STATS shards, every content item's funnel), summed once on a schedule
into a few small items.

* Teams, per period (the scorer's month and all time): points and participants per group. The
  board ranks them when read, against the latest census (a team's average needs its members).
* Campaigns: the funnel per campaign (the sum of its items' funnels) with its points and approvals
  of all time; and the top content by approvals and by visits.

Every list is capped so each item stays far under DynamoDB's 400 KB (the caps below hold at the
longest names the uploads accept: groups and campaigns 100 characters, titles 200); the totals are
kept, so a page can say how many rows it does not show.

Funnel counters are kept per content item for its whole life, not per month: the campaign funnel
and the top content are all time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from chorus.domain.funnel import FUNNEL_COUNTERS, Funnel

# Teams per period item: 2,000 groups of 100-character names is about 300 KB of JSON.
MAX_TEAM_ROWS = 2_000
# Campaigns in the campaign item, the ones with the most approvals.
MAX_CAMPAIGN_ROWS = 500
# Items in each top-content list.
TOP_CONTENT = 10


@dataclass(frozen=True)
class ListedContent:
    """A content item as the roll-up reads it from the library's listing."""

    content_id: str
    title: str
    campaign: str


class TeamFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    group: str
    points: int = 0
    participants: int = 0


class TeamRollup(BaseModel):
    """Points and participants per group of one period, as the STATS shards added up said."""

    model_config = ConfigDict(frozen=True)

    period_key: str
    computed_at: datetime
    teams: list[TeamFigure]  # the most points first, at most MAX_TEAM_ROWS
    teams_total: int


class FunnelFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    sent: int = 0
    opened: int = 0
    approvals: int = 0
    publications: int = 0
    visits: int = 0

    @classmethod
    def of(cls, funnel: Funnel) -> FunnelFigures:
        return cls(**{name: getattr(funnel, name) for name in FUNNEL_COUNTERS})

    def funnel(self) -> Funnel:
        return Funnel(**self.model_dump())


class CampaignFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    campaign: str  # "" for content uploaded without a campaign
    items: int
    funnel: FunnelFigures
    points: int = 0  # all time, from the scorer's counters


class ContentFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    content_id: str
    title: str
    campaign: str
    funnel: FunnelFigures


class CampaignRollup(BaseModel):
    model_config = ConfigDict(frozen=True)

    computed_at: datetime
    content_items: int  # every item read, active and retracted
    totals: FunnelFigures
    campaigns: list[CampaignFigure]  # the most approvals first, at most MAX_CAMPAIGN_ROWS
    campaigns_total: int
    top_by_approvals: list[ContentFigure]
    top_by_visits: list[ContentFigure]


def team_rollup(period_key: str, stats: Iterable[Mapping[str, Any]], computed_at: datetime) -> TeamRollup:
    """The period's group rows (stats rows as ScoreStore.stats answers them), the most points first."""
    teams = [
        TeamFigure(
            group=str(row["name"]), points=int(row.get("points", 0)), participants=int(row.get("participants", 0))
        )
        for row in stats
        if row["dimension"] == "group"
    ]
    teams.sort(key=lambda team: (-team.points, -team.participants, team.group))
    return TeamRollup(
        period_key=period_key, computed_at=computed_at, teams=teams[:MAX_TEAM_ROWS], teams_total=len(teams)
    )


class CampaignTally:
    """Adds content items' funnels up per campaign, one page of items at a time, keeping only the
    best TOP_CONTENT items of each ranking: memory grows with campaigns, never with items."""

    def __init__(self) -> None:
        self._campaigns: dict[str, tuple[int, Funnel]] = {}
        self._items = 0
        self._by_approvals: list[ContentFigure] = []
        self._by_visits: list[ContentFigure] = []

    def add(self, item: ListedContent, funnel: Funnel) -> None:
        self._items += 1
        items, total = self._campaigns.get(item.campaign, (0, Funnel()))
        self._campaigns[item.campaign] = (items + 1, total.plus(funnel))
        figure = ContentFigure(
            content_id=item.content_id, title=item.title, campaign=item.campaign, funnel=FunnelFigures.of(funnel)
        )
        if funnel.approvals:
            self._by_approvals = _top([*self._by_approvals, figure], "approvals")
        if funnel.visits:
            self._by_visits = _top([*self._by_visits, figure], "visits")

    def rollup(self, campaign_points: Mapping[str, int], computed_at: datetime) -> CampaignRollup:
        """``campaign_points``: all-time points per campaign (the scorer's campaign rows)."""
        campaigns = [
            CampaignFigure(
                campaign=name, items=items, funnel=FunnelFigures.of(funnel), points=campaign_points.get(name, 0)
            )
            for name, (items, funnel) in self._campaigns.items()
        ]
        campaigns.sort(key=lambda row: (-row.funnel.approvals, -row.funnel.sent, row.campaign))
        totals = Funnel()
        for _, funnel in self._campaigns.values():
            totals = totals.plus(funnel)
        return CampaignRollup(
            computed_at=computed_at,
            content_items=self._items,
            totals=FunnelFigures.of(totals),
            campaigns=campaigns[:MAX_CAMPAIGN_ROWS],
            campaigns_total=len(campaigns),
            top_by_approvals=self._by_approvals,
            top_by_visits=self._by_visits,
        )


def _top(figures: list[ContentFigure], counter: str) -> list[ContentFigure]:
    """The TOP_CONTENT best by ``counter``; ties by the other counter, then by id (stable runs)."""
    other = "visits" if counter == "approvals" else "approvals"
    figures.sort(key=lambda row: (-getattr(row.funnel, counter), -getattr(row.funnel, other), row.content_id))
    return figures[:TOP_CONTENT]
