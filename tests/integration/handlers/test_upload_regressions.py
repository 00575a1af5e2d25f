"""Issue 8 item 6 through the real handlers: every bad upload gets a report, never a crash.

Each case runs through both doors: POST to the admin API (the body is ingested in the request)
and an S3 upload delivered to the ingest function. Before the fix, a file nested 50,000 levels
deep raised RecursionError (admin API 500; S3: three retries, then the failure queue), " =1+2"
and "\\n=cmd|..." were stored as formulas, and a name holding "\\r\\nBcc: ..." was stored and broke
that employee's digest every week.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import admin_api_handler
import ingest_handler
from tests.conftest import BUCKET, TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id

S3_SAMPLE = json.loads((Path(__file__).resolve().parents[3] / "events/ingest/s3_content_upload.json").read_text())
DEEP = 50_000
GOOD = {"id": "good-1", "title": "Office", "url": "https://example.com/office", "text": "We opened"}
OTHER = {"id": "good-2", "title": "Launch", "url": "https://example.com/launch", "text": "It is out"}
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "jsonl": "application/x-ndjson"}


def via_admin_api(aws: dict[str, Any], kind: str, suffix: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST /admin/{kind}: answers 200 with the report, or 422 carrying it when nothing was kept."""
    event = http_event(
        "POST", f"/admin/{kind}", body=body.decode("utf-8"), headers={"content-type": MEDIA_TYPES[suffix]}
    )
    response = admin_api_handler.lambda_handler(event, FakeLambdaContext())
    answer = json.loads(response["body"])
    report = answer.get("report", answer)
    assert stored_report(aws, report["key"]) == report
    return response["statusCode"], report


def via_s3(aws: dict[str, Any], kind: str, suffix: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """An upload to the bucket, as S3 notifies the ingest function (which must not raise)."""
    key = f"uploads/{kind}/2026/11/29/upload.{suffix}"
    version = aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
    event = copy.deepcopy(S3_SAMPLE)
    event["Records"][0]["s3"]["bucket"]["name"] = BUCKET
    event["Records"][0]["s3"]["object"].update({"key": key, "versionId": version})
    [result] = ingest_handler.lambda_handler(event, FakeLambdaContext())
    report = stored_report(aws, key)
    assert result == {"key": key, "report_key": f"reports/{key}.json", "status": report["status"]}
    return 200, report


def stored_report(aws: dict[str, Any], upload_key: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(
        aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{upload_key}.json")["Body"].read()
    )
    return report


def stored(aws: dict[str, Any], pk: str, sk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        aws["dynamodb"].get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}}).get("Item")
    )
    return item


def errors(report: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    return [(error["line"], error["field"], error["reason"]) for error in report["errors"]]


DOORS = pytest.mark.parametrize("door", [via_admin_api, via_s3], ids=["admin_api", "s3"])
TOO_DEEP = "nests arrays or objects more than 8 levels deep; a row is an object of texts, numbers and lists of texts"
FORMULA = "which spreadsheets run as a formula; remove the leading character (or start the cell with an apostrophe)"


@DOORS
def test_a_row_nested_50000_levels_deep_is_refused_and_the_others_kept(aws, door):
    # Given a JSON array whose second item is nested 50,000 levels deep
    deep = "[" * DEEP + "]" * DEEP
    body = f"[{json.dumps(GOOD)},\n{deep},\n{json.dumps(OTHER)}]".encode()
    # When it is uploaded
    status, report = door(aws, "content", "json", body)
    # Then that row is refused with its line and a reason, and the two others are stored
    assert status == 200
    assert report["status"] == "partial"
    assert report["counts"] == {"rows": 3, "accepted": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert errors(report) == [(2, None, TOO_DEEP)]
    assert stored(aws, f"CONTENT#{content_id('good-1')}", "META") is not None
    assert stored(aws, f"CONTENT#{content_id('good-2')}", "META") is not None
    assert report["limits"]["max_nesting"] == 8


@DOORS
def test_a_json_lines_value_nested_50000_levels_deep_is_refused(aws, door):
    deep_value = '{"id": "deep", "title": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}"
    body = f"{json.dumps(GOOD)}\n{deep_value}\n".encode()
    status, report = door(aws, "content", "jsonl", body)
    assert (status, report["status"], report["counts"]["created"]) == (200, "partial", 1)
    assert errors(report) == [(2, None, TOO_DEEP)]


@DOORS
def test_a_file_that_is_only_nesting_is_reported_rejected(aws, door):
    status, report = door(aws, "content", "json", b"[" * DEEP)
    assert status == (422 if door is via_admin_api else 200)
    assert report["status"] == "rejected" and report["counts"]["accepted"] == 0
    assert errors(report) == [(1, None, TOO_DEEP)]
    assert [note["reason"] for note in report["file_errors"]] == [
        "the row at line 1 is never closed; rows from there on were not read"
    ]


@DOORS
def test_formulas_behind_blanks_and_line_breaks_are_refused(aws, door):
    # Given cells a spreadsheet would run once their leading blanks are ignored
    body = (
        b"id,title,url,text\n"
        b"f-1, =1+2,https://example.com/1,Fine\n"
        b"f-2,Quarterly,https://example.com/2,\"\n=cmd|' /C calc'!A0\"\n"
        b'f-3,"\t@SUM(A1:A9)",https://example.com/3,Fine\n'
        b"good-1,Office,https://example.com/office,We opened\n"
    )
    # When uploaded
    status, report = door(aws, "content", "csv", body)
    # Then each is refused, naming its field, and nothing of them is stored
    assert status == 200 and report["status"] == "partial"
    assert errors(report) == [
        (2, "title", f"starts with '=', {FORMULA}"),
        (3, "text", f"starts with '=', {FORMULA}"),
        (5, "title", f"starts with '@', {FORMULA}"),
    ]
    for external_id in ("f-1", "f-2", "f-3"):
        assert stored(aws, f"CONTENT#{content_id(external_id)}", "META") is None
    assert stored(aws, f"CONTENT#{content_id('good-1')}", "META")["title"] == {"S": "Office"}


@DOORS
@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_control_characters_in_a_name_are_refused_with_a_reason(aws, door, suffix):
    # Given a roster where one name would carry a line break into the digest's email headers
    rows = [
        {"email": "eve@example.com", "name": "Eve\r\nBcc: everyone@example.com"},
        {"email": "mallory@example.com", "name": "Mallory\u202egnp.exe"},
        {"email": "ada@example.com", "name": "Ada Lovelace"},
    ]
    if suffix == "csv":
        body = "email,name\n" + "".join(f'{row["email"]},"{row["name"]}"\n' for row in rows)
        lines = [2, 4, 5]  # the quoted CRLF makes the first record two lines long
    else:
        body = "".join(json.dumps(row) + "\n" for row in rows)
        lines = [1, 2, 3]
    # When the roster is uploaded
    status, report = door(aws, "employees", suffix, body.encode())
    # Then the two are refused, with the character named, and only Ada is stored
    assert status == 200 and report["counts"]["created"] == 1
    assert errors(report) == [
        (
            lines[0],
            "name",
            "contains a carriage return (U+000D) at character 4; it must be a single line of plain text",
        ),
        (
            lines[1],
            "name",
            "contains a bidirectional override (U+202E) at character 8; it must be a single line of plain text",
        ),
    ]
    assert stored(aws, f"EMP#{employee_id('eve@example.com')}", "PROFILE") is None
    assert stored(aws, f"EMP#{employee_id('mallory@example.com')}", "PROFILE") is None
    assert stored(aws, f"EMP#{employee_id('ada@example.com')}", "PROFILE")["name"] == {"S": "Ada Lovelace"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("title,url,text\nCafé,https://example.com/1,One\n".encode("latin-1"), "line 2 is not valid UTF-8"),
        ("title,url,text\n".encode("utf-16"), "the file is UTF-16 (or binary)"),
    ],
)
def test_a_body_api_gateway_sent_base64_encoded_is_read_as_bytes(aws, body, reason):
    # Given a posted file that is not UTF-8 (API Gateway hands such bodies over base64-encoded)
    event = http_event("POST", "/admin/content", body=body, headers={"content-type": "text/csv"})
    assert event["isBase64Encoded"] is True
    # When posted, Then the answer is a report saying why, not a server error
    response = admin_api_handler.lambda_handler(event, FakeLambdaContext())
    answer = json.loads(response["body"])
    assert response["statusCode"] == 422
    assert reason in json.dumps(answer["report"])
