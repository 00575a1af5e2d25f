"""bench.aws_calls counts real botocore calls (answered in-process by moto, no sockets)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import boto3
import pytest
from bench.aws_calls import count_aws_calls
from moto import mock_aws

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def _create_table(session: boto3.Session) -> None:
    session.client("dynamodb").create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
    )


def test_counts_client_calls_by_operation(aws: boto3.Session) -> None:
    # Given a counter on the session the code creates its clients from
    with count_aws_calls(aws) as calls:
        # When clients of two services make calls
        _create_table(aws)
        ddb = aws.client("dynamodb")
        for i in range(3):
            ddb.put_item(TableName="t", Item={"PK": {"S": f"k{i}"}})
        ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {"PK": {"S": f"b{i}"}}}} for i in range(25)]})
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="bench-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="bench-bucket", Key="k", Body=b"x")

    # Then every API call is counted once, per service and operation
    assert calls.by_operation() == Counter(
        {
            "dynamodb.CreateTable": 1,
            "dynamodb.PutItem": 3,
            "dynamodb.BatchWriteItem": 1,
            "s3.CreateBucket": 1,
            "s3.PutObject": 1,
        }
    )
    assert calls.total() == 7
    assert calls.total("dynamodb") == 5
    assert calls.by_service() == Counter({"dynamodb": 5, "s3": 2})
    assert calls.count("dynamodb.PutItem") == 3
    assert "dynamodb.PutItem" in calls.format()
    assert "(none)" in calls.format(service="sqs")


def test_counts_resource_level_calls(aws: boto3.Session) -> None:
    _create_table(aws)
    with count_aws_calls(aws) as calls:
        table = aws.resource("dynamodb").Table("t")
        with table.batch_writer() as batch:
            for i in range(30):
                batch.put_item(Item={"PK": f"r{i}"})
        table.get_item(Key={"PK": "r1"})

    assert calls.by_operation() == Counter({"dynamodb.BatchWriteItem": 2, "dynamodb.GetItem": 1})


def test_counts_paginated_calls(aws: boto3.Session) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="bench-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    for i in range(5):
        s3.put_object(Bucket="bench-bucket", Key=f"k{i}", Body=b"x")
    with count_aws_calls(s3) as calls:
        pages = list(
            s3.get_paginator("list_objects_v2").paginate(Bucket="bench-bucket", PaginationConfig={"PageSize": 2})
        )

    assert len(pages) == 3
    assert calls.by_operation() == Counter({"s3.ListObjectsV2": 3})


def test_default_session_and_existing_clients(aws: boto3.Session) -> None:
    existing = aws.client("dynamodb")
    _create_table(aws)
    with count_aws_calls() as calls:  # boto3's default session
        boto3.client("dynamodb", region_name=REGION).describe_table(TableName="t")
        existing.describe_table(TableName="t")  # created before: not watched...
        calls.watch(existing)
        existing.describe_table(TableName="t")  # ...until watched

    assert calls.by_operation() == Counter({"dynamodb.DescribeTable": 2})


def test_stops_counting_on_exit_and_nests(aws: boto3.Session) -> None:
    _create_table(aws)
    with count_aws_calls(aws) as outer:
        aws.client("dynamodb").describe_table(TableName="t")
        with count_aws_calls(aws) as inner:
            aws.client("dynamodb").describe_table(TableName="t")
    aws.client("dynamodb").describe_table(TableName="t")

    assert outer.total() == 2
    assert inner.total() == 1


def test_keeps_request_parameters_when_asked(aws: boto3.Session) -> None:
    _create_table(aws)
    with count_aws_calls(aws, keep_requests=True) as calls:
        aws.client("dynamodb").get_item(TableName="t", Key={"PK": {"S": "x"}})

    assert calls.requests == [("dynamodb.GetItem", {"TableName": "t", "Key": {"PK": {"S": "x"}}})]


def test_rejects_what_it_cannot_watch() -> None:
    with pytest.raises(TypeError), count_aws_calls(object()):
        pass
