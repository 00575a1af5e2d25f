"""The whole local cloud in-process: provisioning, S3 routing, gateway, authorizer, clock, outbox."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from chorus_local.cloud import LocalCloud
from chorus_local.streams import StreamMapping, StreamPoller
from chorus_local.template import Stack, load_template

ROOT = Path(__file__).resolve().parents[3]


def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_resources_match_the_template(local_cloud: LocalCloud) -> None:
    # Given the template, read independently of the cloud
    stack = Stack(load_template(ROOT / "template.yaml"))
    dynamodb, s3, sqs, sns = (local_cloud.client(name) for name in ("dynamodb", "s3", "sqs", "sns"))
    # Then every table exists with the template's keys, indexes and stream
    for res in stack.by_type("AWS::DynamoDB::Table"):
        table = dynamodb.describe_table(TableName=stack.physical_name(res.logical_id))["Table"]
        assert table["KeySchema"] == res.properties["KeySchema"]
        expected_indexes = {index["IndexName"] for index in res.properties.get("GlobalSecondaryIndexes", [])}
        assert {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])} == expected_indexes
        if "StreamSpecification" in res.properties:
            assert (
                table["StreamSpecification"]["StreamViewType"]
                == res.properties["StreamSpecification"]["StreamViewType"]
            )
        ttl = res.properties.get("TimeToLiveSpecification")
        if ttl:
            described = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
            assert described["AttributeName"] == ttl["AttributeName"]
    # And every bucket, with versioning when asked
    for res in stack.by_type("AWS::S3::Bucket"):
        name = stack.physical_name(res.logical_id)
        status = s3.get_bucket_versioning(Bucket=name).get("Status")
        assert status == (res.properties.get("VersioningConfiguration") or {}).get("Status")
    # And every queue and topic
    queue_urls = sqs.list_queues().get("QueueUrls", [])
    for res in stack.by_type("AWS::SQS::Queue"):
        assert any(url.endswith("/" + stack.physical_name(res.logical_id)) for url in queue_urls)
    topics = [topic["TopicArn"] for topic in sns.list_topics()["Topics"]]
    for res in stack.by_type("AWS::SNS::Topic"):
        assert stack.arn(res.logical_id) in topics
    # And the SES configuration set every sender names
    configuration_sets = local_cloud.client("sesv2").list_configuration_sets()["ConfigurationSets"]
    (res,) = stack.by_type("AWS::SES::ConfigurationSet")
    assert stack.physical_name(res.logical_id) in configuration_sets
    assert local_cloud.functions["DigestSenderFunction"].environment["SES_CONFIGURATION_SET"] in configuration_sets


def test_health(local_cloud: LocalCloud) -> None:
    health = requests.get(f"{local_cloud.api_url}/_local/health", timeout=5).json()
    assert health["status"] == "ok"
    assert health["ports"] == {"api": local_cloud.api_port, "aws": local_cloud.aws_port}
    assert health["outputs"]["ApiUrl"] == local_cloud.api_url
    assert health["outputs"]["UploadsBucketName"] == local_cloud.resources["UploadsBucket"]
    assert health["outputs"]["TableName"] == local_cloud.resources["Table"]
    datetime.fromisoformat(health["clock"])
    # The deployed API URL in function settings points at the gateway instead
    for spec in local_cloud.functions.values():
        for value in spec.environment.values():
            assert ".execute-api." not in value
    index = requests.get(f"{local_cloud.api_url}/_local/", timeout=5)
    assert index.status_code == 200 and "/admin/content" in index.text


def test_upload_under_a_prefix_invokes_its_function_and_reports_do_not(local_cloud: LocalCloud) -> None:
    # Given the ingest function replaced by a recorder
    calls: list[dict[str, Any]] = []
    local_cloud.override_handler("IngestFunction", lambda event, _context: calls.append(event))
    bucket = local_cloud.resources["UploadsBucket"]
    s3 = local_cloud.client("s3")
    # When a file lands under uploads/content/ and a report under reports/
    s3.put_object(Bucket=bucket, Key="uploads/content/2025/01/02/my file.csv", Body=b"a,b\n")
    s3.put_object(Bucket=bucket, Key="reports/uploads/content/2025/01/02/x.json", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="elsewhere/x.csv", Body=b"{}")
    assert local_cloud.invoker.wait_idle(10)
    # Then only the upload invoked the function, with a real-shaped S3 event
    assert len(calls) == 1
    record = calls[0]["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "uploads/content/2025/01/02/my+file.csv"
    assert record["s3"]["object"]["versionId"]


def test_failed_async_invocations_go_to_the_on_failure_queue(local_cloud: LocalCloud) -> None:
    attempts: list[int] = []

    def broken(_event: Any, _context: Any) -> None:
        attempts.append(1)
        raise RuntimeError("boom")

    local_cloud.override_handler("IngestFunction", broken)
    bucket = local_cloud.resources["UploadsBucket"]
    local_cloud.client("s3").put_object(Bucket=bucket, Key="uploads/employees/2025/01/02/e.csv", Body=b"x")
    assert local_cloud.invoker.wait_idle(10)
    assert len(attempts) == 3  # first try + MaximumRetryAttempts: 2
    sqs = local_cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=local_cloud.resources["IngestFailures"])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "uploads/employees/2025/01/02/e.csv"


def test_authorizer_rejects_without_a_token_and_passes_claims_with_one(local_cloud: LocalCloud) -> None:
    seen: list[dict[str, Any]] = []

    def admin(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps({"ok": True})}

    local_cloud.override_handler("AdminApiFunction", admin)
    base = local_cloud.api_url
    # Without a token, or with a bad one: 401 like API Gateway, handler not called
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = requests.get(f"{base}/admin/content", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}
    assert seen == []
    # With a token from the local issuer
    token = requests.post(
        f"{base}/_local/token", json={"sub": "ada", "groups": ["chorus-admins", "other"], "email": "a@x.io"}, timeout=5
    ).json()["token"]
    response = requests.get(
        f"{base}/admin/reports/reports/uploads/a.csv.json?x=1", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    event = seen[0]
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "ada"
    assert claims["cognito:groups"] == "[chorus-admins other]"
    assert event["pathParameters"] == {"key": "reports/uploads/a.csv.json"}
    assert event["routeKey"] == "GET /admin/reports/{key+}"
    # Unknown routes are 404 like API Gateway
    missing = requests.get(f"{base}/nowhere", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}


def test_real_admin_handler_lists_content(local_cloud: LocalCloud) -> None:
    token = requests.post(f"{local_cloud.api_url}/_local/token", json={}, timeout=5).json()["token"]
    response = requests.get(
        f"{local_cloud.api_url}/admin/content", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 200, response.text


def test_clock_fires_an_at_schedule_once_and_deletes_it(local_cloud: LocalCloud) -> None:
    calls: list[Any] = []
    local_cloud.override_handler("IngestFunction", lambda event, _context: calls.append(event))
    scheduler = local_cloud.client("scheduler")
    when = (local_cloud.clock.now() + timedelta(hours=2)).astimezone(UTC)
    paris = when.astimezone(ZoneInfo("Europe/Paris"))
    scheduler.create_schedule(
        Name="publish-once",
        ScheduleExpression=f"at({paris:%Y-%m-%dT%H:%M:%S})",
        ScheduleExpressionTimezone="Europe/Paris",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": local_cloud.functions["IngestFunction"].arn,
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps({"approval": "a1"}),
        },
    )
    # Not due yet
    early = requests.post(
        f"{local_cloud.api_url}/_local/clock", json={"to": (when - timedelta(hours=1)).isoformat()}, timeout=30
    ).json()
    assert "default/publish-once" not in [item["schedule"] for item in early["fired"]]
    assert calls == []
    # Due: fires once, with the input as the event, and the schedule is gone
    body = requests.post(
        f"{local_cloud.api_url}/_local/clock", json={"to": (when + timedelta(minutes=1)).isoformat()}, timeout=30
    ).json()
    ours = [item for item in body["fired"] if item["schedule"] == "default/publish-once"]
    assert len(ours) == 1
    assert ours[0]["deleted"] is True
    assert calls == [{"approval": "a1"}]
    assert scheduler.list_schedules()["Schedules"] == []
    again = requests.post(
        f"{local_cloud.api_url}/_local/clock", json={"to": (when + timedelta(hours=1)).isoformat()}, timeout=30
    ).json()
    assert "default/publish-once" not in [item["schedule"] for item in again["fired"]]
    assert len(calls) == 1


def test_clock_never_goes_back(local_cloud: LocalCloud) -> None:
    before = local_cloud.clock.now()
    body = requests.post(f"{local_cloud.api_url}/_local/clock", json={"to": "2000-01-01T00:00:00Z"}, timeout=30).json()
    assert datetime.fromisoformat(body["now"]) >= before
    bad = requests.post(f"{local_cloud.api_url}/_local/clock", json={"when": "x"}, timeout=30)
    assert bad.status_code == 400


def test_outbox_lists_raw_mail(local_cloud: LocalCloud) -> None:
    sesv2 = local_cloud.client("sesv2")
    sesv2.create_email_identity(EmailIdentity="chorus@example.com")
    message = EmailMessage()
    message["From"] = "chorus@example.com"
    message["To"] = "ada@example.com"
    message["Subject"] = "Your week <3"
    message.set_content("Open https://example.com/a/tok")
    message.add_alternative('<p><a href="https://example.com/a/tok">Open</a><script>x</script></p>', subtype="html")
    sesv2.send_email(
        FromEmailAddress="chorus@example.com",
        Destination={"ToAddresses": ["ada@example.com"]},
        Content={"Raw": {"Data": message.as_bytes()}},
    )
    listed = requests.get(f"{local_cloud.api_url}/_local/outbox.json", timeout=5).json()["messages"]
    mail = next(item for item in listed if item["subject"] == "Your week <3")
    assert mail["to"] == ["ada@example.com"]
    assert mail["links"] == ["https://example.com/a/tok"]
    page = requests.get(f"{local_cloud.api_url}/_local/outbox", timeout=5)
    assert page.status_code == 200
    assert "Your week &lt;3" in page.text
    assert '<a class="mail-link" href="https://example.com/a/tok">' in page.text
    assert "<script>x</script>" not in page.text  # the HTML body is escaped into a sandboxed srcdoc


def test_sqs_event_source_mapping_deletes_all_but_reported_failures(local_cloud: LocalCloud) -> None:
    # Given a function fed by a queue, which reports one message of its batch as failed
    mapping = next(m for m in local_cloud.sqs_poller.mappings if m.report_failures)
    seen: list[dict[str, Any]] = []

    def consumer(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        seen.extend(event["Records"])
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    local_cloud.override_handler(mapping.function.logical_id, consumer)
    sqs = local_cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
    # When two messages arrive
    sqs.send_message(QueueUrl=url, MessageBody="good")
    sqs.send_message(QueueUrl=url, MessageBody="bad")
    _wait_for(lambda: {r["body"] for r in seen} == {"good", "bad"})
    # Then the records are aws:sqs shaped and only the failed one stays in the queue (in flight)
    assert seen[0]["eventSource"] == "aws:sqs"
    assert seen[0]["eventSourceARN"] == mapping.queue_arn
    assert "ApproximateReceiveCount" in seen[0]["attributes"]

    def counts() -> tuple[int, int]:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    _wait_for(lambda: counts() == (0, 1))
    sqs.purge_queue(QueueUrl=url)


def test_stream_records_reach_the_function_through_filter_criteria(local_cloud: LocalCloud) -> None:
    # Given a function mapped to the table's stream, interested in APPROVAL# items only
    spec = local_cloud.functions["IngestFunction"]
    seen: list[dict[str, Any]] = []
    local_cloud.override_handler("IngestFunction", lambda event, _context: seen.extend(event["Records"]))
    table = local_cloud.resources["Table"]
    stream_arn = local_cloud.stack.get_att("Table", "StreamArn")
    mapping = StreamMapping(
        function=spec,
        stream_arn=stream_arn,
        starting_position="LATEST",
        batch_size=100,
        patterns=[{"dynamodb": {"NewImage": {"SK": {"S": [{"prefix": "APPROVAL#"}]}}}}],
        report_failures=False,
        max_retries=0,
        on_failure=None,
    )
    poller = StreamPoller(
        local_cloud.runtime, local_cloud.client, local_cloud.streams, [mapping], local_cloud.stack.region
    )
    poller.open(mapping)
    dynamodb = local_cloud.client("dynamodb")
    # When an approval and an unrelated item are written
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "EMP#1"}, "SK": {"S": "APPROVAL#c1#x"}, "b": {"B": b"\x00"}})
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "EMP#1"}, "SK": {"S": "POINTS#e1"}})
    assert poller.poll_once(mapping)
    # Then only the approval reached the function, shaped like a Lambda stream record
    assert [r["dynamodb"]["NewImage"]["SK"]["S"] for r in seen] == ["APPROVAL#c1#x"]
    record = seen[0]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == stream_arn
    assert record["awsRegion"] == "eu-west-1"
    assert record["dynamodb"]["NewImage"]["b"] == {"B": "AA=="}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
