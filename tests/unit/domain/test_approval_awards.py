"""What an approval's changes earn: the approval award when it is scheduled, at once or after a
reviewer approved the employee's edited text (ReviewEditedPosts), and never for a post still
waiting for review or rejected."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chorus.domain.content import ContentRow
from chorus.domain.scoring import AwardKind, awards_from_change

CONTENT = ContentRow(id="news", title="News", url="https://example.com/news", text="Hi", points=10).to_entity()
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def approval(status: str) -> dict[str, Any]:
    return {
        "entity": "approval",
        "approval_id": "ap-1",
        "employee_id": "e-1",
        "content_id": CONTENT.content_id,
        "network": "sandbox",
        "status": status,
    }


def kinds(old: dict[str, Any] | None, new: dict[str, Any]) -> list[tuple[AwardKind, int]]:
    return [(award.kind, award.points) for award in awards_from_change(old, new, CONTENT, AT)]


def test_an_approval_scheduled_at_once_earns_the_approval_points() -> None:
    assert kinds(None, approval("SCHEDULED")) == [(AwardKind.APPROVED, 10)]


@pytest.mark.parametrize("before", ["REJECTED", "CANCELLED"])
def test_an_approval_approved_again_after_a_rejection_or_a_cancellation_is_counted_under_its_id(before: str) -> None:
    # The ledger keeps one award per id: one that earned before earns nothing more there.
    again = awards_from_change(approval(before), approval("SCHEDULED"), CONTENT, AT)
    assert [(award.kind, award.event_id) for award in again] == [(AwardKind.APPROVED, "approved#ap-1")]


def test_an_edited_approval_earns_them_when_the_reviewer_approves_it() -> None:
    # Given an approval waiting for review: nothing yet
    assert kinds(None, approval("IN_REVIEW")) == []
    # When the reviewer approves it (it is scheduled): the approval award, as without review
    assert kinds(approval("IN_REVIEW"), approval("SCHEDULED")) == [(AwardKind.APPROVED, 10)]


@pytest.mark.parametrize(
    ("before", "after"),
    [("IN_REVIEW", "REJECTED"), ("SCHEDULED", "SCHEDULED"), ("SCHEDULED", "CANCELLED"), ("PUBLISHING", "SCHEDULED")],
)
def test_no_other_change_earns_the_approval_points(before: str, after: str) -> None:
    assert kinds(approval(before), approval(after)) == []


def test_a_reviewed_approval_earns_the_award_an_unreviewed_one_would_under_the_same_id() -> None:
    scheduled = awards_from_change(approval("IN_REVIEW"), approval("SCHEDULED"), CONTENT, AT)
    again = awards_from_change(None, approval("SCHEDULED"), CONTENT, AT)
    assert [award.event_id for award in scheduled] == [award.event_id for award in again]
