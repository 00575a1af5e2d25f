"""S3 notification event shape and key encoding."""

from __future__ import annotations

import pytest

from chorus_local.s3_events import build_s3_event, encode_key


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("uploads/content/2025/01/02/content.csv", "uploads/content/2025/01/02/content.csv"),
        ("uploads/content/my file.csv", "uploads/content/my+file.csv"),
        ("uploads/content/a+b=c&d.csv", "uploads/content/a%2Bb%3Dc%26d.csv"),
        ("uploads/content/été.csv", "uploads/content/%C3%A9t%C3%A9.csv"),
    ],
)
def test_keys_are_url_encoded_like_s3(key: str, encoded: str) -> None:
    assert encode_key(key) == encoded


def test_event_shape() -> None:
    event = build_s3_event(
        event_name="s3:ObjectCreated:Put",
        region="eu-west-1",
        bucket="b",
        key="uploads/content/a b.csv",
        size=10,
        etag='"abc"',
        version_id="v1",
        configuration_id="cfg",
    )
    record = event["Records"][0]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z")
    assert record["s3"]["bucket"] == {
        "name": "b",
        "ownerIdentity": {"principalId": "A3LOCALCHORUS"},
        "arn": "arn:aws:s3:::b",
    }
    obj = record["s3"]["object"]
    assert obj["key"] == "uploads/content/a+b.csv"
    assert obj["eTag"] == "abc"
    assert obj["versionId"] == "v1"
    assert len(obj["sequencer"]) == 16


def test_unversioned_objects_have_no_version_id() -> None:
    event = build_s3_event(
        event_name="s3:ObjectCreated:Put",
        region="r",
        bucket="b",
        key="k",
        size=0,
        etag="e",
        version_id="null",
        configuration_id="c",
    )
    assert "versionId" not in event["Records"][0]["s3"]["object"]
