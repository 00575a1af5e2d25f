"""Points reports at any company size: the summary and team board from maintained counters, full
reports produced in the background to S3 and downloaded through presigned links."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import boto3
import pytest
import requests
from bench.aws_calls import count_aws_calls

import admin_api_handler
import reports_handler
import scoring_handler
from chorus import bootstrap
from chorus.domain.points_report import MAX_ROWS
from chorus.domain.scoring import STATS_SHARDS, Period, period_keys
from chorus.store import keys
from tests.conftest import REPORT_QUEUE_URL, TABLE
from tests.integration.handlers.test_scoring import CONTENT, PEOPLE, approval_image, record
from tests.support.http_events import http_event
from tests.support.iam import denied
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import seed


@pytest.fixture
def world(aws):
    seed(aws, [CONTENT], [*PEOPLE, {"email": "eve@example.com", "name": "Eve", "groups": ["sales"]}])
    scoring_handler.lambda_handler(
        {"Records": [record(approval_image(email)) for email in ("ada@example.com", "bob@example.com")]},
        FakeLambdaContext(),
    )
    scoring_handler.lambda_handler({"Records": [record(approval_image("eve@example.com"))]}, FakeLambdaContext())
    return aws


def call(method: str, path: str, *, query: dict | None = None, body: str | None = None) -> tuple[int, dict, dict]:
    route = "/admin/exports/{export_id}" if path.startswith("/admin/exports/") else None
    response = admin_api_handler.lambda_handler(
        http_event(method, path, query=query, body=body, route=route), FakeLambdaContext()
    )
    return response["statusCode"], json.loads(response["body"]), response


def queued(aws) -> list[dict]:
    messages = aws["sqs"].receive_message(QueueUrl=REPORT_QUEUE_URL, MaxNumberOfMessages=10).get("Messages", [])
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:chorus-test-reports",
            "awsRegion": "eu-west-1",
        }
        for m in messages
    ]


def test_a_report_is_requested_produced_in_the_background_and_downloaded(world):
    # When an admin asks for this month's report
    status, accepted, response = call("POST", "/admin/exports", body='{"period": "month"}')
    # Then the API answers at once with where to look, and queues only the report's id
    assert status == 202 and accepted["status"] == "pending"
    assert response["headers"]["Location"] == f"/admin/exports/{accepted['id']}"
    assert call("GET", accepted["location"])[1]["status"] == "pending"
    [message] = queued(world)
    assert json.loads(message["body"]) == {"export_id": accepted["id"]}
    # When the report function takes the message
    assert reports_handler.lambda_handler({"Records": [message]}, FakeLambdaContext()) == {"batchItemFailures": []}
    # Then the export is ready with two presigned links that download the files
    status, ready, _ = call("GET", accepted["location"])
    assert status == 200 and ready["status"] == "ready" and ready["employees"] == 3
    assert set(ready["files"]) == {"csv", "json"} and ready["expires_in"] == 900
    csv_url = ready["files"]["csv"]["url"]
    assert "X-Amz-Signature=" in csv_url and "X-Amz-Expires=900" in csv_url
    assert "response-content-disposition=attachment" in csv_url
    downloaded = requests.get(csv_url, timeout=5)
    assert downloaded.status_code == 200
    text = downloaded.content.decode()
    assert len(downloaded.content) == ready["files"]["csv"]["bytes"]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "dimension",
        "name",
        "employee_id",
        "points",
        "approvals",
        "publications",
        "clicks",
        "participants",
        "members",
    ]
    employees = {row[1]: row for row in rows if row[0] == "employee"}
    assert set(employees) == {"Ada", "Bob", "Eve"}
    assert employees["Ada"][3:5] == ["10", "1"]
    document = json.loads(requests.get(ready["files"]["json"]["url"], timeout=5).content)
    assert document["active_employees"] == 4 and document["participants"] == 3
    assert sorted(row["name"] for row in document["employees"]) == ["Ada", "Bob", "Eve"]
    # and the files hold only what the report needs: no email address anywhere
    assert "@" not in text and "@" not in json.dumps(document)


def test_producing_a_report_twice_writes_and_records_it_once(world):
    _, accepted, _ = call("POST", "/admin/exports", body="{}")
    [message] = queued(world)
    reports_handler.lambda_handler({"Records": [message]}, FakeLambdaContext())
    first = call("GET", accepted["location"])[1]
    # When SQS delivers the same message again (at-least-once)
    bootstrap.report_requests.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        assert reports_handler.lambda_handler({"Records": [message]}, FakeLambdaContext()) == {"batchItemFailures": []}
    # Then the second run reads the record, sees it ready and writes nothing
    assert [op for op, _ in calls.requests] == ["dynamodb.GetItem"]
    second = call("GET", accepted["location"])[1]
    assert (second["finished_at"], second["files"]["csv"]["bytes"]) == (
        first["finished_at"],
        first["files"]["csv"]["bytes"],
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/admin/exports/not-an-id", None), ("GET", "/admin/exports/" + "a" * 32, None)],
)
def test_unknown_reports_are_404(world, method, path, body):
    assert call(method, path, body=body)[0] == 404


def test_a_report_period_must_be_known(world):
    assert call("POST", "/admin/exports", body='{"period": "week"}')[0] == 422


def test_before_any_roll_up_the_team_board_reads_counters_and_the_census_never_the_roster(world):
    reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
    bootstrap.admin_app.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        status, board, _ = call("GET", "/admin/leaderboard/teams")
    assert status == 200
    assert [(t["group"], t["points"], t["members"]) for t in board["teams"]] == [
        ("sales", 20, 2),
        ("engineering", 10, 2),
    ]
    assert board["figures_as_of"] is None  # counted now
    # a fixed number of small reads: the roll-up (none yet), one Query per counter shard, the census
    assert calls.by_operation() == {"dynamodb.GetItem": 1, "dynamodb.Query": STATS_SHARDS + 1}
    assert all(params.get("IndexName") is None for _, params in calls.requests)


def test_after_the_roll_up_the_team_board_is_two_reads_and_says_as_of_when(world):
    # Given the census and a roll-up, then one more approval the roll-up has not seen yet
    reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
    bootstrap.report_requests.cache_clear()
    rolled = reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    scoring_handler.lambda_handler({"Records": [record(approval_image("cy@example.com"))]}, FakeLambdaContext())
    bootstrap.admin_app.cache_clear()

    # When the team board is asked for
    with count_aws_calls(keep_requests=True) as calls:
        status, board, _ = call("GET", "/admin/leaderboard/teams")

    # Then it answers the roll-up's figures, with their time, in one GetItem and the census Query
    assert status == 200 and rolled["teams"] == 2
    assert calls.by_operation() == {"dynamodb.GetItem": 1, "dynamodb.Query": 1}
    assert denied("AdminApiFunction", calls.requests) == []
    assert [(t["group"], t["points"], t["members"]) for t in board["teams"]] == [
        ("sales", 20, 2),
        ("engineering", 10, 2),
    ]
    assert board["figures_as_of"] is not None
    assert datetime.fromisoformat(board["figures_as_of"]) <= datetime.now(UTC)

    # and the next roll-up counts Cy's approval
    reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    _, after, _ = call("GET", "/admin/leaderboard/teams")
    assert [(t["group"], t["points"]) for t in after["teams"]] == [("engineering", 20), ("sales", 20)]


def test_without_a_census_yet_the_team_board_still_answers_points(world):
    status, board, _ = call("GET", "/admin/leaderboard/teams")
    assert status == 200 and board["members_counted_at"] is None
    assert [(t["group"], t["points"], t["average"]) for t in board["teams"]] == [
        ("sales", 20, None),
        ("engineering", 10, None),
    ]


def test_the_census_counts_the_whole_roster_page_by_page(aws):
    # Given 2,500 active employees in two groups (profiles of about 1 KB: more than one 1 MB page of the
    # roster index), and one who left
    table = boto3.resource("dynamodb").Table(TABLE)
    with table.batch_writer() as batch:
        for n in range(2501):
            employee = f"e-{n:06d}"
            active = n < 2500
            batch.put_item(
                Item={
                    "PK": keys.employee_pk(employee),
                    "SK": keys.PROFILE,
                    "entity": "employee",
                    "employee_id": employee,
                    "email": f"p{n}@example.com",
                    "name": f"P{n}",
                    "groups": ["all", f"g{n % 2}"],
                    "active": active,
                    "decided_versions": {f"c-{c:020x}": 1 for c in range(25)},
                    **({"GSI2PK": keys.ROSTER_ACTIVE, "GSI2SK": employee} if active else {}),
                }
            )
    # When the census runs
    bootstrap.report_requests.cache_clear()
    with count_aws_calls() as calls:
        assert reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext()) == {"active": 2500, "groups": 3}
    assert calls.count("dynamodb.Query") >= 2  # the roster spans pages
    # Then the team board's denominators are the roster's
    _, board, _ = call("GET", "/admin/leaderboard/teams")
    assert {t["group"]: t["members"] for t in board["teams"]} == {"all": 2500, "g0": 1250, "g1": 1250}


def test_company_counters_are_spread_over_shards_and_add_up(aws):
    # Given 16 approvals by 16 people
    seed(aws, [CONTENT], [{"email": f"p{n}@example.com", "name": f"P{n}"} for n in range(16)])
    scoring_handler.lambda_handler(
        {"Records": [record(approval_image(f"p{n}@example.com")) for n in range(16)]}, FakeLambdaContext()
    )
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    # Then the company row is written in several shard partitions, none holding most of it
    per_shard = []
    for shard in range(STATS_SHARDS):
        item = (
            aws["dynamodb"]
            .get_item(TableName=TABLE, Key={"PK": {"S": keys.stats_pk(month, shard)}, "SK": {"S": keys.COMPANY_STATS}})
            .get("Item")
        )
        per_shard.append(int(item["approvals"]["N"]) if item else 0)
    assert sum(per_shard) == 16 and sum(1 for n in per_shard if n) == STATS_SHARDS and max(per_shard) <= 4
    # and the summary adds them up
    summary = call("GET", "/admin/reports")[1]
    assert summary["totals"]["approvals"] == 16 and summary["participants"] == 16


def test_a_synchronous_answer_stays_far_under_lambdas_response_limit(aws):
    # Given 3,000 campaigns and 3,000 groups with the longest names the uploads allow
    month = period_keys(datetime.now(UTC))[Period.MONTH]
    table = boto3.resource("dynamodb").Table(TABLE)
    with table.batch_writer() as batch:
        for n in range(3000):
            for sk in (keys.campaign_stats_sk(f"{n:04d}" + "c" * 96), keys.group_stats_sk(f"{n:04d}" + "g" * 60)):
                batch.put_item(
                    Item={
                        "PK": keys.stats_pk(month, n % STATS_SHARDS),
                        "SK": sk,
                        "points": 10**9 + n,
                        "approvals": 10**6,
                        "publications": 10**6,
                        "clicks": 10**9,
                        "participants": 10**6,
                    }
                )
    # When the summary and the team board are asked for
    _, _, summary = call("GET", "/admin/reports")
    _, _, teams = call("GET", "/admin/leaderboard/teams")
    # Then each answer holds at most MAX_ROWS rows per dimension, says so, and stays under 1 MB
    # (Lambda refuses a response over 6 MB)
    for response, dimensions in ((summary, ("campaigns", "groups")), (teams, ("teams",))):
        body = json.loads(response["body"])
        assert body["truncated"] is True
        for dimension in dimensions:
            assert len(body[dimension]) == MAX_ROWS and body[f"{dimension}_total"] == 3000
        assert len(response["body"].encode()) < 1024 * 1024
    assert json.loads(summary["body"])["campaigns"][0]["name"].startswith("2999")  # the best first


def test_report_files_expire_with_their_record() -> None:
    from chorus.store.points_reports import EXPORT_TTL
    from tests.support.template import resource

    rules = resource("UploadsBucket")["Properties"]["LifecycleConfiguration"]["Rules"]
    [rule] = [rule for rule in rules if rule.get("Prefix") == "exports/"]
    assert rule["ExpirationInDays"] == EXPORT_TTL.days == 7
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1


def test_a_report_that_cannot_be_produced_says_so_after_the_last_attempt(world, monkeypatch):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from chorus.errors import StoreError
    from chorus.store.scores import ScoreStore
    from tests.support.template import resource

    # Given a report whose board cannot be read
    _, accepted, _ = call("POST", "/admin/exports", body="{}")
    [message] = queued(world)

    def unreadable(*_args, **_kwargs):
        raise StoreError("could not read scores")

    monkeypatch.setattr(ScoreStore, "board_pages", unreadable)
    # When SQS delivers it up to the queue's maxReceiveCount
    max_receives = resource("ReportQueue")["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    assert resource("ReportFunction")["Properties"]["Environment"]["Variables"]["REPORT_MAX_RECEIVES"] == str(
        max_receives
    )
    for attempt in range(1, max_receives + 1):
        message["attributes"] = {"ApproximateReceiveCount": str(attempt)}
        # (a batch of one that fails is the function's error: SQS makes the message visible again)
        with pytest.raises(BatchProcessingError):
            reports_handler.lambda_handler({"Records": [message]}, FakeLambdaContext())
        status = call("GET", accepted["location"])[1]
        # Then it is pending while SQS may try again, failed after the last attempt
        assert status["status"] == ("failed" if attempt == max_receives else "pending")
    assert "ask for it again" in status["message"]
