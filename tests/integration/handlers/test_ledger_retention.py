"""The consent ledger's retention (issue 14), through the daily function on moto: approvals and
declines older than LedgerRetentionDays lose their words (the proof of consent stays), younger
ones are untouched, records from before the day pointers existed are found by a one-off scan,
and running it again (or every day) changes nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

import publisher_handler
import retention_handler
import web_handler
from chorus import bootstrap, clock
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import activity_scope, form_subject, sign_form, sign_link
from chorus.store.codec import from_dynamo
from tests.conftest import MAGIC_LINK_SECRET, TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = {"email": "ada@example.com", "name": "Ada", "timezone": "Europe/Paris"}
BOB = {"email": "bob@example.com", "name": "Bob", "timezone": "Europe/Paris"}
LYON = {"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open"}
RETENTION = timedelta(days=1096)  # the template's default LedgerRetentionDays


class Clock:
    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def time() -> Iterator[Clock]:
    moving = Clock()
    clock.install(moving.now)
    bootstrap.ledger_retention.cache_clear()
    yield moving
    clock.install(None)
    bootstrap.ledger_retention.cache_clear()


def decide(person: dict[str, str], now: datetime, **fields: str) -> None:
    scope = activity_scope(content_id("lyon"))
    who = employee_id(person["email"])
    action = fields.pop("action", "approve")
    event = http_event(
        "POST",
        "/a/x",
        route="/a/{token}",
        claims=None,
        body=urlencode(
            {
                "form": sign_form(RING, form_subject(who, scope, action), now - timedelta(minutes=1)),
                "action": action,
                "content_version": "1",
                **fields,
            }
        ),
        headers={"content-type": "application/x-www-form-urlencoded", "host": "api.example.com"},
    )
    event["rawPath"] = f"/a/{sign_link(RING, who, scope, now + timedelta(days=2))}"
    event["pathParameters"] = {"token": event["rawPath"].removeprefix("/a/")}
    answer = web_handler.lambda_handler(event, FakeLambdaContext())
    assert answer["statusCode"] == 303, answer["body"]


def record(aws: Any, person: dict[str, str], kind: str) -> dict[str, Any]:
    sk = f"APPROVAL#{content_id('lyon')}#sandbox" if kind == "approval" else f"DECLINE#{content_id('lyon')}"
    key = {"PK": {"S": f"EMP#{employee_id(person['email'])}"}, "SK": {"S": sk}}
    return from_dynamo(aws["dynamodb"].get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"])


def run_retention() -> dict[str, Any]:
    bootstrap.ledger_retention.cache_clear()
    result: dict[str, Any] = retention_handler.lambda_handler({}, FakeLambdaContext())
    return result


def test_records_older_than_the_retention_lose_their_words_and_keep_the_proof(aws, time):
    # Given Ada approved and published, and Bob declined with a reason, today
    seed(aws, [LYON], [ADA, BOB])
    decided = time.now()
    decide(ADA, decided, network="sandbox", text_sandbox="My own words", timezone="Europe/Paris", when="now")
    target = {"employee_id": employee_id(ADA["email"]), "content_id": content_id("lyon"), "network": "sandbox"}
    time.moment += timedelta(minutes=2)
    publisher_handler.lambda_handler({"approval": {**target, "revision": 1}}, FakeLambdaContext())
    decide(BOB, decided, action="decline", reason="Not my kind of post")
    approved = record(aws, ADA, "approval")
    assert approved["status"] == "PUBLISHED" and approved["external_post_url"]

    # When the daily job runs on the last day of the retention
    time.moment = decided + RETENTION - timedelta(days=1)
    first = run_retention()
    # Then nothing is changed yet
    assert first["pseudonymised"] == 0 and first["backfill_done"] is True
    assert record(aws, ADA, "approval") == approved

    # When it runs two days later
    time.moment = decided + RETENTION + timedelta(days=2)
    second = run_retention()
    # Then the approval keeps who, what (hashes, the company's snapshot), when and where; not the words
    assert second["pseudonymised"] == 2
    kept = record(aws, ADA, "approval")
    assert kept["text"] == "" and kept["user_agent"] == "" and kept["timezone"] == "UTC"
    assert "external_post_url" not in kept and kept["pseudonymised_at"]
    for proof in ("employee_id", "text_sha256", "snapshot_sha256", "link_url", "title", "approved_at", "status"):
        assert kept[proof] == approved[proof], proof
    # And the decline keeps that Bob declined, not his reason
    declined = record(aws, BOB, "decline")
    assert declined["reason"] == "" and declined["declined_at"]

    # When it runs again the same day, and the next
    assert run_retention()["pseudonymised"] == 0
    time.moment += timedelta(days=1)
    assert run_retention()["pseudonymised"] == 0
    # Then nothing more changed, and no pointer is left behind
    assert record(aws, ADA, "approval") == kept
    table = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    assert [item for item in table if item["PK"]["S"].startswith("LEDGER#")] == []


def test_records_from_before_the_pointers_are_found_once_and_pseudonymised_in_time(aws, time):
    # Given an approval recorded by an earlier version (no ledger pointer), two years ago
    seed(aws, [LYON], [ADA])
    long_ago = time.now() - timedelta(days=730)
    decide(ADA, time.now(), network="sandbox", text_sandbox="Old words", timezone="Europe/Paris", when="now")
    aws["dynamodb"].update_item(
        TableName=TABLE,
        Key={"PK": {"S": f"EMP#{employee_id(ADA['email'])}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#sandbox"}},
        UpdateExpression="SET approved_at = :then",
        ExpressionAttributeValues={":then": {"S": long_ago.isoformat()}},
    )
    for item in aws["dynamodb"].scan(TableName=TABLE)["Items"]:
        if item["PK"]["S"].startswith("LEDGER#"):
            aws["dynamodb"].delete_item(TableName=TABLE, Key={"PK": item["PK"], "SK": item["SK"]})
    # When the job runs for the first time
    first = run_retention()
    # Then the one-off scan gave it a pointer, and it is kept whole (younger than the retention)
    assert first["backfilled"] == 1 and first["backfill_done"] is True and first["pseudonymised"] == 0
    assert record(aws, ADA, "approval")["text"] == "Old words"
    # And the scan is not done again
    assert run_retention()["backfilled"] == 0
    # When its retention ends (a year and a bit later)
    time.moment = long_ago + RETENTION + timedelta(days=1)
    # Then it is pseudonymised
    assert run_retention()["pseudonymised"] == 1
    assert record(aws, ADA, "approval")["text"] == ""
