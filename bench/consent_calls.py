"""AWS calls of the weekly digest and of the consent pages (moto, in-process).

    python -m bench.consent_calls [--employees 10000]

Prints, by operation:
- the digest for N employees: planner calls, sender calls, and calls per recipient
  (target <= 2.1, the once-per-week marker and the SES call included);
- GET /a/{token} (target <= 1: one BatchGetItem; the key ring is cached per container);
- an approval for 1, 2 and 3 networks (target <= 2 + 1 per network: one strongly consistent read
  of the content version the snapshot is taken from, one transaction, one schedule per network);
- publishing one approved post (target <= 4 plus the network call).
Figures, not a test: exit status 0 unless something raises.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
for folder in ("layers/chorus", "functions/web", "functions/publisher"):
    sys.path.insert(0, str(ROOT / folder))

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from bench.aws_calls import count_aws_calls, format_counts  # noqa: E402
from bench.ingest_scale import (  # noqa: E402
    create_bucket,
    create_table,
    moto_transactions_without_table_copies,
    template_resources,
)

REGION = "eu-west-1"
TABLE = "chorus-bench-table"
BUCKET = "chorus-bench-uploads"
SECRET = "chorus-bench-links"
GROUP = "chorus-bench-posts"
ENV = {
    "TABLE_NAME": TABLE,
    "UPLOADS_BUCKET": BUCKET,
    "IDEMPOTENCY_TABLE": "unused",
    "MAGIC_LINK_SECRET_ID": SECRET,
    "NETWORKS": "linkedin,x,mastodon",
    "SANDBOX_ENABLED": "true",
    "SCHEDULE_GROUP": GROUP,
    "SHARED_PUBLISH_QUEUE_ARN": "arn:aws:sqs:eu-west-1:123456789012:publish",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
    "SCHEDULE_DLQ_ARN": "arn:aws:sqs:eu-west-1:123456789012:schedule-failures",
    "PUBLIC_BASE_URL": "https://chorus.example.com",
    "SENDER_EMAIL": "chorus@example.com",
    "SES_MAX_SEND_RATE": "1000000",
    "SENDER_CONCURRENCY": "2",
    "DIGEST_TIMEZONE": "Europe/Paris",
    "TOKEN_KEY_ID": "alias/chorus-bench-tokens",
    "OAUTH_CLIENTS_SECRET_ID": "chorus-bench-oauth-clients",
    "CLICK_SECRET_ID": "chorus-bench-clicks",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


def setup() -> dict[str, Any]:
    resources = template_resources()
    ddb = boto3.client("dynamodb", region_name=REGION)
    create_table(ddb, TABLE, resources["Table"]["Properties"])
    create_bucket(boto3.client("s3", region_name=REGION), BUCKET, resources["UploadsBucket"]["Properties"])
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="digests")["QueueUrl"]
    plan_queue_url = sqs.create_queue(QueueName="digest-pages")["QueueUrl"]
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=SECRET, SecretString=json.dumps({"current": "k1", "k1": "bench-key-" + "x" * 40})
    )
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name=GROUP)
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="example.com")
    kms = boto3.client("kms", region_name=REGION)
    kms.create_alias(AliasName=ENV["TOKEN_KEY_ID"], TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=ENV["OAUTH_CLIENTS_SECRET_ID"], SecretString="{}"
    )
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=ENV["CLICK_SECRET_ID"], SecretString="bench-click-secret-" + "y" * 40
    )
    os.environ.update({**ENV, "DIGEST_QUEUE_URL": queue_url, "DIGEST_PLAN_QUEUE_URL": plan_queue_url})
    return {"ddb": ddb, "sqs": sqs, "queue_url": queue_url, "plan_queue_url": plan_queue_url}


def seed(employees: int) -> None:
    from chorus.bootstrap import build_ingest_service
    from chorus.config import IngestSettings

    service = build_ingest_service(IngestSettings.from_env())
    s3 = boto3.client("s3", region_name=REGION)
    content = "\n".join(
        json.dumps({"id": f"bench-{n}", "title": f"News {n}", "url": f"https://example.com/{n}", "text": "Share me"})
        for n in range(3)
    )
    roster = "\n".join(
        json.dumps({"email": f"person{n}@example.com", "name": f"Person {n}", "timezone": "Europe/Paris"})
        for n in range(employees)
    )
    for key, body in (("uploads/content/bench.jsonl", content), ("uploads/employees/bench.jsonl", roster)):
        s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
        service.ingest_object(key)


def digest(env: dict[str, Any], employees: int) -> None:
    from chorus.bootstrap import build_digest_planner, build_digest_sender
    from chorus.config import DigestPlannerSettings, DigestSenderSettings
    from chorus.domain.digest import DigestBatch, PlanPage

    with count_aws_calls() as planning:  # clients are created inside, so their calls are seen
        planner = build_digest_planner(DigestPlannerSettings.from_env())
        started = planner.start(datetime.now(UTC), "bench")
        pages = 0
        # What the plan queue's event source does: one page message per invocation.
        while plan_messages := env["sqs"].receive_message(QueueUrl=env["plan_queue_url"]).get("Messages", []):
            for message in plan_messages:
                page = PlanPage.model_validate_json(message["Body"])
                planner.plan_page(page, owner=message["MessageId"], now=datetime.now(UTC))
                env["sqs"].delete_message(QueueUrl=env["plan_queue_url"], ReceiptHandle=message["ReceiptHandle"])
                pages += 1
    planning_calls = planning.total()  # taken now: the counter keeps seeing the planner's client
    messages: list[str] = []
    while True:
        batch = env["sqs"].receive_message(QueueUrl=env["queue_url"], MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        messages.extend(message["Body"] for message in batch)
    started_at = time.perf_counter()
    with count_aws_calls() as sending:
        # One sender for all batches, as a warm container would be: its key ring is read once.
        sender = build_digest_sender(DigestSenderSettings.from_env())
        for body in messages:
            sender.send_batch(DigestBatch.model_validate_json(body))
    elapsed = time.perf_counter() - started_at
    recipients = planner.week(datetime.now(UTC), started.week_id).queued
    largest = max((len(body.encode()) for body in messages), default=0)
    print(f"\n## Weekly digest, {employees} employees -> {recipients} recipients, {len(messages)} SQS messages")
    print(f"planner: {pages} roster pages, one invocation each; largest digest message {largest:,} bytes")
    print(f"planner: {planning_calls} calls ({planning_calls / max(recipients, 1):.3f} per recipient)")
    print("(the plan queue's ReceiveMessage/DeleteMessage are Lambda's event source, not counted)")
    print(format_counts(planning.by_operation()))
    print(f"sender: {sending.total()} calls ({sending.total() / max(recipients, 1):.3f} per recipient)")
    print(format_counts(sending.by_operation()))
    per_recipient = (planning_calls + sending.total()) / max(recipients, 1)
    verdict = "PASS" if per_recipient <= 2.1 else "FAIL"
    print(f"calls per recipient, planner + sender: {per_recipient:.3f} (target <= 2.1) {verdict}")
    print(f"(sending took {elapsed:.1f} s on moto; the SQS receive/delete is Lambda's, not the function's)")


def pages(stack: ExitStack) -> None:
    from tests.support.http_events import http_event
    from tests.support.lambda_context import FakeLambdaContext

    import publisher_handler  # type: ignore[import-not-found]
    import web_handler  # type: ignore[import-not-found]
    from chorus.adapters.secrets_keys import parse_key_ring
    from chorus.domain.content import content_id_for
    from chorus.domain.employee import employee_id_for
    from chorus.domain.magic_links import activity_scope, form_subject, sign_form, sign_link

    ring = parse_key_ring(json.dumps({"current": "k1", "k1": "bench-key-" + "x" * 40}))
    now = datetime.now(UTC)
    calls = stack.enter_context(count_aws_calls())
    first = sign_link(ring, employee_id_for("person9@example.com"), activity_scope("c-x"), now + timedelta(days=1))
    web_handler.lambda_handler(http_event("GET", f"/a/{first}", route="/a/{token}", claims=None), FakeLambdaContext())
    print("\n## Employee pages")
    print(f"first request of a container (reads the key ring, then cached 5 min): {calls.total()} calls")
    print(format_counts(calls.by_operation()))
    networks_sets = (["sandbox"], ["sandbox", "linkedin"], ["sandbox", "linkedin", "mastodon"])
    for index, networks in enumerate(networks_sets):
        employee = employee_id_for(f"person{index}@example.com")
        content = content_id_for(f"bench-{index}", "", "")
        token = sign_link(ring, employee, activity_scope(content), now + timedelta(days=1))
        calls.reset()
        response = web_handler.lambda_handler(
            http_event("GET", f"/a/{token}", route="/a/{token}", claims=None), FakeLambdaContext()
        )
        viewing = calls.snapshot()
        assert response["statusCode"] == 200, response
        if index == 0:
            total = sum(viewing.values())
            verdict = "PASS" if total <= 1 else "FAIL"
            print(f"GET /a/{{token}}: {total} calls (target <= 1) {verdict}")
            print(format_counts(viewing))
        fields: dict[str, Any] = {
            "form": sign_form(
                ring, form_subject(employee, activity_scope(content), "approve"), now - timedelta(minutes=1)
            ),
            "action": "approve",
            "content_version": "1",
            "timezone": "Europe/Paris",
            "when": "now",
            "network": networks,
            **{f"text_{network}": "My own words" for network in networks},
        }
        body = urlencode(fields, doseq=True)
        event = http_event(
            "POST",
            f"/a/{token}",
            route="/a/{token}",
            claims=None,
            body=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        calls.reset()
        response = web_handler.lambda_handler(event, FakeLambdaContext())
        approving = calls.snapshot()
        assert response["statusCode"] == 303, response
        total = sum(approving.values())
        per_network = total / len(networks)
        verdict = "PASS" if total <= 2 + len(networks) else "FAIL"
        print(
            f"approve for {len(networks)} network(s): {total} calls, {per_network:.2f} per network "
            f"(target <= 2 + 1 per network) {verdict}"
        )
        print(format_counts(approving))
    employee = employee_id_for("person0@example.com")
    target = {
        "approval": {
            "employee_id": employee,
            "content_id": content_id_for("bench-0", "", ""),
            "network": "sandbox",
            "revision": 1,
        }
    }
    publisher_handler.lambda_handler({"approval": {**target["approval"], "revision": 99}}, FakeLambdaContext())
    calls.reset()
    outcome = publisher_handler.lambda_handler(target, FakeLambdaContext())
    publishing = calls.snapshot()
    assert outcome == {"outcome": "published"}, outcome
    own = sum(publishing.values()) - publishing["dynamodb.PutItem"]  # the sandbox network's own write
    verdict = "PASS" if own <= 4 else "FAIL"
    print(f"publish one post: {own} calls + 1 network call (sandbox feed write) (target <= 4 + network) {verdict}")
    print(format_counts(publishing))


def publish_to_x(stack: ExitStack) -> None:
    """One X post through the real adapter (X answers from a recording), tokens sealed with KMS."""
    import responses
    from pydantic import SecretStr
    from tests.support.lambda_context import FakeLambdaContext

    import publisher_handler
    from chorus.adapters.kms_tokens import TokenVault
    from chorus.domain.connection import Connection, ConnectionStatus, Tokens
    from chorus.domain.content import Network, content_id_for
    from chorus.domain.employee import employee_id_for
    from chorus.store.connections import ConnectionStore

    employee = employee_id_for("person1@example.com")  # approved sandbox and linkedin above; now X
    content = content_id_for("bench-1", "", "")
    ddb = boto3.client("dynamodb", region_name=REGION)
    sealed = TokenVault(boto3.client("kms", region_name=REGION), ENV["TOKEN_KEY_ID"]).seal(
        Tokens(access_token=SecretStr("x-access")).plaintext(), employee, "x"
    )
    ConnectionStore(ddb, TABLE).save(
        Connection(
            employee_id=employee,
            network=Network.X,
            status=ConnectionStatus.CONNECTED,
            member_id="42",
            token_version=1,
            connected_at=datetime.now(UTC),
        ),
        sealed,
    )
    ddb.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": f"EMP#{employee}"},
            "SK": {"S": f"APPROVAL#{content}#x"},
            "entity": {"S": "approval"},
            "approval_id": {"S": "a-bench-x"},
            "employee_id": {"S": employee},
            "content_id": {"S": content},
            "network": {"S": "x"},
            "text": {"S": "My own words"},
            "text_sha256": {"S": "0" * 64},
            "publish_at": {"S": datetime.now(UTC).isoformat()},
            "timezone": {"S": "Europe/Paris"},
            "when": {"S": "now"},
            "status": {"S": "SCHEDULED"},
            "revision": {"N": "1"},
            "attempt": {"N": "0"},
            "schedule_name": {"S": "a-bench-x-r1"},
            "approved_at": {"S": datetime.now(UTC).isoformat()},
        },
    )
    calls = stack.enter_context(count_aws_calls())
    mock = stack.enter_context(responses.RequestsMock(assert_all_requests_are_fired=True))
    mock.add_passthru("http://")
    mock.add(
        responses.POST,
        "https://api.x.com/2/tweets",
        status=201,
        json={"data": {"id": "1460323737035677698", "text": "My own words https://example.com/1"}},
    )
    from chorus import bootstrap

    bootstrap.publish_service.cache_clear()  # clients made inside the counter are counted
    calls.reset()
    outcome = publisher_handler.lambda_handler(
        {"approval": {"employee_id": employee, "content_id": content, "network": "x", "revision": 1}},
        FakeLambdaContext(),
    )
    assert outcome == {"outcome": "published"}, outcome
    total = calls.total()
    print(
        f"publish one X post: {total} AWS calls + 1 network call (target <= 4 + network) "
        f"{'PASS' if total <= 4 else 'FAIL'}"
    )
    print(format_counts(calls.by_operation()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=10_000)
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "testing"
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    with mock_aws(), moto_transactions_without_table_copies():
        env = setup()
        seed(args.employees)
        digest(env, args.employees)
        with ExitStack() as stack:
            pages(stack)
        with ExitStack() as stack:
            publish_to_x(stack)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
