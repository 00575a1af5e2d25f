"""When each employee's digest wave starts: their own zone, DST-correct, their own day and time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.domain.digest import (
    COMPANY_SLOT,
    UNZONED,
    DigestTime,
    Wave,
    choices,
    due_waves,
    wave_tick,
)

MONDAY_NINE = DigestTime(0, time(9, 0))
COMPANY_ZONE = "Europe/Paris"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def company_waves(tick: datetime, zones: list[str]) -> list[str]:
    return [wave.zone for wave in due_waves(tick, zones, MONDAY_NINE, COMPANY_ZONE) if wave.slot == COMPANY_SLOT]


@pytest.mark.parametrize(
    ("zone", "tick"),
    [
        ("Europe/Paris", utc(2026, 11, 30, 8, 0)),  # winter: UTC+1
        ("Europe/Paris", utc(2026, 6, 1, 7, 0)),  # summer: UTC+2
        ("Europe/Paris", utc(2027, 3, 29, 7, 0)),  # the Monday after clocks went forward
        ("America/New_York", utc(2026, 11, 30, 14, 0)),  # winter: UTC-5
        ("America/New_York", utc(2027, 3, 15, 13, 0)),  # the Monday after clocks went forward
        ("Pacific/Kiritimati", utc(2026, 11, 29, 19, 0)),  # UTC+14: Sunday evening in UTC
        ("Etc/GMT+12", utc(2026, 11, 30, 21, 0)),  # UTC-12: Monday night in UTC
        ("Asia/Kathmandu", utc(2026, 11, 30, 3, 15)),  # UTC+5:45
    ],
)
def test_the_company_wave_of_a_zone_starts_at_nine_on_its_own_monday(zone: str, tick: datetime) -> None:
    # Given employees in one zone who keep the company's Monday 09:00
    # When the quarter hour that is 09:00 Monday there ticks
    # Then their wave starts, and not a quarter hour earlier or later
    assert company_waves(tick, [zone]) == [zone]
    assert company_waves(tick - timedelta(minutes=15), [zone]) == []
    assert company_waves(tick + timedelta(minutes=15), [zone]) == []


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Tehran"]),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    st.sampled_from([DigestTime(0, time(9, 0)), DigestTime(4, time(6, 45)), DigestTime(2, time(18, 0))]),
)
def test_each_slot_starts_exactly_once_a_week_at_its_local_time(zone: str, day: date, chosen: DigestTime) -> None:
    # Given an employee who chose a day and time, and any week
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    ticks = [wave_tick(start) + timedelta(minutes=15 * n) for n in range(-4, 7 * 96 + 8)]
    # When every quarter hour of that week ticks
    started = [
        tick
        for tick in ticks
        if Wave(zone, chosen.slot) in due_waves(tick, [zone], MONDAY_NINE, COMPANY_ZONE)
        and monday <= tick.astimezone(ZoneInfo(zone)).date() < monday + timedelta(days=7)
    ]
    # Then their wave started once, at their local day and time
    assert len(started) == 1
    local = started[0].astimezone(ZoneInfo(zone))
    assert (local.weekday(), local.time()) == (chosen.weekday, chosen.at)


def test_the_employees_indexed_before_zones_go_with_the_company_zone() -> None:
    waves = due_waves(utc(2026, 11, 30, 8, 0), [], MONDAY_NINE, COMPANY_ZONE)
    assert waves == [Wave(UNZONED, "MON0900")]


def test_a_tick_offers_each_zone_its_chosen_slot_and_the_company_slot() -> None:
    # Monday 08:00 UTC: 09:00 in Paris (a choice and the company's), 03:00 in New York (neither)
    waves = due_waves(utc(2026, 11, 30, 8, 0), ["Europe/Paris", "America/New_York"], MONDAY_NINE, COMPANY_ZONE)
    assert waves == [Wave("Europe/Paris", "MON0900"), Wave("Europe/Paris", COMPANY_SLOT), Wave(UNZONED, "MON0900")]


def test_a_wall_time_repeated_when_clocks_go_back_starts_its_wave_once() -> None:
    # Given a company digest at 02:30 on the Sunday Paris leaves summer time (02:30 happens twice)
    company = DigestTime(6, time(2, 30))
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)
    assert [wave.zone for wave in due_waves(first, ["Europe/Paris"], company, "UTC")] == ["Europe/Paris"]
    assert due_waves(second, ["Europe/Paris"], company, "UTC") == []


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 9 ? * MON *)", DigestTime(0, time(9, 0))),
        ("cron(45 8 ? * 2 *)", DigestTime(0, time(8, 45))),  # EventBridge: Sunday is 1
        ("cron(30 17 ? * sun *)", DigestTime(6, time(17, 30))),
    ],
)
def test_digest_schedule_reads_as_a_weekday_and_a_time(expression: str, expected: DigestTime) -> None:
    assert DigestTime.from_cron(expression) == expected


@pytest.mark.parametrize("expression", ["cron(7 9 ? * MON *)", "cron(0 9 ? * MON-FRI *)", "rate(1 day)"])
def test_digest_schedule_refuses_what_is_not_one_weekly_quarter_hour(expression: str) -> None:
    with pytest.raises(ValueError, match="DigestSchedule"):
        DigestTime.from_cron(expression)


def test_the_choices_are_working_days_from_six_to_six_on_the_quarter_hour() -> None:
    offered = choices()
    assert len(offered) == 5 * 49
    assert offered[0] == DigestTime(0, time(6, 0)) and offered[-1] == DigestTime(4, time(18, 0))
    assert all(option.is_choice() and DigestTime.from_slot(option.slot) == option for option in offered)
    assert not DigestTime(5, time(9, 0)).is_choice()
    assert not DigestTime(0, time(5, 45)).is_choice()
    assert not DigestTime(0, time(18, 15)).is_choice()
    assert not DigestTime(0, time(9, 10)).is_choice()
    with pytest.raises(ValueError, match="slot"):
        DigestTime.from_slot("MON0910")
