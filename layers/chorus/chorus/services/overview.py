"""The console's Overview: this month's and the last twelve months' company figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chorus import clock
from chorus.domain.overview import MonthFigures, Overview, last_months


class Figures(Protocol):
    def company_months(self, month_keys: list[str]) -> tuple[dict[str, dict[str, int]], int | None]: ...


class OverviewService:
    def __init__(self, figures: Figures, *, now: Callable[[], datetime] = clock.now) -> None:
        self._figures = figures
        self._now = now

    def overview(self) -> Overview:
        months = last_months(self._now())
        counters, active = self._figures.company_months([key for key, _ in months])
        return Overview(
            months=[
                MonthFigures(
                    label=label,
                    approvals=counters[key]["approvals"],
                    publications=counters[key]["publications"],
                    visits=counters[key]["clicks"],
                    points=counters[key]["points"],
                    participants=counters[key]["participants"],
                )
                for key, label in months
            ],
            active_employees=active,
        )
