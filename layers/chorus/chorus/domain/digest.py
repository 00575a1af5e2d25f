"""What goes into each employee's weekly digest, and the batches the planner hands the sender."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.content import Content, ContentStatus
from chorus.domain.employee import DIGEST_SLOT_PATTERN, Employee
from chorus.domain.slack import DigestChannel
from chorus.domain.timing import Week, overlaps, week_of

# The template's DigestTimezone default: the zone whose weeks the digest runs are counted in.
DEFAULT_DIGEST_TIMEZONE = "Europe/Paris"
# A week's run record (requests and counts) is the history of sends: kept for a year and more.
RUN_LIFETIME = timedelta(days=400)
# Employees per SQS message. The message carries content ids, never content (the sender reads the
# content once per batch): 50 recipients make about 20 KB, and each batch costs the sender two
# calls besides the two per recipient (one BatchGetItem, one run-counter update), 0.04 a recipient.
EMPLOYEES_PER_BATCH = 50
# A batch is also closed before its body passes this many bytes (recipients with long names or
# many content items): the DigestQueue's MaximumMessageSize (64 KiB) is never approached.
BATCH_BODY_BUDGET = 48 * 1024
# The DigestQueue's MaximumMessageSize, set in template.yaml to the same value.
DIGEST_MESSAGE_LIMIT = 64 * 1024


def activities_for(employee: Employee, contents: Iterable[Content], week: Week) -> list[Content]:
    """Content active this week, meant for one of the employee's groups, whose current version the
    employee has not decided on yet (a changed item comes back to review again)."""
    chosen: list[Content] = []
    groups = set(employee.groups)
    for content in contents:
        if content.status is not ContentStatus.ACTIVE:
            continue
        if not overlaps(content.starts_at, content.ends_at, week):
            continue
        if content.groups and not groups.intersection(content.groups):
            continue
        if employee.has_decided(content.content_id, content.version):
            continue
        chosen.append(content)
    return chosen


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    employee_id: str
    email: str
    name: str
    locale: str
    timezone: str
    content_ids: list[str]
    # Last week's impact (points, visits), shown at the top of the digest when there was some.
    last_week_points: int = 0
    last_week_clicks: int = 0
    # Slack: where they want the digest, their Slack user, when we last looked them up.
    digest_channel: DigestChannel = DigestChannel.EMAIL
    slack_user_id: str | None = None
    slack_checked_at: datetime | None = None


class DigestBatch(BaseModel):
    """One SQS message: up to EMPLOYEES_PER_BATCH recipients and the ids of their content."""

    model_config = ConfigDict(frozen=True)

    week_id: str
    week_start: datetime
    week_end: datetime
    recipients: list[Recipient]

    def content_ids(self) -> list[str]:
        """Every content id the batch's recipients need, each once, in first-seen order."""
        return list(dict.fromkeys(content_id for recipient in self.recipients for content_id in recipient.content_ids))


class PlanPage(BaseModel):
    """One SQS message of the plan queue: plan the roster page that starts at ``start``.

    The planner handles one page per message and queues the next page's message, so no
    invocation holds more than one roster page, whatever the roster's size. ``run_id`` names one
    request to send the week's digest; (run_id, page) is claimed once, so a redelivered or
    duplicated page message plans nothing twice and a chain never forks.
    """

    model_config = ConfigDict(frozen=True)

    week_id: str
    run_id: str
    page: int = Field(ge=0)
    start: dict[str, Any] | None = None
    # The time zone and digest slot whose morning wave this is (their employees only); None:
    # the whole roster.
    zone: str | None = None
    slot: str | None = None


# The wave of the employees indexed before the roster index was sorted by zone: they get the
# digest at the company's digest time in DigestTimezone, as before, until their next roster change.
UNZONED = "(unzoned)"
# The wave slot of the employees who kept the company's digest time (DigestSchedule): they follow
# it when an admin changes it.
COMPANY_SLOT = "company"
# How often the wave schedule ticks: every UTC offset in use is a multiple of 15 minutes.
WAVE_INTERVAL = timedelta(minutes=15)
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_CRON_DAYS = {"SUN": 6, "MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5}
# What an employee may choose on /me: a working day, a quarter hour from 06:00 to 18:00 local.
CHOICE_WEEKDAYS = range(5)
EARLIEST_CHOICE = time(6, 0)
LATEST_CHOICE = time(18, 0)


@dataclass(frozen=True)
class DigestTime:
    """When the digest reaches an employee: a weekday and a wall-clock time in their own zone."""

    weekday: int  # Monday is 0
    at: time

    @classmethod
    def from_cron(cls, expression: str) -> DigestTime:
        """The weekday and time of a weekly cron such as ``cron(0 9 ? * MON *)`` (DigestSchedule)."""
        fields = expression.strip().removeprefix("cron(").removesuffix(")").split()
        if len(fields) != 6 or not (fields[0].isdigit() and fields[1].isdigit()):
            raise ValueError("DigestSchedule is a weekly cron such as cron(0 9 ? * MON *)")
        day = fields[4].upper()
        if day.isdigit() and 1 <= int(day) <= 7:  # EventBridge numbers Sunday 1
            weekday = (int(day) + 5) % 7
        elif day in _CRON_DAYS:
            weekday = _CRON_DAYS[day]
        else:
            raise ValueError("DigestSchedule names one day of the week, such as MON")
        minute, hour = int(fields[0]), int(fields[1])
        if minute % 15 or hour > 23:
            raise ValueError("DigestSchedule's time is on a quarter hour, such as 9:00 or 8:45")
        return cls(weekday, time(hour, minute))

    @classmethod
    def from_slot(cls, slot: str) -> DigestTime:
        """The inverse of ``slot`` ("MON0900")."""
        if not re.fullmatch(DIGEST_SLOT_PATTERN, slot):
            raise ValueError("not a digest slot such as MON0900")
        return cls(WEEKDAYS.index(slot[:3]), time(int(slot[3:5]), int(slot[5:7])))

    @classmethod
    def local(cls, moment: datetime, zone: str) -> DigestTime:
        """The weekday and quarter hour ``moment`` is in ``zone``."""
        wall = moment.astimezone(_zone(zone))
        return cls(wall.weekday(), time(wall.hour, wall.minute - wall.minute % 15))

    @property
    def slot(self) -> str:
        """How the roster index and the profile spell it: "MON0900"."""
        return f"{WEEKDAYS[self.weekday]}{self.at:%H%M}"

    def is_choice(self) -> bool:
        """True if an employee may choose it on /me."""
        return (
            self.weekday in CHOICE_WEEKDAYS
            and EARLIEST_CHOICE <= self.at <= LATEST_CHOICE
            and self.at.minute % 15 == 0
            and self.at.second == 0
        )


def choices() -> list[DigestTime]:
    """Every digest time an employee may choose, in the week's order."""
    first = EARLIEST_CHOICE.hour * 4 + EARLIEST_CHOICE.minute // 15
    last = LATEST_CHOICE.hour * 4 + LATEST_CHOICE.minute // 15
    return [
        DigestTime(day, time(quarter // 4, quarter % 4 * 15))
        for day in CHOICE_WEEKDAYS
        for quarter in range(first, last + 1)
    ]


@dataclass(frozen=True)
class Wave:
    """The employees of one zone whose digest time (their own, or the company's) is this tick."""

    zone: str
    slot: str  # a DigestTime.slot, COMPANY_SLOT, or with UNZONED the company's

    @property
    def run_id(self) -> str:
        return f"wave-{self.zone}-{self.slot}"

    @property
    def label(self) -> str:
        """How the week's run lists it: "Europe/Paris MON0900"."""
        return f"{self.zone} {self.slot}"


def due_waves(tick: datetime, zones: Iterable[str], company: DigestTime, company_zone: str) -> list[Wave]:
    """The waves a quarter-hour tick starts: in each zone, the employees who chose its local
    weekday and time, and if it is the company's digest time there, those who kept it."""
    waves: list[Wave] = []
    for zone in sorted(zones):
        if not _is_wall_time(tick, zone):
            continue
        local = DigestTime.local(tick, zone)
        if local.is_choice():
            waves.append(Wave(zone, local.slot))
        if local == company:
            waves.append(Wave(zone, COMPANY_SLOT))
    if DigestTime.local(tick, company_zone) == company and _is_wall_time(tick, company_zone):
        waves.append(Wave(UNZONED, company.slot))
    return waves


def _is_wall_time(tick: datetime, zone: str) -> bool:
    """False for the second pass of a wall time repeated when the clocks go back: the wave
    starts once, the first time."""
    return tick.astimezone(_zone(zone)).fold == 0


@cache
def _zone(name: str) -> ZoneInfo:
    """Every zone in use is looked at each tick: keep them loaded (ZoneInfo keeps only a few)."""
    return ZoneInfo(name)


def wave_tick(moment: datetime) -> datetime:
    """The quarter hour a tick stands for (the schedule's time, or a late retry of it)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


class PageClaim(enum.Enum):
    CLAIMED = "claimed"  # this message plans the page (first time, or again after failing)
    DONE = "done"  # the page was planned already: nothing to do
    TAKEN = "taken"  # another message (a duplicate) is planning it


@dataclass(frozen=True)
class PageCounts:
    employees: int
    recipients: int
    unsubscribed: int
    nothing_to_share: int
    last: bool


@dataclass(frozen=True)
class DigestRun:
    """One week's digest as it stands: every request to send it, and what the senders did.

    Planning is counted page by page: ``runs_planned`` equals ``requests`` plus the zone waves
    started once every run's last roster page is planned. ``sent`` is exact (each send is claimed once per employee and
    week). ``already_sent`` counts the times a sender skipped someone who had this week's
    digest: a second request for the week, or a batch SQS delivered again. ``failed`` counts
    failed sends; SQS delivers their batch again, so a later success also counts in ``sent``.
    """

    week_id: str
    requests: int = 0
    # Planning, counted once per roster page when the page is done.
    pages: int = 0
    employees: int = 0
    unsubscribed: int = 0
    nothing_to_share: int = 0
    runs_planned: int = 0
    # The waves started this week ("<zone> <slot>", Wave.label).
    waves: frozenset[str] = frozenset()
    queued: int = 0
    sent: int = 0
    already_sent: int = 0
    failed: int = 0
    # Feedback on the week's email, counted once per employee as it arrives (the week it arrived):
    # hard bounces, spam complaints, and unsubscribes (the link, or a complaint).
    bounced: int = 0
    complained: int = 0
    unsubscribes: int = 0
    first_requested_at: datetime | None = None
    last_requested_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "week_id": self.week_id,
            "requests": self.requests,
            "planning": {
                "runs_planned": self.runs_planned,
                "zone_waves": sorted(self.waves),
                "pages": self.pages,
                "employees": self.employees,
                "not_queued": {"unsubscribed": self.unsubscribed, "nothing_to_share": self.nothing_to_share},
            },
            "queued": self.queued,
            "sent": self.sent,
            "skipped": {"already_sent": self.already_sent},
            "failed": self.failed,
            "feedback": {"bounced": self.bounced, "complained": self.complained, "unsubscribes": self.unsubscribes},
            "first_requested_at": self.first_requested_at.isoformat() if self.first_requested_at else None,
            "last_requested_at": self.last_requested_at.isoformat() if self.last_requested_at else None,
        }


@dataclass(frozen=True)
class RunWeek:
    """The week's run an event counts in (feedback, unsubscribes): the week it happened in, in
    the company's digest zone, and when that run's record may go."""

    week_id: str
    expires_at: datetime


def run_week(moment: datetime, zone: str) -> RunWeek:
    week = week_of(moment, zone)
    return RunWeek(week.week_id, week.end + RUN_LIFETIME)
