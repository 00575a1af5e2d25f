"""Recording a decision: when several of its conditions fail, the employee hears what matters first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chorus.domain.approval import (
    AlreadyDecided,
    Approval,
    ApprovalStatus,
    ContentChanged,
    DailyLimitReached,
    When,
    approval_id_for,
    schedule_name_for,
    snapshot_of,
    text_sha256,
)
from chorus.domain.content import Network
from chorus.errors import NotFound
from chorus.store import keys
from chorus.store.catalog import CatalogStore
from chorus.store.decisions import DecisionStore
from tests.conftest import TABLE
from tests.support.seed import content_id, employee_id, seed

ADA = "ada@example.com"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(aws):
    seed(
        aws,
        [{"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Hello"}],
        [{"email": ADA, "name": "Ada"}],
    )
    return DecisionStore(aws["dynamodb"], TABLE)


def _approval(store: DecisionStore, version: int) -> Approval:
    content = store.current_content(content_id("lyon"))
    assert content is not None
    approval_id = approval_id_for(employee_id(ADA), content.content_id, Network.X)
    return Approval(
        approval_id=approval_id,
        employee_id=employee_id(ADA),
        content_id=content.content_id,
        network=Network.X,
        text="Hello",
        text_sha256=text_sha256("Hello"),
        publish_at=NOW + timedelta(hours=1),
        timezone="Europe/Paris",
        when=When.NOW,
        status=ApprovalStatus.SCHEDULED,
        schedule_name=schedule_name_for(approval_id, 1),
        approved_at=NOW,
    ).with_snapshot(snapshot_of(content, "Hello"), version)


def _version(store: DecisionStore) -> int:
    content = store.current_content(content_id("lyon"))
    assert content is not None
    return content.version


def test_already_decided_comes_before_a_changed_content(store):
    version = _version(store)
    store.record_approvals([_approval(store, version)], {}, content_id("lyon"), content_ends_at=None)

    # Approving again from a page of an older version: both the approval and the version are refused
    with pytest.raises(AlreadyDecided):
        store.record_approvals([_approval(store, version - 1)], {}, content_id("lyon"), content_ends_at=None)


def test_the_daily_limit_comes_before_an_inactive_employee_and_a_changed_content(aws, store):
    # Given the day's count on that network is at the limit, the employee left, the content changed
    approval = _approval(store, _version(store) - 1)
    day = approval.publish_at.astimezone(ZoneInfo(approval.timezone)).date().isoformat()
    aws["dynamodb"].put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": keys.employee_pk(employee_id(ADA))},
            "SK": {"S": keys.day_count_sk("x", day)},
            "posts": {"N": "1"},
        },
    )
    catalog = CatalogStore(aws["dynamodb"], TABLE)
    catalog.deactivate_employee(catalog.get_employee(employee_id(ADA)))

    with pytest.raises(DailyLimitReached):
        store.record_approvals([approval], {}, content_id("lyon"), daily_limit=1, content_ends_at=None)


def test_an_inactive_employee_comes_before_a_changed_content(aws, store):
    catalog = CatalogStore(aws["dynamodb"], TABLE)
    catalog.deactivate_employee(catalog.get_employee(employee_id(ADA)))

    with pytest.raises(NotFound, match="not active"):
        store.record_approvals([_approval(store, _version(store) - 1)], {}, content_id("lyon"), content_ends_at=None)


def test_a_changed_content_alone_is_told_as_such(store):
    with pytest.raises(ContentChanged):
        store.record_approvals([_approval(store, _version(store) - 1)], {}, content_id("lyon"), content_ends_at=None)
