"""Points: which changes in the table earn what, the periods they count in, and what a rank says.

Awards come from the table's stream: an approval given, a post published, a unique human click
on an employee's tracked link. Each has an id derived from its source (the approval, the click),
so a retried stream batch awards nothing twice.

A rank is exact near the top of a board (``EXACT_RANK_LIMIT``); further down it is a bound read
from a score histogram the scorer maintains (``Histogram``), worded so that it is always true.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from chorus.domain.content import Content
from chorus.domain.employee import Employee

ALL_TIME = "ALL"
OVERALL = "*"

# Exact ranks are counted up to this place: the count reads at most this many index entries.
EXACT_RANK_LIMIT = 1000
# Company-wide items every award updates are split in shards, picked by the award's source event:
# each shard partition then takes 1/N of the writes (DynamoDB: about 1,000 writes/s per partition).
STATS_SHARDS = 8
HISTOGRAM_SHARDS = 8


class AwardKind(StrEnum):
    APPROVED = "approved"
    PUBLISHED = "published"
    CLICK = "click"
    REVERSAL = "reversal"


class Period(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    ALL = "all"


def period_keys(moment: datetime) -> dict[Period, str]:
    """Calendar periods in UTC: one company-wide month and quarter for everyone."""
    quarter = (moment.month - 1) // 3 + 1
    return {
        Period.MONTH: f"M{moment:%Y-%m}",
        Period.QUARTER: f"Q{moment:%Y}-{quarter}",
        Period.ALL: ALL_TIME,
    }


def week_key(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}W{week:02d}"


def company_week_key(moment: datetime, zone: str) -> str:
    """The counters' week: the ISO week of ``moment`` on the company's wall clock (DigestTimezone,
    the digest's zone), so "this week" starts on the company's Monday midnight, not UTC's."""
    local = moment.astimezone(ZoneInfo(zone))
    return iso_week_key(local.date())


NETWORK_PUBLICATIONS_PREFIX = "publications_"


def network_publications_attribute(network: str) -> str:
    """The company counter row's attribute counting publications on one network."""
    return f"{NETWORK_PUBLICATIONS_PREFIX}{network}"


def iso_week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"W{year:04d}-{week:02d}"


class AwardOutcome(StrEnum):
    AWARDED = "awarded"
    ALREADY_AWARDED = "already_awarded"
    # A click past its post's cap: counted as a visit, without points.
    OVER_CAP = "over_cap"
    # The employee was erased between the batch's read and the award: nothing written.
    ERASED = "erased"


Post = tuple[str, str, str]
"""(employee id, content id, network): one approved post, the unit a click cap applies to."""


@dataclass
class Context:
    """Profiles, content and click caps the changes of one stream batch refer to, read together;
    plus the visits past a cap the batch counted, written once per post when the batch ends."""

    employees: dict[str, Employee]
    hidden: set[str]
    contents: dict[str, Content]
    awarded_clicks: dict[Post, int] = field(default_factory=dict)
    # Click awards already in the ledger: a redelivered record, not a new visit.
    awarded_events: set[str] = field(default_factory=set)
    visits: dict[str, Post] = field(default_factory=dict)

    def visits_per_post(self, records: Iterable[str]) -> dict[Post, int]:
        """Visits of the given stream records (their ids), added up per post."""
        counts: dict[Post, int] = {}
        for record in records:
            post = self.visits.get(record)
            if post is not None:
                counts[post] = counts.get(post, 0) + 1
        return counts


@dataclass(frozen=True)
class Award:
    event_id: str
    kind: AwardKind
    employee_id: str
    points: int
    occurred_at: datetime
    content_id: str | None = None
    network: str | None = None
    campaign: str = ""
    reason: str = ""


def awards_from_change(
    old: dict[str, Any] | None, new: dict[str, Any] | None, content: Content | None, occurred_at: datetime
) -> list[Award]:
    """What one table change earns (plain item dicts, as deserialized from the stream)."""
    if not new or content is None:
        return []
    entity = new.get("entity")
    if entity == "approval":
        return _approval_awards(old, new, content, occurred_at)
    if entity == "click":
        if old and old.get("clicked_at") == new.get("clicked_at"):
            return []  # the same click record rewritten: not a new click
        return [
            Award(
                event_id=click_event_id(new),
                kind=AwardKind.CLICK,
                employee_id=str(new["employee_id"]),
                points=content.points_click,
                occurred_at=occurred_at,
                content_id=content.content_id,
                network=str(new.get("network", "")),
                campaign=content.campaign,
            )
        ]
    return []


def click_event_id(click: dict[str, Any]) -> str:
    """The award id of a click record: the link, the visitor and the time the click counted."""
    return f"click#{click['code']}#{click['SK']}#{click['clicked_at']}"


def _approval_awards(
    old: dict[str, Any] | None, new: dict[str, Any], content: Content, occurred_at: datetime
) -> list[Award]:
    approval_id = str(new["approval_id"])
    status, before = new.get("status"), (old or {}).get("status")

    def award(kind: AwardKind, points: int) -> Award:
        return Award(
            event_id=f"{kind.value}#{approval_id}",
            kind=kind,
            employee_id=str(new["employee_id"]),
            points=points,
            occurred_at=occurred_at,
            content_id=content.content_id,
            network=str(new["network"]),
            campaign=content.campaign,
        )

    awards: list[Award] = []
    if status == "SCHEDULED" and before not in ("SCHEDULED", "PUBLISHING"):
        # Counted once scheduled: at once, when a reviewer approves an edited text
        # (ReviewEditedPosts), or approved again after a rejection or a cancellation. One award per
        # approval (employee, content, network), whatever the revisions: the award's id is the
        # approval's, and the ledger keeps one per id (an approval awarded before earns nothing more).
        awards.append(award(AwardKind.APPROVED, content.points))
    if status == "PUBLISHED" and before != "PUBLISHED":
        awards.append(award(AwardKind.PUBLISHED, content.points_publish))
    return awards


@dataclass(frozen=True)
class Ranked:
    rank: int
    employee_id: str
    name: str
    score: int


@dataclass(frozen=True)
class Neighbour:
    """Someone just above or below on the board: a name and a score, no place (ties would make
    a place computed from one's own wrong)."""

    name: str
    score: int


@dataclass(frozen=True)
class Standing:
    """An employee on one board: exactly one of ``rank`` (exact place), ``top_percent`` (of ``among``
    people with points) or ``beyond`` (not in the top N) is set when they are on the board; none
    when they are hidden or have no points."""

    score: int
    rank: int | None = None
    top_percent: int | None = None
    among: int | None = None
    beyond: int | None = None
    above: list[Neighbour] = field(default_factory=list)
    below: list[Neighbour] = field(default_factory=list)

    @property
    def on_board(self) -> bool:
        return self.rank is not None or self.top_percent is not None or self.beyond is not None


def shard_of(source: str, shards: int) -> int:
    """A stable shard for a source event: the same event always writes the same shard (a retried
    award finds its own counters), different events spread evenly. Not Python's hash(), which
    changes with every process."""
    digest = hashlib.sha256(source.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def score_bucket(score: int) -> int:
    """The lower bound of the histogram bucket holding ``score``: every score below 100 has its own
    bucket, larger ones share buckets of two significant digits (100-109, ..., 1000-1099: at most
    10% wide). Bucket 0 holds every score of 0 or less (reversals can take a score below 0)."""
    if score <= 0:
        return 0
    if score < 100:
        return score
    unit: int = 10 ** (len(str(score)) - 2)
    return score // unit * unit


@dataclass(frozen=True)
class Position:
    """Where a score stands among everyone counted in a histogram.

    ``ahead_at_least`` people have a strictly higher score; at most ``at_most`` people (the
    employee included) have this score or more, so the employee's place is at most that, however
    ties are ordered. ``among`` is everyone counted."""

    ahead_at_least: int
    at_most: int
    among: int

    @property
    def top_percent(self) -> int:
        """The smallest whole percentage p with "top p%" true: place <= p% of everyone."""
        return max(1, math.ceil(100 * self.at_most / self.among))


@dataclass(frozen=True)
class Histogram:
    """People per score bucket on one board (the shards added up)."""

    counts: Mapping[int, int]

    @classmethod
    def from_shards(cls, shards: Iterable[Mapping[str, Any]]) -> Histogram:
        counts: dict[int, int] = {}
        for shard in shards:
            for name, value in shard.items():
                if name.startswith("h") and name[1:].isdigit():
                    counts[int(name[1:])] = counts.get(int(name[1:]), 0) + int(value)
        return cls(counts)

    def position(self, score: int) -> Position | None:
        """Bounds on the place of someone counted here with ``score``; None when the histogram cannot
        have counted them (scores from before it existed): no bound is better than a false one."""
        mine = score_bucket(score)
        in_bucket = self.counts.get(mine, 0)
        if in_bucket < 1:
            return None
        # Buckets above hold only higher scores; this one may hold higher, equal and lower ones.
        above = sum(count for bucket, count in self.counts.items() if bucket > mine)
        return Position(ahead_at_least=above, at_most=above + in_bucket, among=sum(self.counts.values()))


def bucket_attribute(bucket: int) -> str:
    return f"h{bucket}"
