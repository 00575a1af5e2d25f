"""When posts go out: the digest week, the times offered to the employee, chosen and spread times.

Times are stored in UTC; every rule about working hours or a chosen wall-clock time is evaluated
in the employee's own time zone.

The times offered (``offered_window``) are the content's window capped by the scheduling horizon,
from ``MIN_LEAD`` ahead: the activity page shows exactly this window, and an approval is checked
against it (``check_publish_time``), so the page never offers a time the approval refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chorus.errors import FieldProblem, InvalidInput

WORKDAY_START = time(9, 0)
WORKDAY_END = time(18, 0)
# A post approved "now" goes out right away; chosen or spread times are at least this far ahead
# so the employee can still cancel.
MIN_LEAD = timedelta(minutes=10)
# The employee reads the page before approving: a time it offered is still accepted this long
# after it was shown (the page's earliest time is MIN_LEAD ahead of when it was rendered).
LEAD_GRACE = timedelta(minutes=5)
# Policy: a post goes out within a week of its approval ("a time this week" read as the coming
# seven days, so a Sunday or a Friday evening still offers the working week ahead), and never
# after the content's window.
SCHEDULE_HORIZON = timedelta(days=7)
SLOT = timedelta(minutes=5)
_MINUTE = timedelta(minutes=1)


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


def week_from_id(week_id: str, zone: str) -> Week:
    """The week a ``week_of`` id names ("2026-W48"), in the same zone."""
    year, _, number = week_id.partition("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    return week_of(datetime.combine(monday, time(12), tzinfo=ZoneInfo(zone)), zone)


def overlaps(window_start: datetime | None, window_end: datetime | None, week: Week) -> bool:
    return (window_start is None or window_start < week.end) and (window_end is None or window_end > week.start)


@dataclass(frozen=True)
class OfferedWindow:
    """The times an employee may choose: whole minutes from ``earliest``, before ``latest``."""

    earliest: datetime
    latest: datetime

    @property
    def last_minute(self) -> datetime:
        """The last whole minute before ``latest`` (what a minute-precision picker may show)."""
        return _floor_minute(self.latest - timedelta(microseconds=1))

    @property
    def empty(self) -> bool:
        return self.earliest > self.last_minute


def _floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _ceil_minute(moment: datetime) -> datetime:
    floor = _floor_minute(moment)
    return floor if floor == moment else floor + _MINUTE


def offered_window(now: datetime, window_start: datetime | None, window_end: datetime | None) -> OfferedWindow:
    """The content's window capped by the horizon, from ``MIN_LEAD`` ahead, in whole minutes."""
    earliest = now + MIN_LEAD
    if window_start is not None and window_start > earliest:
        earliest = window_start
    latest = now + SCHEDULE_HORIZON
    if window_end is not None and window_end < latest:
        latest = window_end
    return OfferedWindow(_ceil_minute(earliest), latest)


def local_time_to_utc(field: str, wall_clock: datetime, zone: str, *, not_before: datetime | None = None) -> datetime:
    """Reads a wall-clock time (from a datetime-local input) in ``zone``; refuses times DST skips.

    A time the clocks pass twice (the hour repeated when DST ends) is its first pass, unless that
    is before ``not_before`` and the second is not: the page may offer the second pass.
    """
    tz = ZoneInfo(zone)
    naive = wall_clock.replace(tzinfo=None)
    first = naive.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise InvalidInput(
            "that time does not exist",
            [FieldProblem(field, f"{naive:%Y-%m-%d %H:%M} does not exist in {zone} (clocks change); pick another")],
        )
    first_utc = first.astimezone(UTC)
    second_utc = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if not_before is not None and first_utc < not_before <= second_utc:
        return second_utc
    return first_utc


def earliest_accepted(now: datetime) -> datetime:
    """The earliest time an approval accepts: what a page shown ``LEAD_GRACE`` ago offered."""
    return now + MIN_LEAD - LEAD_GRACE


def check_publish_time(
    field: str,
    publish_at: datetime,
    now: datetime,
    window_start: datetime | None,
    window_end: datetime | None,
) -> None:
    problems: list[FieldProblem] = []
    lead_minutes = int((MIN_LEAD - LEAD_GRACE).total_seconds() // 60)
    if publish_at < earliest_accepted(now):
        problems.append(FieldProblem(field, f"must be at least {lead_minutes} minutes from now"))
    if window_start and publish_at < window_start:
        problems.append(FieldProblem(field, "is before this content may be shared"))
    if window_end and publish_at >= window_end:
        problems.append(FieldProblem(field, "is after this content may be shared"))
    if publish_at >= now + SCHEDULE_HORIZON:
        problems.append(FieldProblem(field, f"is more than {SCHEDULE_HORIZON.days} days ahead"))
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


def spread_times(count: int, window: OfferedWindow, zone: str) -> list[datetime]:
    """``count`` times spaced evenly over the working hours of the offered window.

    Deterministic for a given window, so a retried approval computes the same times.
    """
    intervals = _working_intervals(window.earliest, window.latest, zone)
    total = sum((upper - lower for lower, upper in intervals), timedelta())
    if total < SLOT * count:
        raise InvalidInput(
            "no working hours are left to spread posts",
            [FieldProblem("when", "not enough working hours are left in this content's window; pick a time")],
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
