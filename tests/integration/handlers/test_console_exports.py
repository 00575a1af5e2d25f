"""Exports from the console through the handlers on moto: the admin asks for the consent ledger
(a search, or a range of days) or the redemptions; the report function, given the queued message
as SQS delivers it, writes a CSV and a JSON Lines file to S3; the status page then links them.
The bytes read back from S3 hold the exact text approved and the SHA-256 the ledger recorded (that
of the bytes the network received), a formula-like text is neutralised in the CSV only, and a
redelivered message writes and records nothing more."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from bench.aws_calls import count_aws_calls

import reports_handler
from chorus import bootstrap
from chorus.domain.exports import LEDGER_COLUMNS, REDEMPTION_COLUMNS
from chorus.domain.rewards import RewardInput
from chorus.services.rewards import RewardService
from chorus.store.rewards import RewardStore
from tests.conftest import BUCKET, TABLE
from tests.integration.handlers.test_consent_integrity import (  # noqa: F401 (world is a fixture)
    ADA,
    approval,
    approve,
    feed,
    fire,
    page_link,
    shown_version,
    web,
    world,
)
from tests.integration.handlers.test_console import (  # noqa: F401 (issuer is a fixture)
    NOT_ADMIN,
    Browser,
    csrf_of,
    issuer,
    location,
    sign_in,
)
from tests.integration.handlers.test_console_rewards import employee
from tests.integration.handlers.test_points_reports import queued
from tests.support.iam import denied
from tests.support.lambda_context import FakeLambdaContext
from tests.support.local_cloud import clear_runtime_caches
from tests.support.seed import content_id, employee_id

# A text a spreadsheet would run as a formula: the employee may write it, the CSV must not run it.
FORMULA_TEXT = '=HYPERLINK("https://evil.example","Lyon") in my words'


def published(aws, text: str = FORMULA_TEXT) -> dict[str, Any]:
    """Ada approves the Lyon post with her own text, and the sandbox network publishes it."""
    link = page_link()
    page = web("GET", f"/a/{link}", "/a/{token}")
    assert approve(link, shown_version(page), text_sandbox=text)["statusCode"] == 303
    assert fire("sandbox") == "published"
    [post] = feed(aws)
    return post


@pytest.fixture
def admin(issuer) -> Browser:  # noqa: F811
    browser = Browser()
    sign_in(browser, issuer)
    return browser


def csrf(browser: Browser) -> str:
    return csrf_of(browser.call("GET", "/console/consent")["body"])


def ask_for_ledger(browser: Browser, **fields: str) -> dict[str, Any]:
    return browser.call("POST", "/console/consent/export", body=urlencode({"csrf": csrf(browser), **fields}))


def produce(message: dict[str, Any], attempt: int = 1) -> dict[str, Any]:
    message["attributes"] = {"ApproximateReceiveCount": str(attempt)}
    return reports_handler.lambda_handler({"Records": [message]}, FakeLambdaContext())


def export_items(aws) -> list[dict[str, Any]]:
    items = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    return [item for item in items if item["PK"]["S"].startswith("EXPORT#")]


def downloads(page: str) -> dict[str, str]:
    """file name -> the presigned link the status page shows."""
    return {name: html.unescape(url) for url, name in re.findall(r'<a href="([^"]+)" download="([^"]+)"', page)}


def stored_files(aws, export_id: str) -> dict[str, bytes]:
    """The export's objects as S3 holds them, by file extension."""
    listed = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"exports/{export_id}/").get("Contents", [])
    return {
        item["Key"].rsplit(".", 1)[1]: aws["s3"].get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in listed
    }


def test_a_ledger_export_of_a_search_holds_the_exact_text_and_the_hash_the_network_received(world, admin):  # noqa: F811
    post = published(world)
    # When the admin asks for the export of Ada's approvals
    response = ask_for_ledger(admin, scope="search", by="employee", q=ADA)
    # Then the console answers with the export's status page, pending, and queues only its id and kind
    assert response["statusCode"] == 303
    status_path = location(response).split("?", 1)[0]
    export_id = status_path.rsplit("/", 1)[1]
    pending = admin.call("GET", status_path)
    assert pending["statusCode"] == 200 and "Being produced" in pending["body"]
    # And the record names her by her pseudonymous id, never by the address typed (it would
    # outlive her erasure for the export's week)
    assert f"Consent ledger: approvals of employee {employee_id(ADA)}" in pending["body"]
    assert ADA.encode() not in json.dumps(export_items(world)).encode()
    [message] = queued(world)
    assert json.loads(message["body"]) == {"export_id": export_id, "kind": "ledger"}
    # When the report function takes the message
    assert produce(message) == {"batchItemFailures": []}
    # Then the status page links both files, signed for 15 minutes, named for download
    ready = admin.call("GET", status_path)["body"]
    assert "Ready" in ready and "These links work for 15 minutes" in ready
    links = downloads(ready)
    day = f"{datetime.now(UTC):%Y-%m-%d}"
    assert sorted(links) == [f"chorus-ledger-employee-{day}.csv", f"chorus-ledger-employee-{day}.jsonl"]
    for url in links.values():
        assert (
            "X-Amz-Signature=" in url
            and "X-Amz-Expires=900" in url
            and "response-content-disposition=attachment" in url
        )
    # and the bytes in S3 hold the row as recorded: the hash is that of what the network received
    files = stored_files(world, export_id)
    sent = hashlib.sha256(post["text"]["S"].encode("utf-8")).hexdigest()
    recorded = approval(world)["text_sha256"]["S"]
    assert recorded == sent
    assert not files["csv"].startswith(b"\xef\xbb\xbf")  # no BOM, as the other CSV reports
    header, *rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8"))))
    assert tuple(header) == LEDGER_COLUMNS
    [row] = [dict(zip(header, row, strict=True)) for row in rows]
    assert row["text"] == "'" + FORMULA_TEXT  # a spreadsheet shows it, never runs it
    assert row["text_sha256"] == sent and row["snapshot_sha256"] == approval(world)["snapshot_sha256"]["S"]
    assert row["employee_id"] == employee_id(ADA) and row["content_id"] == content_id("lyon")
    assert row["network"] == "sandbox" and row["channel"] == "page" and row["outcome"] == "published"
    assert row["employee_timezone"] == "Europe/Paris" and row["approved_at_local"].endswith(("+01:00", "+02:00"))
    assert row["link_url"] == approval(world)["link_url"]["S"] and row["title"] == approval(world)["title"]["S"]
    [line] = files["jsonl"].decode("utf-8").splitlines()
    document = json.loads(line)
    assert document["text"] == FORMULA_TEXT == post["text"]["S"]
    assert hashlib.sha256(document["text"].encode("utf-8")).hexdigest() == document["text_sha256"] == recorded
    # and the files name the employee by id only: no address, no name
    assert ADA.encode() not in files["csv"] + files["jsonl"] and b"Ada" not in files["csv"] + files["jsonl"]


def test_producing_a_ledger_export_twice_writes_and_records_it_once(world, admin):  # noqa: F811
    published(world)
    export_id = location(ask_for_ledger(admin, scope="search", by="content", q=content_id("lyon"))).split("?")[0][-32:]
    [message] = queued(world)
    produce(message)
    first = export_items(world)
    # When SQS delivers the same message again (at-least-once)
    bootstrap.report_requests.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        assert produce(message, attempt=2) == {"batchItemFailures": []}
    # Then the second run reads the record, sees it ready, and writes nothing
    assert [operation for operation, _ in calls.requests] == ["dynamodb.GetItem"]
    assert export_items(world) == first and first[0]["status"]["S"] == "ready"
    assert len(stored_files(world, export_id)) == 2


def test_a_ledger_export_by_days_holds_the_approvals_decided_then(world, admin):  # noqa: F811
    published(world, text="Plain words about Lyon")
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    response = ask_for_ledger(admin, scope="days", **{"from": yesterday.isoformat(), "to": today.isoformat()})
    export_id = location(response).split("?")[0][-32:]
    [message] = queued(world)

    produce(message)

    files = stored_files(world, export_id)
    [line] = files["jsonl"].decode().splitlines()
    assert json.loads(line)["text"] == "Plain words about Lyon"
    page = admin.call("GET", location(response).split("?")[0])["body"]
    assert f"chorus-ledger-{yesterday}-to-{today}.csv" in page
    assert f"approvals decided {yesterday} to {today} (UTC)" in page


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"scope": "days", "from": "2026-11-30", "to": "2026-11-01"}, "must not be before the first day"),
        ({"scope": "days", "from": "2026-01-01", "to": "2026-11-01"}, "must be at most 31 days after the first"),
        ({"scope": "days", "from": "yesterday", "to": "2026-11-01"}, "must be a day as YYYY-MM-DD"),
        ({"scope": "search", "by": "content", "q": "lyon"}, "a content id looks like c- and 20 hex digits"),
    ],
)
def test_a_bad_export_request_says_why_keeps_what_was_typed_and_queues_nothing(world, admin, fields, reason):  # noqa: F811
    response = ask_for_ledger(admin, **fields)

    assert response["statusCode"] == 400
    assert reason in html.unescape(response["body"])
    if "from" in fields:
        assert f'value="{fields["from"]}"' in response["body"]
    assert queued(world) == [] and export_items(world) == []


def test_an_export_without_the_csrf_token_is_refused_and_nothing_is_queued(world, admin):  # noqa: F811
    for path, body in (
        ("/console/consent/export", urlencode({"scope": "search", "by": "employee", "q": ADA})),
        ("/console/consent/export", urlencode({"csrf": "forged", "scope": "search", "by": "employee", "q": ADA})),
        ("/console/rewards/export", ""),
    ):
        assert admin.call("POST", path, body=body)["statusCode"] == 403
    assert queued(world) == [] and export_items(world) == []


def test_a_non_admin_can_neither_ask_for_an_export_nor_see_one(world, admin, issuer):  # noqa: F811
    export_path = location(ask_for_ledger(admin, scope="search", by="employee", q=ADA)).split("?")[0]
    assert len(queued(world)) == 1
    outsider = Browser()
    # Given someone outside the admin group: the issuer's answer gives them no session
    assert sign_in(outsider, issuer, NOT_ADMIN)["statusCode"] == 403

    asked = outsider.call(
        "POST", "/console/consent/export", body=urlencode({"scope": "search", "by": "employee", "q": ADA})
    )
    seen = outsider.call("GET", export_path)

    assert asked["statusCode"] == 401 and seen["statusCode"] == 303
    assert location(seen).startswith("/console/signin") and "ledger" not in seen["body"]
    assert queued(world) == [] and len(export_items(world)) == 1


def test_an_export_that_cannot_be_produced_says_so_after_the_last_attempt(world, admin, monkeypatch):  # noqa: F811
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from chorus.errors import StoreError
    from chorus.store.ledger import LedgerStore
    from tests.support.template import resource

    status_path = location(ask_for_ledger(admin, scope="search", by="employee", q=employee_id(ADA))).split("?")[0]
    [message] = queued(world)

    def unreadable(*_args: Any, **_kwargs: Any) -> None:
        raise StoreError("could not read the consent ledger")

    monkeypatch.setattr(LedgerStore, "approvals_of_employee", unreadable)
    max_receives = resource("ReportQueue")["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    for attempt in range(1, max_receives + 1):
        with pytest.raises(BatchProcessingError):
            produce(message, attempt)
        page = admin.call("GET", status_path)["body"]
        assert ("Failed" if attempt == max_receives else "Being produced") in page
    assert "Ask for it again" in page


def test_an_export_stopped_without_a_word_says_failed_once_every_attempt_is_past(world, admin):  # noqa: F811
    from chorus.domain.points_report import ABANDONED_AFTER, ExportStatus
    from chorus.services.exports import ExportDesk
    from chorus.store.points_reports import ExportStore
    from tests.support.template import resource

    # Given an export asked for, whose function then timed out on every attempt (nothing raised,
    # nothing marked it failed); the queue's attempts and their visibility timeouts fit the wait
    queue = resource("ReportQueue")["Properties"]
    attempts = queue["RedrivePolicy"]["maxReceiveCount"] * timedelta(seconds=queue["VisibilityTimeout"])
    assert attempts < ABANDONED_AFTER
    status_path = location(ask_for_ledger(admin, scope="search", by="employee", q=employee_id(ADA))).split("?")[0]
    export_id = status_path[-32:]
    asked = datetime.fromisoformat(export_items(world)[0]["requested_at"]["S"])

    def seen_at(moment: datetime) -> ExportStatus:
        return ExportDesk(ExportStore(world["dynamodb"], TABLE), now=lambda: moment).view(export_id).export.status

    # Then it is being produced while an attempt may still run, and failed once all are past
    assert seen_at(asked + attempts) is ExportStatus.PENDING
    assert seen_at(asked + ABANDONED_AFTER + timedelta(seconds=1)) is ExportStatus.FAILED
    # And the record itself is left alone (a late delivery may still produce it)
    assert export_items(world)[0]["status"]["S"] == "pending"


def test_an_export_of_an_address_nobody_has_says_so_and_queues_nothing(world, admin):  # noqa: F811
    response = ask_for_ledger(admin, scope="search", by="employee", q="nobody@example.com")

    assert response["statusCode"] == 400
    assert "no employee was ever uploaded with this address" in html.unescape(response["body"])
    assert queued(world) == [] and export_items(world) == []


def test_an_unknown_export_is_404(world, admin):  # noqa: F811
    assert admin.call("GET", "/console/exports/" + "a" * 32)["statusCode"] == 404
    assert admin.call("GET", "/console/exports/not-an-id")["statusCode"] == 404


def test_the_redemptions_export_lists_open_and_fulfilled_ones_with_name_and_email(world, admin):  # noqa: F811
    rewards = RewardService(RewardStore(world["dynamodb"], TABLE))
    reward = rewards.create_reward(RewardInput(name="@Mug", cost=100, stock=5))
    employee(world, "e-" + "1" * 20, "Zoé Martin", "zoe@example.com")
    employee(world, "e-" + "2" * 20, "=Bob", "bob@example.com")
    fulfilled = rewards.redeem("e-" + "1" * 20, reward.reward_id, "press-0001")
    rewards.fulfil("e-" + "1" * 20, fulfilled.redemption_id)
    rewards.redeem("e-" + "2" * 20, reward.reward_id, "press-0002")
    page = admin.call("GET", "/console/rewards")
    response = admin.call("POST", "/console/rewards/export", body=urlencode({"csrf": csrf_of(page["body"])}))
    export_id = location(response).split("?")[0][-32:]
    [message] = queued(world)
    assert json.loads(message["body"]) == {"export_id": export_id, "kind": "redemptions"}

    produce(message)

    files = stored_files(world, export_id)
    header, *rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8"))))
    assert tuple(header) == REDEMPTION_COLUMNS
    by_email = {row[3]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_email) == {"zoe@example.com", "bob@example.com"}
    assert by_email["zoe@example.com"]["name"] == "Zoé Martin" and by_email["zoe@example.com"]["status"] == "fulfilled"
    assert by_email["zoe@example.com"]["fulfilled_at_utc"] and by_email["bob@example.com"]["fulfilled_at_utc"] == ""
    assert by_email["bob@example.com"]["name"] == "'=Bob" and by_email["bob@example.com"]["reward"] == "'@Mug"
    assert by_email["bob@example.com"]["points"] == "100" and by_email["bob@example.com"]["status"] == "requested"
    lines = [json.loads(line) for line in files["jsonl"].decode("utf-8").splitlines()]
    assert sorted(line["name"] for line in lines) == ["=Bob", "Zoé Martin"]
    assert (
        "Redemptions: every one still to hand over and every one fulfilled"
        in admin.call("GET", location(response).split("?")[0])["body"]
    )


def test_the_console_and_report_functions_may_make_every_call_an_export_makes(world, admin):  # noqa: F811
    published(world)
    clear_runtime_caches()
    with count_aws_calls(keep_requests=True) as console_calls:
        browser = Browser()
        browser.jar = dict(admin.jar)
        by_address = ask_for_ledger(browser, scope="search", by="employee", q=ADA)
        today = datetime.now(UTC).date().isoformat()
        ask_for_ledger(browser, scope="days", **{"from": today, "to": today})
        ask_for_ledger(browser, scope="search", by="content", q=content_id("lyon"))
        page = browser.call("GET", "/console/rewards")["body"]
        browser.call("POST", "/console/rewards/export", body=urlencode({"csrf": csrf_of(page)}))
    messages = queued(world)
    assert len(messages) == 4
    with count_aws_calls(keep_requests=True) as report_calls:
        for message in messages:
            assert produce(message) == {"batchItemFailures": []}
    with count_aws_calls(keep_requests=True) as status_calls:
        assert "Ready" in browser.call("GET", location(by_address).split("?")[0])["body"]
    assert denied("ConsoleFunction", console_calls.requests + status_calls.requests) == []
    assert denied("ReportFunction", report_calls.requests) == []
    operations = {operation for operation, _ in report_calls.requests}
    assert {"dynamodb.Query", "dynamodb.BatchGetItem", "dynamodb.GetItem", "s3.PutObject"} <= operations


def test_the_admin_api_asks_for_the_same_exports_through_the_same_desk(world):  # noqa: F811
    from tests.integration.handlers.test_points_reports import call

    published(world)
    # When a script asks for the ledger of a content item, and for the redemptions
    status, accepted, response = call(
        "POST", "/admin/exports/ledger", body=json.dumps({"by": "content", "q": content_id("lyon")})
    )
    assert status == 202 and accepted["kind"] == "ledger" and accepted["status"] == "pending"
    assert response["headers"]["Location"] == accepted["location"] == f"/admin/exports/{accepted['id']}"
    assert call("POST", "/admin/exports/redemptions", body="")[1]["kind"] == "redemptions"
    # Then both are queued with their kind, the report function produces them, and the status has links
    messages = queued(world)
    assert sorted(json.loads(message["body"])["kind"] for message in messages) == ["ledger", "redemptions"]
    for message in messages:
        assert produce(message) == {"batchItemFailures": []}
    ready = call("GET", accepted["location"])[1]
    assert ready["status"] == "ready" and ready["kind"] == "ledger" and ready["employees"] == 1
    assert ready["files"]["json"]["url"].split("?")[0].endswith(".jsonl")
    # and the same rules refuse what the console refuses, queueing nothing
    refused = call("POST", "/admin/exports/ledger", body=json.dumps({"from": "2026-01-01", "to": "2026-11-01"}))
    assert refused[0] == 422 and "must be at most 31 days after the first" in json.dumps(refused[1])
    assert call("POST", "/admin/exports/ledger", body="[1]")[0] == 422
    assert queued(world) == []
