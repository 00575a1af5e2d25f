"""Points: which changes in the table earn what, and the periods they count in.

Awards come from the table's stream: an approval given, a post published, a unique human click
on an employee's tracked link. Each has an id derived from its source (the approval, the click),
so a retried stream batch awards nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chorus.domain.content import Content
from chorus.domain.employee import Employee

ALL_TIME = "ALL"
OVERALL = "*"


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


@dataclass
class Context:
    """Profiles and content the changes of one stream batch refer to, read together."""

    employees: dict[str, Employee]
    hidden: set[str]
    contents: dict[str, Content]


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
                event_id=f"click#{new['code']}#{new['SK']}#{new['clicked_at']}",
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
    if status == "SCHEDULED" and before is None:
        # One award per approval (employee, content, network), whatever the revisions after it.
        awards.append(award(AwardKind.APPROVED, content.points))
    if status == "PUBLISHED" and before != "PUBLISHED":
        awards.append(award(AwardKind.PUBLISHED, content.points_publish))
    return awards
