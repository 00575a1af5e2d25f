"""What goes into each employee's weekly digest, and the batches the planner hands the sender."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.content import Content, ContentStatus
from chorus.domain.employee import Employee
from chorus.domain.timing import Week, overlaps

# Employees per SQS message: the message carries their content once, well under 256 KB.
EMPLOYEES_PER_BATCH = 25


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


class DigestBatch(BaseModel):
    """One SQS message: up to EMPLOYEES_PER_BATCH recipients and the content they need."""

    model_config = ConfigDict(frozen=True)

    week_id: str
    week_start: datetime
    week_end: datetime
    recipients: list[Recipient]
    contents: dict[str, Content] = Field(default_factory=dict)
