"""When posts go out: the digest week, chosen times, and spreading posts over working hours.

Times are stored in UTC; every rule about "this week", working hours or a chosen wall-clock
time is evaluated in the employee's own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chorus.errors import FieldProblem, InvalidInput

WORKDAY_START = time(9, 0)
WORKDAY_END = time(18, 0)
# A post approved "now" goes out right away; chosen or spread times are at least this far ahead
# so the employee can still cancel.
MIN_LEAD = timedelta(minutes=10)
SLOT = timedelta(minutes=5)


@dataclass(frozen=True)
class Week:
    """An ISO week in one time zone: [start, end) as aware UTC datetimes."""

    week_id: str
    start: datetime
    end: datetime


def week_of(moment: datetime, zone: str) -> Week:
    local = moment.astimezone(ZoneInfo(zone))
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, time.min, tzinfo=ZoneInfo(zone))
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=ZoneInfo(zone))
    year, week, _ = monday.isocalendar()
    return Week(f"{year}-W{week:02d}", start.astimezone(UTC), end.astimezone(UTC))


def overlaps(window_start: datetime | None, window_end: datetime | None, week: Week) -> bool:
    return (window_start is None or window_start < week.end) and (window_end is None or window_end > week.start)


def local_time_to_utc(field: str, wall_clock: datetime, zone: str) -> datetime:
    """Reads a wall-clock time (from a datetime-local input) in ``zone``; refuses times DST skips."""
    tz = ZoneInfo(zone)
    aware = wall_clock.replace(tzinfo=tz, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != wall_clock.replace(tzinfo=None):
        raise InvalidInput(
            "that time does not exist",
            [
                FieldProblem(
                    field, f"{wall_clock:%Y-%m-%d %H:%M} does not exist in {zone} (clocks change); pick another"
                )
            ],
        )
    return aware.astimezone(UTC)


def check_publish_time(
    field: str,
    publish_at: datetime,
    now: datetime,
    window_start: datetime | None,
    window_end: datetime | None,
) -> None:
    problems: list[FieldProblem] = []
    if publish_at < now + MIN_LEAD - timedelta(seconds=1):
        problems.append(FieldProblem(field, f"must be at least {int(MIN_LEAD.total_seconds() // 60)} minutes from now"))
    if window_start and publish_at < window_start:
        problems.append(FieldProblem(field, "is before this content may be shared"))
    if window_end and publish_at >= window_end:
        problems.append(FieldProblem(field, "is after this content may be shared"))
    if problems:
        raise InvalidInput("pick another time", problems)


def _working_intervals(start: datetime, end: datetime, zone: str) -> list[tuple[datetime, datetime]]:
    tz = ZoneInfo(zone)
    intervals: list[tuple[datetime, datetime]] = []
    day = start.astimezone(tz).date()
    while datetime.combine(day, time.min, tzinfo=tz) < end:
        if day.weekday() < 5:
            open_at = datetime.combine(day, WORKDAY_START, tzinfo=tz).astimezone(UTC)
            close_at = datetime.combine(day, WORKDAY_END, tzinfo=tz).astimezone(UTC)
            lower, upper = max(open_at, start), min(close_at, end)
            if lower < upper:
                intervals.append((lower, upper))
        day += timedelta(days=1)
    return intervals


def spread_over_week(
    count: int,
    now: datetime,
    zone: str,
    window_start: datetime | None,
    window_end: datetime | None,
) -> list[datetime]:
    """``count`` times spaced evenly over the working hours left this week (and in the window).

    Deterministic, so a retried approval computes the same times.
    """
    week = week_of(now, zone)
    start = max(now + MIN_LEAD, week.start, window_start or week.start)
    end = min(week.end, window_end or week.end)
    intervals = _working_intervals(start, end, zone)
    total = sum((upper - lower for lower, upper in intervals), timedelta())
    if total < SLOT * count:
        raise InvalidInput(
            "no working hours are left this week",
            [FieldProblem("when", "not enough working hours are left this week to spread posts; pick a time")],
        )
    times: list[datetime] = []
    for index in range(count):
        # Middles of equal shares of the working time: strictly inside it, never at a closing time.
        offset = total * (2 * index + 1) / (2 * count)
        for lower, upper in intervals:
            if offset < upper - lower:
                moment = lower + offset
                times.append(_floor_to_slot(moment, lower))
                break
            offset -= upper - lower
    return times


def _floor_to_slot(moment: datetime, floor: datetime) -> datetime:
    epoch = moment.timestamp()
    slot = SLOT.total_seconds()
    rounded = datetime.fromtimestamp(epoch - epoch % slot, UTC)
    return max(rounded, floor)


@dataclass(frozen=True)
class QuietHours:
    """Hours (in the employee's zone) when nothing is posted, e.g. 22-07; may wrap midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """'22-07' -> 22:00 to 07:00; '' -> no quiet hours."""
        if not text.strip():
            return None
        first, _, second = text.strip().partition("-")
        start, end = int(first), int(second)
        if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
            raise ValueError("quiet hours look like 22-07 (two different hours, 0 to 23)")
        return cls(start, end)

    def contains(self, moment: datetime, zone: str) -> bool:
        hour = moment.astimezone(ZoneInfo(zone)).hour
        if self.start < self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end

    def next_end(self, moment: datetime, zone: str) -> datetime:
        """The first instant after ``moment`` when the quiet hours are over."""
        local = moment.astimezone(ZoneInfo(zone))
        end = local.replace(hour=self.end, minute=0, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)

    def label(self) -> str:
        return f"{self.start:02d}:00-{self.end:02d}:00"
