"""The console's Overview: company figures per month (from the scorer's STATS counters) and the
geometry of its trend chart, computed here so the SVG template only places shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

TREND_MONTHS = 12


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


@dataclass(frozen=True)
class MonthFigures:
    label: str
    approvals: int
    publications: int
    visits: int
    points: int
    participants: int

    def participation(self, active: int | None) -> float | None:
        """Share of active employees who approved at least once in the month."""
        if not active:
            return None
        return min(1.0, self.participants / active)


@dataclass(frozen=True)
class Overview:
    months: list[MonthFigures]  # oldest first, the current month last
    active_employees: int | None  # None: no census yet

    @property
    def this_month(self) -> MonthFigures:
        return self.months[-1]

    @property
    def last_month(self) -> MonthFigures:
        return self.months[-2]


@dataclass(frozen=True)
class Bar:
    label: str
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


def bar_chart(values: list[tuple[str, int]], *, width: int = 640, height: int = 220, margin: int = 28) -> BarChart:
    """Bars scaled to the largest value (all zero: flat bars on the baseline)."""
    top = max((value for _, value in values), default=0)
    plot_height = height - 2 * margin
    slot = (width - 2 * margin) / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(values):
        bar_height = plot_height * value / top if top else 0.0
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(margin + index * slot + slot * 0.15, 1),
                y=round(margin + plot_height - bar_height, 1),
                width=round(slot * 0.7, 1),
                height=round(bar_height, 1),
            )
        )
    return BarChart(width=width, height=height, baseline=margin + plot_height, top=top, bars=bars)
