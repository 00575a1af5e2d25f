"""at() / rate() / cron() evaluation with time zones and the AWS cron extensions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus_local.schedules import (
    AtExpression,
    CronExpression,
    RateExpression,
    ScheduleExpressionError,
    parse_schedule_expression,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def occurrences(expression: str, tz: str, start: datetime, days: int) -> list[datetime]:
    parsed = parse_schedule_expression(expression, tz)
    return list(parsed.occurrences(start, start + timedelta(days=days), start))


def test_at_uses_the_schedule_time_zone() -> None:
    parsed = parse_schedule_expression("at(2025-07-01T09:00:00)", "Europe/Paris")
    assert isinstance(parsed, AtExpression)
    assert parsed.when == utc(2025, 7, 1, 7, 0)  # CEST = UTC+2
    assert parse_schedule_expression("at(2025-01-01T09:00:00)", "Europe/Paris").occurrences(
        utc(2025, 1, 1), utc(2025, 1, 2)
    ).__next__() == utc(2025, 1, 1, 8, 0)
    assert list(parsed.occurrences(utc(2025, 7, 1, 7, 0), utc(2025, 8, 1))) == []  # window is (after, until]


def test_rate_counts_from_the_anchor() -> None:
    parsed = parse_schedule_expression("rate(10 minutes)")
    assert isinstance(parsed, RateExpression)
    anchor = utc(2025, 1, 1, 12, 0)
    got = list(parsed.occurrences(anchor + timedelta(minutes=15), anchor + timedelta(minutes=40), anchor))
    assert got == [anchor + timedelta(minutes=m) for m in (20, 30, 40)]
    assert parse_schedule_expression("rate(1 day)").occurrences(
        anchor, anchor + timedelta(days=2), anchor
    ).__next__() == (anchor + timedelta(days=1))


def test_weekly_cron_in_paris_across_daylight_saving() -> None:
    got = occurrences("cron(0 9 ? * MON *)", "Europe/Paris", utc(2025, 3, 20), 14)
    # 24 March is CET (UTC+1), 31 March is CEST (UTC+2): same wall time, different UTC.
    assert got == [utc(2025, 3, 24, 8, 0), utc(2025, 3, 31, 7, 0)]


def test_cron_skips_a_wall_time_removed_by_daylight_saving() -> None:
    got = occurrences("cron(30 2 * * ? *)", "Europe/Paris", utc(2025, 3, 29), 2)
    assert utc(2025, 3, 29, 1, 30) in got
    assert all(moment.date() != datetime(2025, 3, 30).date() for moment in got)


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        ("cron(0 12 L * ? *)", utc(2025, 2, 1), utc(2025, 2, 28, 12)),
        ("cron(0 12 ? * 6L *)", utc(2025, 2, 1), utc(2025, 2, 28, 12)),  # last Friday
        ("cron(0 12 ? * 3#2 *)", utc(2025, 2, 1), utc(2025, 2, 11, 12)),  # second Tuesday
        ("cron(0 12 15W * ? *)", utc(2025, 3, 1), utc(2025, 3, 14, 12)),  # 15 March 2025 is a Saturday
        ("cron(0/15 * * * ? *)", utc(2025, 1, 1, 0, 1), utc(2025, 1, 1, 0, 15)),
        ("cron(0 8-10 ? * MON-FRI *)", utc(2025, 1, 4), utc(2025, 1, 6, 8)),  # Saturday -> Monday
        ("cron(0 0 1 JAN ? 2027)", utc(2025, 1, 1), utc(2027, 1, 1)),
        ("cron(0 9 ? * FRI-MON *)", utc(2025, 1, 1), utc(2025, 1, 3, 9)),  # wrap-around range
    ],
)
def test_cron_extensions(expression: str, start: datetime, expected: datetime) -> None:
    parsed = parse_schedule_expression(expression, "UTC")
    assert isinstance(parsed, CronExpression)
    assert parsed.next_after(start) == expected


def test_cron_with_no_future_occurrence() -> None:
    parsed = parse_schedule_expression("cron(0 0 1 1 ? 2020)")
    assert isinstance(parsed, CronExpression)
    assert parsed.next_after(utc(2025, 1, 1)) is None


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 9 * * MON *)",  # needs ? in one day field
        "cron(0 9 ? * ? *)",
        "cron(0 9 * *)",
        "cron(61 9 ? * MON *)",
        "rate(0 minutes)",
        "rate(5 weeks)",
        "at(2025-13-01)",
        "every day",
    ],
)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse_schedule_expression(expression)


def test_unknown_time_zone() -> None:
    with pytest.raises(ScheduleExpressionError):
        parse_schedule_expression("rate(1 minute)", "Mars/Olympus")


@given(
    st.integers(min_value=1, max_value=180),
    st.integers(min_value=0, max_value=60 * 24 * 3),
    st.integers(min_value=0, max_value=60 * 24 * 3),
)
def test_the_latest_rate_occurrence_is_the_last_one_listed(every: int, after: int, span: int) -> None:
    anchor = datetime(2026, 11, 29, 17, 3, 11, tzinfo=UTC)
    expression = RateExpression(timedelta(minutes=every))
    start, until = anchor + timedelta(minutes=after), anchor + timedelta(minutes=after + span)
    listed = list(expression.occurrences(start, until, anchor))
    assert expression.latest(start, until, anchor) == (listed[-1] if listed else None)


@settings(deadline=None, max_examples=50)  # listing a quarter-hourly cron over 40 days is slow
@given(
    st.sampled_from(
        [
            ("cron(0/15 * * * ? *)", "UTC"),
            ("cron(0 9 ? * MON *)", "Europe/Paris"),
            ("cron(30 1,2 * * ? *)", "Europe/Paris"),  # 02:30 is skipped in March, repeated in October
            ("cron(0 12 L * ? *)", "America/New_York"),
        ]
    ),
    st.integers(min_value=0, max_value=60 * 24 * 400),
    st.integers(min_value=0, max_value=60 * 24 * 40),
)
def test_the_latest_cron_occurrence_is_the_last_one_listed(
    expression_and_zone: tuple[str, str], after: int, span: int
) -> None:
    expression = parse_schedule_expression(*expression_and_zone)
    start = datetime(2026, 1, 1, 0, 7, tzinfo=UTC) + timedelta(minutes=after)
    until = start + timedelta(minutes=span)
    listed = list(expression.occurrences(start, until))
    assert isinstance(expression, CronExpression)
    assert expression.latest(start, until) == (listed[-1] if listed else None)
