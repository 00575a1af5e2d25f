"""The ingest function as S3 invokes it: one report per upload, safe to run twice."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import ingest_handler
from tests.conftest import BUCKET
from tests.support.lambda_context import FakeLambdaContext

SAMPLE = json.loads((Path(__file__).resolve().parents[3] / "events/ingest/s3_content_upload.json").read_text())
CSV = "id,title,url,text\nn-1,Office,https://example.com/office,We opened\n"


def s3_event(key_in_event: str, version_id: str) -> dict:
    event = copy.deepcopy(SAMPLE)
    event["Records"][0]["s3"]["bucket"]["name"] = BUCKET
    event["Records"][0]["s3"]["object"]["key"] = key_in_event
    event["Records"][0]["s3"]["object"]["versionId"] = version_id
    return event


def test_s3_upload_is_ingested_once_even_when_delivered_twice(aws):
    # Given an uploaded file whose key has a space (S3 sends it URL-encoded)
    key = "uploads/content/2026/11/23/weekly news.csv"
    version = aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=CSV.encode())["VersionId"]
    event = s3_event("uploads/content/2026/11/23/weekly+news.csv", version)
    # When S3 delivers the notification twice
    first = ingest_handler.lambda_handler(event, FakeLambdaContext())
    report_object = aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{key}.json")
    second = ingest_handler.lambda_handler(copy.deepcopy(event), FakeLambdaContext())
    # Then the second delivery returns the first result and does not rewrite the report
    assert first == second == [{"key": key, "report_key": f"reports/{key}.json", "status": "completed"}]
    again = aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{key}.json")
    assert again["ETag"] == report_object["ETag"]
    assert json.loads(again["Body"].read())["counts"]["created"] == 1


def test_a_new_version_of_the_same_key_is_ingested_again(aws):
    key = "uploads/content/news.csv"
    first_version = aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=CSV.encode())["VersionId"]
    ingest_handler.lambda_handler(s3_event(key, first_version), FakeLambdaContext())
    second_version = aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=CSV.replace("We opened", "We moved").encode())[
        "VersionId"
    ]
    ingest_handler.lambda_handler(s3_event(key, second_version), FakeLambdaContext())
    report = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{key}.json")["Body"].read())
    assert report["counts"]["updated"] == 1


def test_objects_outside_the_upload_prefixes_are_ignored(aws):
    aws["s3"].put_object(Bucket=BUCKET, Key="reports/x.json", Body=b"{}")
    assert ingest_handler.lambda_handler(s3_event("reports/x.json", "v1"), FakeLambdaContext()) == []
