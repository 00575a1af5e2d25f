"""Scoring from the table's stream: exactly once per source event, leaderboards, balances."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

import scoring_handler
from chorus import bootstrap
from chorus.config import TableSettings
from chorus.domain.scoring import Period, period_keys
from chorus.store import keys
from tests.conftest import ENVIRONMENT, TABLE
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

CONTENT = {
    "id": "lyon",
    "title": "Lyon",
    "url": "https://example.com/lyon",
    "text": "Open",
    "points": 10,
    "points_publish": 25,
    "points_click": 2,
    "click_cap": 2,
}
PEOPLE = [
    {"email": "ada@example.com", "name": "Ada", "groups": ["engineering"]},
    {"email": "bob@example.com", "name": "Bob", "groups": ["sales"]},
    {"email": "cy@example.com", "name": "Cy", "groups": ["engineering"]},
]


@pytest.fixture
def world(aws):
    seed(aws, [CONTENT], PEOPLE)
    return aws


def approval_image(email: str, status: str = "SCHEDULED", network: str = "sandbox") -> dict:
    return {
        "PK": {"S": keys.employee_pk(employee_id(email))},
        "SK": {"S": keys.approval_sk(content_id("lyon"), network)},
        "entity": {"S": "approval"},
        "approval_id": {"S": f"a-{email}-{network}"},
        "employee_id": {"S": employee_id(email)},
        "content_id": {"S": content_id("lyon")},
        "network": {"S": network},
        "status": {"S": status},
    }


def click_image(email: str, visitor: str, clicked_at: str) -> dict:
    return {
        "PK": {"S": "LINK#code1"},
        "SK": {"S": f"CLICK#{visitor}"},
        "entity": {"S": "click"},
        "code": {"S": "code1"},
        "employee_id": {"S": employee_id(email)},
        "content_id": {"S": content_id("lyon")},
        "network": {"S": "sandbox"},
        "clicked_at": {"S": clicked_at},
    }


def record(new: dict, old: dict | None = None, event: str = "INSERT") -> dict:
    stream = {
        "NewImage": new,
        "Keys": {"PK": new["PK"], "SK": new["SK"]},
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "SequenceNumber": str(int(time.time() * 1000)),
        "ApproximateCreationDateTime": time.time(),
    }
    if old:
        stream["OldImage"] = old
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": event,
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/s",
        "dynamodb": stream,
    }


def run(*records: dict) -> dict:
    return scoring_handler.lambda_handler({"Records": list(records)}, FakeLambdaContext())


def service(aws):
    return bootstrap.build_scoring_service(TableSettings.from_env(ENVIRONMENT), dynamodb_client=aws["dynamodb"])


def balance(aws, email: str) -> int:
    item = (
        aws["dynamodb"]
        .get_item(TableName=TABLE, Key={"PK": {"S": keys.employee_pk(employee_id(email))}, "SK": {"S": keys.BALANCE}})
        .get("Item")
    )
    return int(item["balance"]["N"]) if item else 0


def test_an_approval_earns_points_once_even_when_the_batch_is_retried(world):
    first = record(approval_image("ada@example.com"))
    assert run(first) == {"batchItemFailures": []}
    run(first)  # the stream redelivers the batch
    assert balance(world, "ada@example.com") == 10
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    [top] = service(world).leaderboard(Period.MONTH, "*", 5)
    assert (top.name, top.score) == ("Ada", 10)
    assert service(world)._scores.top(month, "engineering", 5)[0].employee_id == employee_id("ada@example.com")
    assert service(world)._scores.top(month, "sales", 5) == []
    # the week's impact is kept in an item of its own beside the profile (which stays bounded),
    # where the digest planner reads it, and TTL removes it after the week that shows it
    from chorus.domain.scoring import week_key

    pk = {"S": keys.employee_pk(employee_id("ada@example.com"))}
    impact = world["dynamodb"].get_item(
        TableName=TABLE, Key={"PK": pk, "SK": {"S": f"IMPACT#{week_key(datetime.now(UTC))}"}}
    )["Item"]
    assert (impact["points"]["N"], impact["clicks"]["N"]) == ("10", "0")
    assert int(impact["expires_at"]["N"]) > datetime.now(UTC).timestamp() + 21 * 86400
    profile = world["dynamodb"].get_item(TableName=TABLE, Key={"PK": pk, "SK": {"S": keys.PROFILE}})["Item"]
    assert not [name for name in profile if name.startswith("impact")]


def test_publication_points_only_when_published(world):
    scheduled = approval_image("ada@example.com")
    run(record(scheduled))
    run(record(approval_image("ada@example.com", "CANCELLED"), old=scheduled, event="MODIFY"))
    assert balance(world, "ada@example.com") == 10  # a cancelled post earns no publish points
    publishing = approval_image("bob@example.com", "PUBLISHING")
    run(record(approval_image("bob@example.com")))
    run(record(approval_image("bob@example.com", "PUBLISHED"), old=publishing, event="MODIFY"))
    run(record(approval_image("bob@example.com", "PUBLISHED"), old=publishing, event="MODIFY"))
    assert balance(world, "bob@example.com") == 10 + 25


def test_unique_clicks_earn_points_up_to_the_cap_and_all_count_for_impact(world):
    run(record(approval_image("ada@example.com")))  # the approval item the clicks count on
    world["dynamodb"].put_item(TableName=TABLE, Item=approval_image("ada@example.com"))
    clicks = [record(click_image("ada@example.com", f"v{n}", "2026-11-23T10:00:00+00:00")) for n in range(4)]
    run(*clicks)
    run(clicks[0])  # retried record: no second award
    assert balance(world, "ada@example.com") == 10 + 2 * 2  # cap of 2 clicks with points
    item = world["dynamodb"].get_item(
        TableName=TABLE,
        Key={"PK": approval_image("ada@example.com")["PK"], "SK": approval_image("ada@example.com")["SK"]},
    )["Item"]
    assert item["clicks"]["N"] == "4"


def test_leaderboard_ties_are_deterministic_and_hidden_people_do_not_show(world):
    for email in ("cy@example.com", "ada@example.com", "bob@example.com"):
        run(record(approval_image(email)))
        time.sleep(0.01)
    board = service(world).leaderboard(Period.MONTH, "*", 3)
    assert [row.name for row in board] == ["Cy", "Ada", "Bob"]  # equal scores: who got there first
    assert [row.rank for row in board] == [1, 2, 3]
    service(world).hide(employee_id("ada@example.com"), True)
    assert [row.name for row in service(world).leaderboard(Period.MONTH, "*", 3)] == ["Cy", "Bob"]
    # points still count while hidden, and showing again restores the place
    run(record(approval_image("ada@example.com", network="x")))
    assert [row.name for row in service(world).leaderboard(Period.MONTH, "*", 3)] == ["Cy", "Bob"]
    service(world).hide(employee_id("ada@example.com"), False)
    assert service(world).leaderboard(Period.MONTH, "*", 1)[0].name == "Ada"


def test_standing_shows_rank_and_neighbours(world):
    run(record(approval_image("ada@example.com")), record(approval_image("ada@example.com", network="x")))
    run(record(approval_image("bob@example.com")))
    standing = service(world).standing(employee_id("bob@example.com"), Period.MONTH, "*")
    assert (standing.score, standing.rank) == (10, 2)
    assert [row.name for row in standing.above] == ["Ada"]


def test_an_admin_reversal_is_a_negative_entry_once(world):
    run(record(approval_image("ada@example.com")))
    scoring = service(world)
    context = scoring.context_for([])
    context = scoring._lookups.context_for([employee_id("ada@example.com")], [])
    event_id = "approved#a-ada@example.com-sandbox"
    scoring.reverse(employee_id("ada@example.com"), event_id, "posted by mistake", context)
    scoring.reverse(employee_id("ada@example.com"), event_id, "posted by mistake", context)
    assert balance(world, "ada@example.com") == 0
    entry = scoring._scores.ledger_entry(employee_id("ada@example.com"), f"reversal#{event_id}")
    assert (entry["points"], entry["reason"]) == (-10, "posted by mistake")


def test_leaderboard_read_is_one_query(world):
    from bench.aws_calls import count_aws_calls

    for email in ("ada@example.com", "bob@example.com", "cy@example.com"):
        run(record(approval_image(email)))
    with count_aws_calls(world["dynamodb"]) as calls:
        service(world)._scores.top(period_keys(datetime.now(UTC))[Period.MONTH], "*", 2)
    assert calls.by_operation() == {"dynamodb.Query": 1}


class TestAdmin:
    @staticmethod
    def call(method: str, path: str, *, query: dict | None = None, body: str | None = None):
        import json

        import admin_api_handler
        from tests.support.http_events import http_event

        response = admin_api_handler.lambda_handler(
            http_event(method, path, query=query, body=body), FakeLambdaContext()
        )
        parsed = (
            json.loads(response["body"])
            if response["headers"].get("Content-Type", "").startswith("application/json")
            else response["body"]
        )
        return response["statusCode"], parsed, response

    def test_leaderboard_teams_reversal_and_reports(self, world):
        import csv
        import io
        import json

        run(record(approval_image("ada@example.com")), record(approval_image("cy@example.com")))
        run(record(approval_image("bob@example.com")), record(approval_image("bob@example.com", network="x")))
        status, board, _ = self.call("GET", "/admin/leaderboard", query={"period": "month", "k": "2"})
        assert status == 200 and [row["name"] for row in board["ranks"]] == ["Bob", "Ada"]
        status, teams, _ = self.call("GET", "/admin/leaderboard/teams", query={"period": "month"})
        # sales: 20 points, 1 member; engineering: 20 points, 2 members
        assert [(t["group"], t["average"]) for t in teams["teams"]] == [("sales", 20.0), ("engineering", 10.0)]
        status, reversal, _ = self.call(
            "POST",
            "/admin/points/reversals",
            body=json.dumps(
                {
                    "employee_id": employee_id("bob@example.com"),
                    "event_id": "approved#a-bob@example.com-x",
                    "reason": "duplicate account",
                }
            ),
        )
        assert status == 201 and reversal["points"] == -10
        status, report, _ = self.call("GET", "/admin/reports", query={"period": "month"})
        assert status == 200 and report["participants"] == 3 and report["active_employees"] == 3
        assert report["participation_rate"] == 1.0
        assert {row["name"]: row["points"] for row in report["groups"]} == {"engineering": 20, "sales": 10}
        status, text, response = self.call("GET", "/admin/reports", query={"period": "month", "format": "csv"})
        assert response["headers"]["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["dimension", "name", "points", "approvals", "publications", "clicks"]
        assert ["employee", "Bob", "10", "2", "0", "0"] in rows

    @pytest.mark.parametrize("query", [{"period": "week"}, {"k": "0"}, {"k": "1000"}])
    def test_bad_board_queries_are_422(self, world, query):
        assert self.call("GET", "/admin/leaderboard", query=query)[0] == 422
