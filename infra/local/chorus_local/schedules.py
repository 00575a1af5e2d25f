"""EventBridge Scheduler expressions: ``at()``, ``rate()`` and 6-field ``cron()`` with time zones.

Pure functions, no clock: each expression yields its occurrences (timezone-aware UTC datetimes)
in a half-open window ``(after, until]``.

Cron follows the AWS syntax: ``cron(minutes hours day-of-month month day-of-week year)``, with
``* , - /`` everywhere, ``?`` in exactly one of the day fields, ``L`` and ``W`` in day-of-month,
``L`` and ``#`` in day-of-week (1-7 = SUN-SAT), month and day names. Wall-clock times are
evaluated in the schedule's time zone; a time skipped by a daylight-saving jump does not fire,
a repeated one fires once (first occurrence).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {
    name: index
    for index, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
_DAYS = {name: index for index, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_MAX_SEARCH_YEARS = 10


class ScheduleExpressionError(ValueError):
    """The expression is not valid EventBridge Scheduler syntax."""


def _aws_dow(day: date) -> int:
    """AWS day-of-week number: SUN=1 ... SAT=7."""
    return (day.isoweekday() % 7) + 1


def _parse_value(text: str, names: dict[str, int], low: int, high: int) -> int:
    upper = text.upper()
    value = names[upper] if upper in names else int(text) if text.isdigit() else None
    if value is None or not low <= value <= high:
        raise ScheduleExpressionError(f"bad value {text!r} (expected {low}-{high})")
    return value


def _parse_set(field_text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    names = names or {}
    values: set[int] = set()
    for item in field_text.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleExpressionError(f"bad step in {item!r}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _parse_value(first, names, low, high), _parse_value(last, names, low, high)
        else:
            start = _parse_value(base, names, low, high)
            end = high if step_text else start
        if start <= end:
            values.update(range(start, end + 1, step))
        else:  # wrap-around range such as FRI-MON
            span = list(range(start, high + 1)) + list(range(low, end + 1))
            values.update(span[::step])
    return values


DayCheck = Callable[[date], bool]


def _any_day(_day: date) -> bool:
    return True


def _is_last_day(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _is_last_weekday(day: date) -> bool:
    return day == _last_weekday(day.year, day.month)


def _nearest_weekday_check(target: int) -> DayCheck:
    def check(day: date) -> bool:
        return day == _nearest_weekday(day.year, day.month, target)

    return check


def _day_in(values: set[int]) -> DayCheck:
    def check(day: date) -> bool:
        return day.day in values

    return check


def _any_of(checks: list[DayCheck]) -> DayCheck:
    def check(day: date) -> bool:
        return any(item(day) for item in checks)

    return check


def _parse_day_of_month(text: str) -> DayCheck:
    if text == "?":
        return _any_day
    checks: list[DayCheck] = []
    for item in text.split(","):
        if item == "L":
            checks.append(_is_last_day)
        elif item == "LW":
            checks.append(_is_last_weekday)
        elif item.endswith("W"):
            checks.append(_nearest_weekday_check(_parse_value(item[:-1], {}, 1, 31)))
        else:
            checks.append(_day_in(_parse_set(item, 1, 31)))
    return _any_of(checks)


def _last_weekday(year: int, month: int) -> date:
    day = date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _nearest_weekday(year: int, month: int, target: int) -> date | None:
    last = calendar.monthrange(year, month)[1]
    if target > last:
        return None
    day = date(year, month, target)
    if day.weekday() == 5:  # Saturday -> Friday, unless that leaves the month
        return day - timedelta(days=1) if target > 1 else day + timedelta(days=2)
    if day.weekday() == 6:  # Sunday -> Monday, unless that leaves the month
        return day + timedelta(days=1) if target < last else day - timedelta(days=2)
    return day


def _weekday_in(values: set[int]) -> DayCheck:
    def check(day: date) -> bool:
        return _aws_dow(day) in values

    return check


def _last_of_month_weekday(weekday: int) -> DayCheck:
    def check(day: date) -> bool:
        return _aws_dow(day) == weekday and day.day + 7 > calendar.monthrange(day.year, day.month)[1]

    return check


def _nth_weekday(weekday: int, nth: int) -> DayCheck:
    def check(day: date) -> bool:
        return _aws_dow(day) == weekday and (day.day - 1) // 7 + 1 == nth

    return check


def _parse_day_of_week(text: str) -> DayCheck:
    if text == "?":
        return _any_day
    checks: list[DayCheck] = []
    for item in text.split(","):
        if item == "L":
            checks.append(_weekday_in({7}))
        elif item.endswith("L"):
            checks.append(_last_of_month_weekday(_parse_value(item[:-1], _DAYS, 1, 7)))
        elif "#" in item:
            weekday_text, _, nth_text = item.partition("#")
            nth = int(nth_text)
            if not 1 <= nth <= 5:
                raise ScheduleExpressionError(f"bad nth weekday in {item!r}")
            checks.append(_nth_weekday(_parse_value(weekday_text, _DAYS, 1, 7), nth))
        else:
            checks.append(_weekday_in(_parse_set(item, 1, 7, _DAYS)))
    return _any_of(checks)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError) as exc:
        raise ScheduleExpressionError(f"unknown time zone {name!r}") from exc


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AtExpression:
    when: datetime  # UTC

    @property
    def one_time(self) -> bool:
        return True

    def occurrences(self, after: datetime, until: datetime, anchor: datetime | None = None) -> Iterator[datetime]:
        if _aware(after) < self.when <= _aware(until):
            yield self.when

    def latest(self, after: datetime, until: datetime, anchor: datetime | None = None) -> datetime | None:
        return next(self.occurrences(after, until, anchor), None)


@dataclass(frozen=True)
class RateExpression:
    interval: timedelta

    @property
    def one_time(self) -> bool:
        return False

    def occurrences(self, after: datetime, until: datetime, anchor: datetime | None = None) -> Iterator[datetime]:
        """``anchor + k * interval`` for k >= 1 (the first run is one interval after creation)."""
        after, until = _aware(after), _aware(until)
        start = _aware(anchor) if anchor is not None else after
        k = max(1, int((after - start) / self.interval))
        while True:
            moment = start + k * self.interval
            if moment > until:
                return
            if moment > after:
                yield moment
            k += 1

    def latest(self, after: datetime, until: datetime, anchor: datetime | None = None) -> datetime | None:
        """The last of ``occurrences(after, until, anchor)``, without walking through the others."""
        after, until = _aware(after), _aware(until)
        start = _aware(anchor) if anchor is not None else after
        k = int((until - start) / self.interval)
        moment = start + k * self.interval
        return moment if k >= 1 and moment > after else None


@dataclass(frozen=True)
class CronExpression:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: Callable[[date], bool]
    day_of_week: Callable[[date], bool]
    zone: ZoneInfo

    @property
    def one_time(self) -> bool:
        return False

    def next_after(self, after: datetime) -> datetime | None:
        after = _aware(after).astimezone(UTC)
        local_day = after.astimezone(self.zone).date()
        last_year = min(max(self.years), local_day.year + _MAX_SEARCH_YEARS)
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        while local_day.year <= last_year:
            for moment in self._moments_on(local_day, hours, minutes):
                if moment > after:
                    return moment
            local_day += timedelta(days=1)
        return None

    def _moments_on(self, local_day: date, hours: list[int], minutes: list[int]) -> Iterator[datetime]:
        """The schedule's moments on one local day, in the order of ``hours`` and ``minutes``:
        none on a day it does not run, none for a wall time a daylight-saving jump skips."""
        if not (
            local_day.year in self.years
            and local_day.month in self.months
            and self.day_of_month(local_day)
            and self.day_of_week(local_day)
        ):
            return
        for hour in hours:
            for minute in minutes:
                wall = datetime(local_day.year, local_day.month, local_day.day, hour, minute, tzinfo=self.zone)
                moment = wall.astimezone(UTC)
                if moment.astimezone(self.zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
                    yield moment

    def latest(self, after: datetime, until: datetime, anchor: datetime | None = None) -> datetime | None:
        """The last of ``occurrences(after, until)``, walking days back from ``until`` instead of
        every occurrence forward (a quarter-hourly cron over three months is 9,000 of them)."""
        after, until = _aware(after).astimezone(UTC), _aware(until).astimezone(UTC)
        local_day = until.astimezone(self.zone).date()
        first_day = after.astimezone(self.zone).date()
        hours, minutes = sorted(self.hours, reverse=True), sorted(self.minutes, reverse=True)
        while local_day >= first_day:
            for moment in self._moments_on(local_day, hours, minutes):
                if moment <= after:
                    return None
                if moment <= until:
                    return moment
            local_day -= timedelta(days=1)
        return None

    def occurrences(self, after: datetime, until: datetime, anchor: datetime | None = None) -> Iterator[datetime]:
        until = _aware(until)
        moment = self.next_after(after)
        while moment is not None and moment <= until:
            yield moment
            moment = self.next_after(moment)


ScheduleExpression = AtExpression | RateExpression | CronExpression

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+)\s+(minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")


def parse_schedule_expression(expression: str, timezone: str | None = "UTC") -> ScheduleExpression:
    text = expression.strip()
    zone = _zone(timezone)
    if match := _AT.match(text):
        wall = datetime.fromisoformat(match.group(1)).replace(tzinfo=zone)
        return AtExpression(wall.astimezone(UTC))
    if match := _RATE.match(text):
        value, unit = int(match.group(1)), match.group(2).rstrip("s")
        if value < 1:
            raise ScheduleExpressionError("rate value must be positive")
        return RateExpression(timedelta(**{f"{unit}s": value}))
    if match := _CRON.match(text):
        fields = match.group(1).split()
        if len(fields) != 6:
            raise ScheduleExpressionError("cron() needs 6 fields: minutes hours day-of-month month day-of-week year")
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise ScheduleExpressionError("use ? in exactly one of day-of-month and day-of-week")
        return CronExpression(
            minutes=frozenset(_parse_set(minute, 0, 59)),
            hours=frozenset(_parse_set(hour, 0, 23)),
            months=frozenset(_parse_set(month, 1, 12, _MONTHS)),
            years=frozenset(_parse_set(year, 1970, 2199)),
            day_of_month=_parse_day_of_month(dom),
            day_of_week=_parse_day_of_week(dow),
            zone=zone,
        )
    raise ScheduleExpressionError(f"unsupported schedule expression {expression!r}")
