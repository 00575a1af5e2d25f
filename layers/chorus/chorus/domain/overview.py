"""The console's Overview: company figures per company week and per month (from the scorer's
STATS counters) and the geometry of its charts, computed here so the SVG template only places
shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chorus.domain.networks import profiles
from chorus.domain.scoring import NETWORK_PUBLICATIONS_PREFIX, iso_week_key

TREND_MONTHS = 12
TREND_WEEKS = 12


def month_key(year: int, month: int) -> str:
    """The scorer's month period key (domain.scoring.period_keys)."""
    return f"M{year:04d}-{month:02d}"


def last_months(moment: datetime, count: int = TREND_MONTHS) -> list[tuple[str, str]]:
    """(period key, label) of the ``count`` months up to ``moment``'s (UTC), oldest first."""
    year, month = moment.year, moment.month
    months = []
    for _ in range(count):
        months.append((month_key(year, month), f"{year:04d}-{month:02d}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def last_weeks(moment: datetime, zone: str, count: int = TREND_WEEKS) -> list[tuple[str, str]]:
    """(period key, label) of the ``count`` ISO weeks up to ``moment``'s on the company's clock
    (the scorer's domain.scoring.company_week_key), oldest first. Weeks are walked as calendar
    dates, Monday to Monday: a DST change makes a week 167 or 169 hours long, never another week."""
    today = moment.astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday())
    weeks = [_week(monday - timedelta(weeks=back)) for back in range(count)]
    return weeks[::-1]


def _week(monday: date) -> tuple[str, str]:
    year, week, _ = monday.isocalendar()
    return iso_week_key(monday), f"{year:04d}-W{week:02d} ({monday:%d %b})"


def network_label(network: str) -> str:
    return next((profile.label for profile in profiles() if profile.name == network), network)


@dataclass(frozen=True)
class PeriodFigures:
    label: str
    approvals: int
    publications: int
    visits: int
    points: int
    participants: int
    # Publications per network (registry name), the networks with none left out.
    by_network: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_counters(cls, label: str, counters: Mapping[str, int]) -> PeriodFigures:
        """From a STATS company row's counters (shards added up)."""
        return cls(
            label=label,
            approvals=counters.get("approvals", 0),
            publications=counters.get("publications", 0),
            visits=counters.get("clicks", 0),
            points=counters.get("points", 0),
            participants=counters.get("participants", 0),
            by_network={
                name.removeprefix(NETWORK_PUBLICATIONS_PREFIX): count
                for name, count in sorted(counters.items())
                if name.startswith(NETWORK_PUBLICATIONS_PREFIX) and count
            },
        )

    def participation(self, active: int | None) -> float | None:
        """Share of active employees who approved at least once in the period."""
        if not active:
            return None
        return min(1.0, self.participants / active)


@dataclass(frozen=True)
class Overview:
    months: list[PeriodFigures]  # oldest first, the current month last
    weeks: list[PeriodFigures]  # oldest first, the current company week last
    active_employees: int | None  # None: no census yet

    @property
    def this_month(self) -> PeriodFigures:
        return self.months[-1]

    @property
    def last_month(self) -> PeriodFigures:
        return self.months[-2]

    @property
    def this_week(self) -> PeriodFigures:
        return self.weeks[-1]

    def networks(self) -> list[tuple[str, int, int]]:
        """(network label, publications this week, this month) of every network published on."""
        names = sorted(set(self.this_week.by_network) | set(self.this_month.by_network))
        return [
            (network_label(name), self.this_week.by_network.get(name, 0), self.this_month.by_network.get(name, 0))
            for name in names
        ]


@dataclass(frozen=True)
class Bar:
    label: str
    tick: str  # the short label under the bar
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    top: int
    bars: list[Bar]


def bar_chart(
    values: list[tuple[str, int]],
    *,
    ticks: list[str] | None = None,
    width: int = 640,
    height: int = 220,
    margin: int = 28,
) -> BarChart:
    """Bars scaled to the largest value (all zero: flat bars on the baseline); ``ticks``: the short
    labels under the bars (default: the labels)."""
    top = max((value for _, value in values), default=0)
    plot_height = height - 2 * margin
    slot = (width - 2 * margin) / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(values):
        bar_height = plot_height * value / top if top else 0.0
        bars.append(
            Bar(
                label=label,
                tick=ticks[index] if ticks else label,
                value=value,
                x=round(margin + index * slot + slot * 0.15, 1),
                y=round(margin + plot_height - bar_height, 1),
                width=round(slot * 0.7, 1),
                height=round(bar_height, 1),
            )
        )
    return BarChart(width=width, height=height, baseline=margin + plot_height, top=top, bars=bars)
