"""Times in the employee's zone: the week, chosen times, spreading over working hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.timing import (
    MIN_LEAD,
    SCHEDULE_HORIZON,
    check_publish_time,
    local_time_to_utc,
    offered_window,
    overlaps,
    spread_times,
    week_of,
)
from chorus.errors import InvalidInput

PARIS = "Europe/Paris"


def test_week_is_monday_to_monday_in_the_zone():
    # Sunday 23:30 UTC is already Monday in Paris
    week = week_of(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), PARIS)
    assert week.week_id == "2026-W48"
    assert week.start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert week.end - week.start == timedelta(days=7)


def test_overlap_of_open_windows():
    week = week_of(datetime(2026, 11, 24, tzinfo=UTC), PARIS)
    assert overlaps(None, None, week)
    assert not overlaps(None, week.start, week)
    assert overlaps(week.end - timedelta(seconds=1), None, week)


def test_a_time_skipped_by_daylight_saving_is_refused():
    with pytest.raises(InvalidInput) as error:
        local_time_to_utc("at", datetime(2027, 3, 28, 2, 30), PARIS)
    assert "does not exist" in error.value.problems[0].reason


def test_wall_clock_in_the_zone():
    assert local_time_to_utc("at", datetime(2026, 11, 24, 10, 0), PARIS) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_publish_time_rules():
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    check_publish_time("at", now + MIN_LEAD, now, None, None)
    with pytest.raises(InvalidInput):
        check_publish_time("at", now + timedelta(minutes=2), now, None, None)
    with pytest.raises(InvalidInput) as error:
        check_publish_time("at", now + timedelta(days=2), now, None, now + timedelta(days=1))
    assert error.value.problems[0].reason == "is after this content may be shared"


def test_a_repeated_hour_is_its_first_pass_unless_the_page_offered_the_second():
    # 01:30 happens twice in New York on 2026-11-01: 05:30 UTC (EDT), then 06:30 UTC (EST)
    wall = datetime(2026, 11, 1, 1, 30)
    assert local_time_to_utc("at", wall, "America/New_York") == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    after_first = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    assert local_time_to_utc("at", wall, "America/New_York", not_before=after_first) == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


def test_publish_time_after_the_horizon_is_refused():
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    check_publish_time("at", now + SCHEDULE_HORIZON - timedelta(minutes=1), now, None, None)
    with pytest.raises(InvalidInput) as error:
        check_publish_time("at", now + SCHEDULE_HORIZON, now, None, None)
    assert error.value.problems[0].reason == "is more than 7 days ahead"


def test_spread_is_inside_working_hours_ordered_and_in_the_future():
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 Paris
    times = spread_times(3, offered_window(now, None, None), PARIS)
    assert times == sorted(times) and len(set(times)) == 3
    for moment in times:
        local = moment.astimezone(ZoneInfo(PARIS))
        assert local.weekday() < 5 and 9 <= local.hour < 18
        assert moment >= now + MIN_LEAD


def test_spread_on_a_friday_evening_uses_next_week():
    friday_evening = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
    times = spread_times(2, offered_window(friday_evening, None, None), PARIS)
    assert [moment.astimezone(ZoneInfo(PARIS)).date().isoformat() for moment in times] == ["2026-12-01", "2026-12-03"]


def test_spread_with_no_working_hours_left_in_the_window_asks_for_a_time():
    friday_evening = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
    window = offered_window(friday_evening, None, friday_evening + timedelta(days=2))  # ends Sunday
    with pytest.raises(InvalidInput) as error:
        spread_times(2, window, PARIS)
    assert error.value.problems[0].field == "when"


@given(
    st.integers(min_value=1, max_value=4),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney"]),
    st.integers(min_value=0, max_value=14 * 24),
)
def test_spread_property(count, naive_now, zone, window_hours):
    now = naive_now.replace(tzinfo=UTC)
    window = offered_window(now, None, now + timedelta(hours=window_hours))
    try:
        times = spread_times(count, window, zone)
    except InvalidInput:
        return  # no working hours left in the window: the employee is asked to pick a time
    assert len(times) == count
    assert all(window.earliest <= moment < window.latest for moment in times)
    assert all(9 <= moment.astimezone(ZoneInfo(zone)).hour < 18 for moment in times)
    assert times == sorted(times)


class TestQuietHours:
    def test_parse_and_wrap_midnight(self):
        from chorus.domain.timing import QuietHours

        quiet = QuietHours.parse("22-07")
        assert quiet is not None and QuietHours.parse("") is None
        late = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 23:30 in Paris
        assert quiet.contains(late, PARIS)
        assert not quiet.contains(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), PARIS)
        assert quiet.next_end(late, PARIS) == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 07:00 Paris

    @pytest.mark.parametrize("text", ["7-7", "25-3", "x-y"])
    def test_bad_quiet_hours(self, text):
        from chorus.domain.timing import QuietHours

        with pytest.raises(ValueError):
            QuietHours.parse(text)
