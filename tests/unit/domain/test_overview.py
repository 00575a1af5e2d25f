"""The Overview's months and the trend chart's geometry."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.overview import MonthFigures, bar_chart, last_months


def test_the_last_twelve_months_cross_the_year_oldest_first():
    months = last_months(datetime(2026, 2, 28, 23, 59, tzinfo=UTC))

    assert [label for _, label in months][:2] == ["2025-03", "2025-04"]
    assert months[-1] == ("M2026-02", "2026-02")
    assert len(months) == 12


def test_participation_is_a_share_of_the_active_employees_capped_at_one():
    month = MonthFigures("2026-11", approvals=9, publications=0, visits=0, points=0, participants=3)

    assert month.participation(12) == 0.25
    assert month.participation(2) == 1.0  # the census is daily: today's roster may be smaller
    assert month.participation(None) is None and month.participation(0) is None


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=24))
def test_bars_stay_inside_the_chart_and_the_tallest_reaches_the_top(values: list[int]):
    chart = bar_chart([(str(index), value) for index, value in enumerate(values)], width=640, height=220)

    for bar in chart.bars:
        assert bar.x >= 0 and bar.x + bar.width <= chart.width
        assert bar.height >= 0 and abs(bar.y + bar.height - chart.baseline) < 0.2
    tallest = max(chart.bars, key=lambda bar: bar.value)
    assert (tallest.height > 0) == (max(values) > 0)
    if max(values) > 0:
        assert abs(tallest.y - 28) < 0.2
