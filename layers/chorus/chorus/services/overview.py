"""The console's Overview: this company week's and this month's figures, the last twelve weeks
and months."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chorus import clock
from chorus.domain.overview import Overview, PeriodFigures, last_months, last_weeks


class Figures(Protocol):
    def company_periods(self, period_keys: list[str]) -> tuple[dict[str, dict[str, int]], int | None]: ...


class OverviewService:
    def __init__(self, figures: Figures, *, company_zone: str = "UTC", now: Callable[[], datetime] = clock.now) -> None:
        self._figures = figures
        self._zone = company_zone
        self._now = now

    def overview(self) -> Overview:
        moment = self._now()
        months, weeks = last_months(moment), last_weeks(moment, self._zone)
        counters, active = self._figures.company_periods([key for key, _ in months + weeks])
        return Overview(
            months=[PeriodFigures.from_counters(label, counters[key]) for key, label in months],
            weeks=[PeriodFigures.from_counters(label, counters[key]) for key, label in weeks],
            active_employees=active,
        )
