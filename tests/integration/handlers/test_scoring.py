"""Scoring from the table's stream: exactly once per source event, leaderboards, balances."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from bench.aws_calls import count_aws_calls

import scoring_handler
from chorus import bootstrap
from chorus.config import TableSettings
from chorus.domain.scoring import Period, period_keys
from chorus.errors import StoreError
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
    bootstrap.score_stream.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        assert run(first) == {"batchItemFailures": []}
    # one read of the batch's profiles and content, one of Ada's scores, one transaction
    assert [op for op, _ in calls.requests] == ["dynamodb.BatchGetItem"] * 2 + ["dynamodb.TransactWriteItems"]
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


def approval_key(email: str) -> dict:
    image = approval_image(email)
    return {"PK": image["PK"], "SK": image["SK"]}


def test_unique_clicks_earn_points_up_to_the_cap_and_all_count_for_impact(world):
    run(record(approval_image("ada@example.com")))  # the approval item the clicks count on
    world["dynamodb"].put_item(TableName=TABLE, Item=approval_image("ada@example.com"))
    clicks = [record(click_image("ada@example.com", f"v{n}", "2026-11-23T10:00:00+00:00")) for n in range(4)]
    run(*clicks)
    run(clicks[0])  # retried record: no second award
    assert balance(world, "ada@example.com") == 10 + 2 * 2  # cap of 2 clicks with points
    item = world["dynamodb"].get_item(TableName=TABLE, Key=approval_key("ada@example.com"))["Item"]
    assert (item["clicks"]["N"], item["awarded_clicks"]["N"]) == ("2", "2")
    # the two visits past the cap are counted apart from the approval, and /me adds them up
    assert service(world).visits_past_cap(employee_id("ada@example.com")) == {(content_id("lyon"), "sandbox"): 2}


def test_a_click_past_the_cap_writes_nothing_on_the_approval_item(world):
    # Given a post that reached its cap of 2 clicks with points
    run(record(approval_image("ada@example.com")))
    world["dynamodb"].put_item(TableName=TABLE, Item=approval_image("ada@example.com"))
    run(*(record(click_image("ada@example.com", f"v{n}", "2026-11-23T10:00:00+00:00")) for n in range(2)))
    # When a viral minute brings 50 more clicks in one stream batch
    from bench.aws_calls import count_aws_calls

    batch = [record(click_image("ada@example.com", f"w{n}", "2026-11-23T10:01:00+00:00")) for n in range(50)]
    bootstrap.score_stream.cache_clear()  # a cold container: its clients are made inside the count
    with count_aws_calls(keep_requests=True) as calls:
        assert run(*batch) == {"batchItemFailures": []}
    # Then the batch reads the cap once, tries no transaction, and one write (not on the approval)
    # counts all 50 visits, one more the content's funnel
    assert [op for op, _ in calls.requests] == ["dynamodb.BatchGetItem", "dynamodb.UpdateItem", "dynamodb.UpdateItem"]
    assert calls.requests[1][1]["Key"]["SK"] == {"S": keys.visits_sk(content_id("lyon"), "sandbox")}
    assert calls.requests[1][1]["ExpressionAttributeValues"][":count"] == {"N": "50"}
    assert calls.requests[2][1]["Key"]["PK"]["S"].startswith(f"FUNNEL#{content_id('lyon')}#")
    assert calls.requests[2][1]["ExpressionAttributeValues"][":c0"] == {"N": "50"}
    item = world["dynamodb"].get_item(TableName=TABLE, Key=approval_key("ada@example.com"))["Item"]
    assert item["clicks"]["N"] == "2"
    assert service(world).visits_past_cap(employee_id("ada@example.com")) == {(content_id("lyon"), "sandbox"): 50}
    assert balance(world, "ada@example.com") == 10 + 2 * 2


def test_visits_past_the_cap_are_counted_once_when_the_batch_fails_after_them(world):
    # Given a post at its cap, and a batch whose third record cannot be handled
    run(record(approval_image("ada@example.com")))
    world["dynamodb"].put_item(TableName=TABLE, Item=approval_image("ada@example.com"))
    run(*(record(click_image("ada@example.com", f"v{n}", "2026-11-23T10:00:00+00:00")) for n in range(2)))
    batch = [record(click_image("ada@example.com", f"w{n}", "2026-11-23T10:01:00+00:00")) for n in range(4)]
    del batch[2]["dynamodb"]["NewImage"]["code"]  # a click record the scorer cannot read
    for index, rec in enumerate(batch):
        rec["dynamodb"]["SequenceNumber"] = str(1000 + index)
    # When Lambda gets the failure and redelivers from the failed record on (after it is repaired)
    assert run(*batch) == {"batchItemFailures": [{"itemIdentifier": "1002"}]}
    batch[2]["dynamodb"]["NewImage"]["code"] = {"S": "code1"}
    run(*batch[2:])
    # Then each of the four visits counted once
    assert service(world).visits_past_cap(employee_id("ada@example.com")) == {(content_id("lyon"), "sandbox"): 4}


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

    def test_leaderboard_teams_reversal_and_summary(self, world):
        import csv
        import io

        import reports_handler

        run(record(approval_image("ada@example.com")), record(approval_image("cy@example.com")))
        run(record(approval_image("bob@example.com")), record(approval_image("bob@example.com", network="x")))
        # the report function's daily census: active members per group
        reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
        status, board, _ = self.call("GET", "/admin/leaderboard", query={"period": "month", "k": "2"})
        assert status == 200 and [row["name"] for row in board["ranks"]] == ["Bob", "Ada"]
        status, teams, _ = self.call("GET", "/admin/leaderboard/teams", query={"period": "month"})
        # sales: 20 points, 1 member; engineering: 20 points, 2 members
        assert [(t["group"], t["average"], t["members"]) for t in teams["teams"]] == [
            ("sales", 20.0, 1),
            ("engineering", 10.0, 2),
        ]
        assert [t["participation"] for t in teams["teams"]] == [1.0, 1.0]
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
        assert report["totals"] == {"points": 30, "approvals": 4, "publications": 0, "clicks": 0}
        assert {row["name"]: row["points"] for row in report["groups"]} == {"engineering": 20, "sales": 10}
        assert "employees" not in report  # every employee's row is in an export, never in this answer
        status, text, response = self.call("GET", "/admin/reports", query={"period": "month", "format": "csv"})
        assert response["headers"]["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == [
            "dimension",
            "name",
            "points",
            "approvals",
            "publications",
            "clicks",
            "participants",
            "members",
        ]
        assert ["group", "sales", "10", "2", "0", "0", "1", "1"] in rows

    @pytest.mark.parametrize("query", [{"period": "week"}, {"k": "0"}, {"k": "1000"}])
    def test_bad_board_queries_are_422(self, world, query):
        assert self.call("GET", "/admin/leaderboard", query=query)[0] == 422


# ---------------------------------------------------------------- awards at any group count

FIFTY_GROUPS = [f"team-{n:02d}" for n in range(50)]


@pytest.fixture
def crowded(aws):
    """Ada belongs to 50 groups, the most a roster row may list (domain/fields.py MAX_NAMES)."""
    seed(aws, [CONTENT], [{"email": "ada@example.com", "name": "Ada", "groups": FIFTY_GROUPS}, *PEOPLE[1:]])
    return aws


class CrashingClient:
    """The real (moto) client, except that one TransactWriteItems call fails as if the function
    died there, or first lets another award of the same employee in (a concurrent shard)."""

    def __init__(self, client, *, fail_at: int | None = None, before_first=None) -> None:
        self._client = client
        self._fail_at = fail_at
        self._before_first = before_first
        self.transactions: list[int] = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def transact_write_items(self, **request):
        from botocore.exceptions import ClientError

        self.transactions.append(len(request["TransactItems"]))
        if len(self.transactions) == 1 and self._before_first is not None:
            self._before_first()
        if len(self.transactions) == self._fail_at:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "crash"}}, "TransactWriteItems")
        return self._client.transact_write_items(**request)


def scoring_with(aws, client):
    from chorus.services.scoring import ScoringService
    from chorus.store.scores import ScoreStore, ScoringLookups

    return ScoringService(ScoreStore(client, TABLE), ScoringLookups(aws["dynamodb"], TABLE))


def change(image: dict):
    from chorus.services.scoring import Change
    from chorus.store.codec import from_dynamo

    return Change(old=None, new=from_dynamo(image), occurred_at=datetime.now(UTC), record_id="r1")


def award_state(aws, email: str) -> dict:
    """What an award leaves in the table: scores, counters, histogram, balance, ledger entries."""
    from chorus.domain.scoring import HISTOGRAM_SHARDS, STATS_SHARDS

    month, all_time = period_keys(datetime.now(UTC))[Period.MONTH], "ALL"
    pk = keys.employee_pk(employee_id(email))
    mine = aws["dynamodb"].query(
        TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
    )["Items"]
    scores = {
        i["SK"]["S"]: (int(i["score"]["N"]), int(i.get("approvals", {"N": "0"})["N"]))
        for i in mine
        if i["SK"]["S"].startswith("SCORE#")
    }
    stats: dict[str, int] = {}
    for period in (month, all_time):
        for shard in range(STATS_SHARDS):
            for item in aws["dynamodb"].query(
                TableName=TABLE,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.stats_pk(period, shard)}},
            )["Items"]:
                for counter in ("points", "approvals", "participants"):
                    name = f"{period}/{item['SK']['S']}/{counter}"
                    stats[name] = stats.get(name, 0) + int(item.get(counter, {"N": "0"})["N"])
    people = 0
    for shard in range(HISTOGRAM_SHARDS):
        item = (
            aws["dynamodb"]
            .get_item(TableName=TABLE, Key={"PK": {"S": keys.histogram_pk(month, shard)}, "SK": {"S": keys.HISTOGRAM}})
            .get("Item", {})
        )
        people += sum(int(v["N"]) for k, v in item.items() if k.startswith("h"))
    ledger = [i["SK"]["S"] for i in mine if i["SK"]["S"].startswith("POINTS#")]
    return {
        "scores": scores,
        "stats": stats,
        "people_in_histogram": people,
        "balance": balance(aws, email),
        "ledger": ledger,
    }


def test_an_employee_in_fifty_groups_is_awarded_in_transactions_of_at_most_25_items(crowded):
    from chorus.store.scores import transactions_per_award

    # Given Ada in 50 groups
    client = CrashingClient(crowded["dynamodb"])
    # When she approves a post
    assert (
        scoring_with(crowded, client).apply(
            change(approval_image("ada@example.com")),
            service(crowded).context_for([change(approval_image("ada@example.com"))]),
        )
        == 1
    )
    # Then every transaction holds at most 25 items (moto and the local cloud refuse more)
    assert (
        max(client.transactions) == 25 and len(client.transactions) == transactions_per_award(50, first_items=17) == 12
    )
    # and she is on every one of her 50 group boards, and each group counts her once
    state = award_state(crowded, "ada@example.com")
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    for group in FIFTY_GROUPS:
        assert state["scores"][keys.score_sk(month, group)] == (10, 1)
        assert state["stats"][f"{month}/GROUP#{group}/points"] == 10
        assert state["stats"][f"{month}/GROUP#{group}/participants"] == 1
        assert service(crowded)._scores.top(month, group, 1)[0].name == "Ada"
    assert len(state["scores"]) == 3 * 51
    assert state["balance"] == 10 and state["people_in_histogram"] == 1


@pytest.mark.parametrize("crash_at", [1, 2, 11])
def test_a_crash_between_transactions_is_completed_by_the_retry_exactly_once(crowded, crash_at):
    # Given a clean award's result, for comparison
    clean = CrashingClient(crowded["dynamodb"])
    bob = approval_image("bob@example.com")
    reference_context = service(crowded).context_for([change(bob)])
    # (Bob is in one group: his state is compared to Ada's below only through Ada's own clean run)
    scoring_with(crowded, clean).apply(change(bob), reference_context)
    # When Ada's award dies at transaction `crash_at` of 11
    ada = change(approval_image("ada@example.com"))
    context = service(crowded).context_for([ada])
    crashing = CrashingClient(crowded["dynamodb"], fail_at=crash_at)
    with pytest.raises(StoreError):
        scoring_with(crowded, crashing).apply(ada, context)
    # and the stream delivers the record again, twice
    first_retry = scoring_with(crowded, crowded["dynamodb"]).apply(ada, service(crowded).context_for([ada]))
    second = CrashingClient(crowded["dynamodb"])
    scoring_with(crowded, second).apply(ada, service(crowded).context_for([ada]))
    assert len(second.transactions) == 1  # the first one, refused by the ledger entry: no chunk again
    # Then everything is written exactly once: the same as an award that never crashed
    state = award_state(crowded, "ada@example.com")
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    assert first_retry == (1 if crash_at == 1 else 0)  # counted as new only if nothing was written
    assert {sk: value for sk, value in state["scores"].items()} == {
        keys.score_sk(period, scope): (10, 1)
        for period in period_keys(datetime.now(UTC)).values()
        for scope in ["*", *FIFTY_GROUPS]
    }
    for group in FIFTY_GROUPS:
        for period in (month, "ALL"):
            assert state["stats"][f"{period}/GROUP#{group}/points"] == 10
            assert state["stats"][f"{period}/GROUP#{group}/approvals"] == 1
            assert state["stats"][f"{period}/GROUP#{group}/participants"] == 1
    assert state["stats"][f"{month}/COMPANY/points"] == 20  # Ada and Bob
    assert state["stats"][f"{month}/COMPANY/participants"] == 2
    assert state["people_in_histogram"] == 2
    assert state["balance"] == 10 and len(state["ledger"]) == 1


def test_an_award_racing_another_for_the_same_employee_moves_the_histogram_exactly(world):
    # Given a second award of Ada that lands between the first one's read and its write
    ada = change(approval_image("ada@example.com"))
    other = change(approval_image("ada@example.com", network="x"))
    context = service(world).context_for([ada, other])

    def concurrent_shard() -> None:
        assert scoring_with(world, world["dynamodb"]).apply(other, context) == 1

    racing = CrashingClient(world["dynamodb"], before_first=concurrent_shard)
    # When the first award is written
    assert scoring_with(world, racing).apply(ada, context) == 1
    # Then its stale read was caught, re-read and written on top: 20 points, one person in the
    # histogram (in the bucket of 20, none left in that of 10), one participant
    state = award_state(world, "ada@example.com")
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    assert state["scores"][keys.score_sk(month, "*")] == (20, 2)
    assert state["people_in_histogram"] == 1
    histogram = service(world)._scores.histogram(month)
    assert {bucket: count for bucket, count in histogram.counts.items() if count} == {20: 1}
    assert state["stats"][f"{month}/COMPANY/participants"] == 1
    assert state["stats"][f"{month}/COMPANY/approvals"] == 2


# ---------------------------------------------------------------- ranks


def put_scores(aws, scores: list[int], *, scope: str = "*", names: dict[int, str] | None = None) -> list[str]:
    """Score items as the scorer writes them (with distinct times reached), plus their histogram:
    the employees' ids, in the order they were written."""
    from chorus.domain.scoring import bucket_attribute, score_bucket

    month = period_keys(datetime.now(UTC))[Period.MONTH]
    table = boto3.resource("dynamodb").Table(TABLE)
    ids = []
    buckets: dict[int, int] = {}
    with table.batch_writer() as batch:
        for n, score in enumerate(scores):
            employee = f"e-{n:06d}"
            ids.append(employee)
            batch.put_item(
                Item={
                    "PK": keys.employee_pk(employee),
                    "SK": keys.score_sk(month, scope),
                    "entity": "score",
                    "employee_id": employee,
                    "name": (names or {}).get(n, f"Person {n}"),
                    "score": score,
                    # some equal scores were reached at the same microsecond: the id breaks those ties
                    "reached_at": (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=n // 3)).isoformat(
                        timespec="microseconds"
                    ),
                    "period": month,
                    "scope": scope,
                    "GSI3PK": keys.leaderboard_pk(month, scope),
                }
            )
            buckets[score_bucket(score)] = buckets.get(score_bucket(score), 0) + 1
    if scope == "*":
        table.put_item(
            Item={
                "PK": keys.histogram_pk(month, 0),
                "SK": keys.HISTOGRAM,
                **{bucket_attribute(b): c for b, c in buckets.items()},
            }
        )
    return ids


def scores_store(aws, limit: int):
    from chorus.store.scores import ScoreStore

    return ScoreStore(aws["dynamodb"], TABLE, exact_rank_limit=limit)


@pytest.mark.parametrize("limit", [1000, 7])
def test_every_place_shown_is_true_exact_near_the_top_and_a_true_bound_below(aws, limit):
    import random

    # Given 60 people with many equal scores (ties broken by who reached the score first, then id)
    rng = random.Random(11)
    scores = [rng.choice([5, 10, 10, 20, 35, 120, 125, 900]) for _ in range(60)]
    ids = put_scores(aws, scores)
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    store = scores_store(aws, limit)
    board = [row.employee_id for row in store.top(month, "*", 100)]
    assert len(board) == 60
    # When each of them opens /me
    exact = bounded = 0
    for employee in ids:
        standing = store.standing(employee, month, "*")
        true_place = board.index(employee) + 1
        # Then an exact place is the board's, and a bound is a true sentence
        if standing.rank is not None:
            assert standing.rank == true_place, employee
            exact += 1
        else:
            assert standing.top_percent is not None and standing.among == 60
            assert true_place <= standing.top_percent * 60 / 100
            assert true_place > limit - 7  # only people far enough down get a bound
            bounded += 1
    assert (exact, bounded) == ((60, 0) if limit == 1000 else (exact, 60 - exact))
    assert bounded > 0 if limit == 7 else True


def test_the_exact_place_counts_past_a_page_of_the_index(aws):
    # Given five people ahead whose index entries fill more than DynamoDB's 1 MB page
    ids = put_scores(aws, [50, 50, 40, 40, 40, 10], names={n: "N" * 300_000 for n in range(5)})
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    # When the sixth asks for their place
    standing = scores_store(aws, 1000).standing(ids[5], month, "*")
    # Then all five pages are counted (the old COUNT read one page and showed #4)
    assert standing.rank == 6


def test_past_the_limit_a_group_board_says_beyond_and_never_guesses(aws):
    ids = put_scores(aws, [100 - n for n in range(12)], scope="sales")
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    store = scores_store(aws, 5)
    assert store.standing(ids[3], month, "sales").rank == 4
    standing = store.standing(ids[10], month, "sales")
    assert (standing.rank, standing.top_percent, standing.beyond) == (None, None, 5)
    assert [n.score for n in standing.above] == [92, 91] and [n.score for n in standing.below] == [89]


def me_page(email: str) -> str:
    import web_handler
    from chorus.adapters.secrets_keys import parse_key_ring
    from chorus.domain.magic_links import ME_SCOPE, sign_link
    from tests.conftest import MAGIC_LINK_SECRET
    from tests.support.http_events import http_event

    link = sign_link(
        parse_key_ring(MAGIC_LINK_SECRET), employee_id(email), ME_SCOPE, datetime.now(UTC) + timedelta(days=1)
    )
    response = web_handler.lambda_handler(http_event("GET", "/me", claims=None, query={"t": link}), FakeLambdaContext())
    assert response["statusCode"] == 200
    return response["body"]


class TestMePage:
    def test_near_the_top_the_page_shows_the_exact_place(self, world):
        run(record(approval_image("ada@example.com")), record(approval_image("ada@example.com", network="x")))
        run(record(approval_image("bob@example.com")))
        body = me_page("bob@example.com")
        assert "#2 this month with 10 points" in body
        assert "Ada — 20" in body

    def test_far_down_a_big_board_the_page_shows_a_true_top_percent(self, world):
        from chorus.domain.scoring import EXACT_RANK_LIMIT

        # Given 1,200 colleagues with more points than Bob, and 300 with fewer
        put_scores(world, [50 + n % 7 for n in range(1200)] + [1] * 300)
        run(record(approval_image("bob@example.com")))
        # When Bob opens his page
        body = me_page("bob@example.com")
        # Then it says "top 81%" of the 1,501 people with points: he is 1,201st, and 1,201 <= 81% of
        # 1,501 (80% would be 1,200.8)
        assert EXACT_RANK_LIMIT == 1000
        assert "Top 81% of the 1501 people with points this month, with 10 points" in body
        assert "#" not in body.split("data-rank>")[1].split("</p>")[0]
