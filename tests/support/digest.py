"""Drive the digest planner as its triggers do: a start (the schedule's event), then each plan-queue
message (one roster page) until the queue is empty."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import ACCOUNT, DIGEST_PLAN_QUEUE_URL, DIGEST_QUEUE_URL
from tests.support.lambda_context import FakeLambdaContext


def sqs_record(message: dict[str, Any], queue: str = "chorus-test-digests") -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{queue}",
        "awsRegion": "eu-west-1",
    }


def plan_pages(sqs: Any) -> int:
    """What the plan queue's event source mapping does: one message per invocation. Returns the
    number of pages handled."""
    import digest_planner_handler

    handled = 0
    while messages := sqs.receive_message(QueueUrl=DIGEST_PLAN_QUEUE_URL, MaxNumberOfMessages=1).get("Messages"):
        event = {"Records": [sqs_record(message, "chorus-test-digest-pages") for message in messages]}
        result = digest_planner_handler.lambda_handler(event, FakeLambdaContext())
        assert result == {"batchItemFailures": []}
        for message in messages:
            sqs.delete_message(QueueUrl=DIGEST_PLAN_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
        handled += len(messages)
    return handled


def start_run() -> dict[str, Any]:
    """What POST /admin/digests does: a run over the whole roster, with an id of its own."""
    from chorus import clock
    from chorus.bootstrap import build_digest_planner
    from chorus.config import DigestPlannerSettings

    planner = build_digest_planner(DigestPlannerSettings.from_env())
    return planner.start(clock.now(), uuid.uuid4().hex).as_json()


def plan_digest(sqs: Any) -> dict[str, Any]:
    """A run over the whole roster is started and every roster page planned; returns the start's
    answer."""
    started = start_run()
    plan_pages(sqs)
    return started


def send_queued(sqs: Any) -> int:
    """What the digest queue's event source mapping does with the queued batches; returns how many
    batches were handled."""
    import digest_sender_handler

    handled = 0
    while messages := sqs.receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages"):
        digest_sender_handler.lambda_handler({"Records": [sqs_record(m) for m in messages]}, FakeLambdaContext())
        for message in messages:
            sqs.delete_message(QueueUrl=DIGEST_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
        handled += len(messages)
    return handled


def tick(sqs: Any, scheduled: str) -> dict[str, Any]:
    """What the quarter-hour schedule does at ``scheduled`` (its <aws.scheduler.scheduled-time>),
    then the plan queue and the digest queue drained; returns the tick's answer."""
    import digest_planner_handler

    started = digest_planner_handler.lambda_handler({"scheduled_time": scheduled}, FakeLambdaContext())
    plan_pages(sqs)
    send_queued(sqs)
    return dict(started)
