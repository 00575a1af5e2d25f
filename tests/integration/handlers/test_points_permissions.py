"""Every AWS call of scoring, ranks and reports is allowed by its function's policy in template.yaml
(moto allows everything; AWS answers AccessDenied)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from bench.aws_calls import count_aws_calls

import admin_api_handler
import reports_handler
from chorus import bootstrap
from tests.conftest import BUCKET
from tests.integration.handlers.test_points_reports import call, queued
from tests.integration.handlers.test_scoring import (
    CONTENT,
    FIFTY_GROUPS,
    PEOPLE,
    CrashingClient,
    approval_image,
    change,
    click_image,
    me_page,
    record,
    run,
    scoring_with,
    service,
)
from tests.support.http_events import http_event
from tests.support.iam import denied
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import seed


@pytest.fixture
def world(aws):
    # Ada's award takes three transactions: the first and two of group items
    seed(aws, [CONTENT], [{"email": "ada@example.com", "name": "Ada", "groups": FIFTY_GROUPS[:8]}, *PEOPLE[1:]])
    return aws


def test_the_scoring_function_may_make_every_call_it_makes(world):
    from chorus.errors import StoreError

    with count_aws_calls(world["dynamodb"], keep_requests=True) as calls:
        # an award that crashes in its third transaction, then its retry (reads which chunks are written)
        ada = change(approval_image("ada@example.com"))
        with pytest.raises(StoreError):
            scoring_with(world, CrashingClient(world["dynamodb"], fail_at=3)).apply(
                ada, service(world).context_for([ada])
            )
        scoring_with(world, world["dynamodb"]).apply(ada, service(world).context_for([ada]))
    bootstrap.score_stream.cache_clear()
    world["dynamodb"].put_item(TableName="chorus-test-table", Item=approval_image("bob@example.com"))
    with count_aws_calls(keep_requests=True) as handler_calls:
        run(record(approval_image("bob@example.com")))
        run(*(record(click_image("bob@example.com", f"v{n}", "2026-11-23T10:00:00+00:00")) for n in range(4)))
    operations = {op for op, _ in calls.requests + handler_calls.requests}
    assert {
        "dynamodb.Query",
        "dynamodb.TransactWriteItems",
        "dynamodb.UpdateItem",
        "dynamodb.BatchGetItem",
    } <= operations
    assert denied("ScoringFunction", calls.requests + handler_calls.requests) == []


def test_the_report_function_may_make_every_call_it_makes(world):
    run(record(approval_image("bob@example.com")))
    call("POST", "/admin/exports", body="{}")
    [message] = queued(world)
    bootstrap.report_requests.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        reports_handler.lambda_handler({"Records": [message]}, FakeLambdaContext())  # takes a census first
        reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
    operations = {op for op, _ in calls.requests}
    assert {"dynamodb.Query", "dynamodb.PutItem", "dynamodb.UpdateItem", "s3.PutObject"} <= operations
    assert denied("ReportFunction", calls.requests) == []


def test_the_admin_api_may_make_every_call_of_the_boards_and_reports(world):
    run(record(approval_image("bob@example.com")))
    reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
    bootstrap.admin_app.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        call("GET", "/admin/leaderboard/teams")
        call("GET", "/admin/reports")
        call("GET", "/admin/leaderboard", query={"group": "sales"})
        _, accepted, _ = call("POST", "/admin/exports", body='{"period": "all"}')
    reports_handler.lambda_handler({"Records": queued(world)}, FakeLambdaContext())  # checked above
    bootstrap.admin_app.cache_clear()
    with count_aws_calls(keep_requests=True) as status_calls:
        _, ready, _ = call("GET", accepted["location"])
    assert ready["status"] == "ready"
    # a presigned GET works only if its signer may s3:GetObject
    signed = [("s3.GetObject", {"Bucket": BUCKET, "Key": signed_key(file["url"])}) for file in ready["files"].values()]
    assert all(params["Key"].startswith("exports/") for _, params in signed)
    assert denied("AdminApiFunction", calls.requests + status_calls.requests + signed) == []


def signed_key(url: str) -> str:
    """The object key of a presigned URL, path-style or virtual-hosted."""
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    return path.removeprefix(f"{BUCKET}/") if not parts.netloc.startswith(BUCKET) else path


def test_the_web_function_may_make_every_call_of_the_me_page(world):
    run(record(approval_image("bob@example.com")))
    bootstrap.web_app.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        me_page("bob@example.com")
    table_calls = [(op, params) for op, params in calls.requests if op.startswith("dynamodb.")]
    assert "dynamodb.BatchGetItem" in {op for op, _ in table_calls}  # the histogram
    assert denied("WebFunction", table_calls) == []


def test_an_admin_api_call_is_recorded_through_the_default_session(world):
    # guards the three tests above: a handler's clients are made inside the count
    bootstrap.admin_app.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        admin_api_handler.lambda_handler(http_event("GET", "/admin/reports"), FakeLambdaContext())
    assert calls.total() > 0
