"""Participation by group over time: per month, the share of a group's active employees who
approved at least once.

The scorer counts each group's participants per month (STATS group rows, sharded); the report
function's daily census counts each group's active employees. The census run keeps one snapshot
per month (``MonthParticipation``): the month's participants per group and the group's active
employees as counted that month, so a past month's share keeps the denominator of its own time,
and the console reads twelve months in one Query instead of 12 months x 8 shards x every group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Groups kept per monthly snapshot (the largest by active employees): bounds the item (400 KB).
MAX_GROUPS = 500


def share(participants: int, active: int | None) -> float | None:
    """Participants over active employees, capped at 1 (someone who approved then left the roster
    is still a participant); None without active employees to divide by."""
    if not active:
        return None
    return min(1.0, participants / active)


@dataclass(frozen=True)
class MonthParticipation:
    """One month's snapshot: participants per group, and the group's active employees as the
    census counted them in that month (absent: no census in the month)."""

    month_key: str
    participants: Mapping[str, int]
    active: Mapping[str, int] = field(default_factory=dict)
    counted_at: datetime | None = None


def snapshot_groups(participants: Mapping[str, int], active: Mapping[str, int]) -> list[str]:
    """The groups a snapshot keeps: every group with members or participants, the largest first,
    at most ``MAX_GROUPS``."""
    names = set(participants) | set(active)
    return sorted(names, key=lambda name: (-active.get(name, 0), -participants.get(name, 0), name))[:MAX_GROUPS]


@dataclass(frozen=True)
class GroupCell:
    label: str  # the month's label (YYYY-MM)
    participants: int
    active: int | None

    @property
    def share(self) -> float | None:
        return share(self.participants, self.active)

    @property
    def percent(self) -> int | None:
        value = self.share
        return None if value is None else round(value * 100)


@dataclass(frozen=True)
class GroupTrend:
    group: str
    cells: list[GroupCell]  # oldest month first


def group_trends(months: list[tuple[str, str]], found: Mapping[str, MonthParticipation]) -> list[GroupTrend]:
    """Each group's months (``months``: (period key, label), oldest first), the groups ordered by
    their latest known size, largest first."""
    latest_size: dict[str, int] = {}
    for key, _label in months:
        snapshot = found.get(key)
        if snapshot is None:
            continue
        for group in set(snapshot.participants) | set(snapshot.active):
            latest_size[group] = snapshot.active.get(group, latest_size.get(group, 0))
    trends = []
    for group in sorted(latest_size, key=lambda name: (-latest_size[name], name)):
        cells = []
        for key, label in months:
            snapshot = found.get(key)
            cells.append(
                GroupCell(
                    label=label,
                    participants=snapshot.participants.get(group, 0) if snapshot else 0,
                    active=snapshot.active.get(group) if snapshot else None,
                )
            )
        trends.append(GroupTrend(group=group, cells=cells))
    return trends
