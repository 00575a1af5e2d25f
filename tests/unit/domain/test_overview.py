"""The Overview's months and company weeks, and the charts' geometry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.overview import Overview, PeriodFigures, bar_chart, last_months, last_weeks
from chorus.domain.scoring import company_week_key

PARIS = "Europe/Paris"


def test_the_last_twelve_months_cross_the_year_oldest_first():
    months = last_months(datetime(2026, 2, 28, 23, 59, tzinfo=UTC))

    assert [label for _, label in months][:2] == ["2025-03", "2025-04"]
    assert months[-1] == ("M2026-02", "2026-02")
    assert len(months) == 12


def test_participation_is_a_share_of_the_active_employees_capped_at_one():
    month = PeriodFigures("2026-11", approvals=9, publications=0, visits=0, points=0, participants=3)

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


def test_the_company_week_turns_at_the_companys_monday_midnight_not_utcs():
    # Given Sunday 29 November 2026, 23:30 UTC: already Monday 00:30 in Paris (UTC+1)
    moment = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)

    # Then the scorer counts it in Paris's week 49, while UTC is still in week 48
    assert company_week_key(moment, PARIS) == "W2026-49"
    assert company_week_key(moment, "UTC") == "W2026-48"
    assert company_week_key(moment - timedelta(hours=1), PARIS) == "W2026-48"
    # and the Overview's current week is the scorer's
    assert last_weeks(moment, PARIS)[-1][0] == "W2026-49"


def test_weeks_across_a_dst_change_are_consecutive_iso_weeks():
    # Given Monday 30 March 2026 00:30 in Paris, the day after clocks went forward (a 167-hour week)
    moment = datetime(2026, 3, 30, 0, 30, tzinfo=ZoneInfo(PARIS))

    weeks = [key for key, _ in last_weeks(moment, PARIS)]

    # Then the twelve weeks are W03..W14, none skipped or repeated
    assert weeks == [f"W2026-{number:02d}" for number in range(3, 15)]
    # and Sunday 23:59 before it, summer time already, was still week 13
    assert company_week_key(datetime(2026, 3, 29, 23, 59, tzinfo=ZoneInfo(PARIS)), PARIS) == "W2026-13"
    # and the autumn change (25 October 2026, a 169-hour week) keeps Sunday 23:59 in week 43
    assert company_week_key(datetime(2026, 10, 25, 23, 59, tzinfo=ZoneInfo(PARIS)), PARIS) == "W2026-43"
    assert company_week_key(datetime(2026, 10, 26, 0, 0, tzinfo=ZoneInfo(PARIS)), PARIS) == "W2026-44"


def test_weeks_cross_the_iso_year_with_its_53rd_week():
    # Given Monday 11 January 2027; ISO year 2026 has 53 weeks
    weeks = [key for key, _ in last_weeks(datetime(2027, 1, 11, 12, tzinfo=UTC), PARIS)]

    assert weeks[-3:] == ["W2026-53", "W2027-01", "W2027-02"]
    assert len(set(weeks)) == 12


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_the_last_week_is_always_the_week_the_scorer_counts_in_and_weeks_are_seven_days_apart(moment: datetime):
    for zone in (PARIS, "America/New_York", "Pacific/Auckland", "UTC"):
        weeks = last_weeks(moment, zone)
        assert weeks[-1][0] == company_week_key(moment, zone)
        assert len({key for key, _ in weeks}) == 12


def test_publications_by_network_come_from_the_company_rows_network_counters():
    week = PeriodFigures.from_counters("2026-W49", {"publications": 3, "publications_linkedin": 2, "publications_x": 1})
    month = PeriodFigures.from_counters(
        "2026-11", {"publications": 9, "publications_linkedin": 7, "publications_x": 1, "publications_bluesky": 1}
    )
    empty = PeriodFigures.from_counters("2026-10", {})
    overview = Overview(months=[empty, month], weeks=[week], active_employees=10)

    assert overview.networks() == [("Bluesky", 0, 1), ("LinkedIn", 2, 7), ("X", 1, 1)]
    assert week.publications == 3 and empty.by_network == {}
