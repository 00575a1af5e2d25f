"""The digest planner fans out: one roster page per plan-queue message, each page planned once
however often its message is delivered, and a planner failing midway resumes without a gap."""

from __future__ import annotations

import email
import email.policy
import json
from typing import Any

import pytest
from moto.ses.models import ses_backends

import digest_planner_handler
import digest_sender_handler
from chorus.domain.digest import PlanPage
from tests.conftest import ACCOUNT, DIGEST_PLAN_QUEUE_URL, DIGEST_QUEUE_URL
from tests.support.digest import plan_pages, sqs_record, start_run
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import seed

CONTENT = [{"id": "all", "title": "For everyone", "url": "https://example.com/all", "text": "Share"}]
EMPLOYEES = [{"email": f"p{n}@example.com", "name": f"P{n}"} for n in range(7)]


@pytest.fixture
def pages_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chorus.services.digest.ROSTER_PAGE_SIZE", 2)


def week_run() -> dict[str, Any]:
    import admin_api_handler

    response = admin_api_handler.lambda_handler(http_event("GET", "/admin/digests"), FakeLambdaContext())
    return dict(json.loads(response["body"]))


def receive_plan_message(aws) -> dict[str, Any]:
    [message] = aws["sqs"].receive_message(QueueUrl=DIGEST_PLAN_QUEUE_URL, MaxNumberOfMessages=1)["Messages"]
    return dict(message)


def plan(message: dict[str, Any]) -> dict[str, Any]:
    event = {"Records": [sqs_record(message, "chorus-test-digest-pages")]}
    return dict(digest_planner_handler.lambda_handler(event, FakeLambdaContext()))


def send_everything(aws) -> None:
    while messages := aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages"):
        digest_sender_handler.lambda_handler({"Records": [sqs_record(m) for m in messages]}, FakeLambdaContext())
        for message in messages:
            aws["sqs"].delete_message(QueueUrl=DIGEST_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])


def sent_to() -> list[str]:
    backend = ses_backends[ACCOUNT]["eu-west-1"]
    return sorted(
        email.message_from_string(message.raw_data, policy=email.policy.default)["To"].addresses[0].addr_spec
        for message in backend.sent_messages
    )


def test_each_invocation_plans_one_roster_page_and_queues_the_next(aws, pages_of_two):
    seed(aws, CONTENT, EMPLOYEES)
    # When a run starts
    started = start_run()
    assert started["status"] == "planning"
    # Then only the first page's message is queued; each page, planned, queues the next one
    first = receive_plan_message(aws)
    assert PlanPage.model_validate_json(first["Body"]).page == 0
    assert plan(first) == {"batchItemFailures": []}
    aws["sqs"].delete_message(QueueUrl=DIGEST_PLAN_QUEUE_URL, ReceiptHandle=first["ReceiptHandle"])
    second = receive_plan_message(aws)
    page = PlanPage.model_validate_json(second["Body"])
    assert (page.page, page.start is not None) == (1, True)
    plan(second)
    aws["sqs"].delete_message(QueueUrl=DIGEST_PLAN_QUEUE_URL, ReceiptHandle=second["ReceiptHandle"])
    # And the whole roster is planned in four invocations of at most two employees each
    assert plan_pages(aws["sqs"]) == 2
    week = week_run()
    assert week["planning"]["pages"] == 4 and week["planning"]["employees"] == 7
    assert week["planning"]["runs_planned"] == 1 and week["queued"] == 7
    send_everything(aws)
    assert sent_to() == sorted(employee["email"] for employee in EMPLOYEES)


def test_a_redelivered_or_duplicated_page_message_plans_nothing_twice(aws, pages_of_two):
    seed(aws, CONTENT, EMPLOYEES)
    start_run()
    message = receive_plan_message(aws)
    plan(message)
    # When SQS delivers the same message again (same message id), and a copy arrives as a new
    # message (a retried start, or a page whose next-page send was retried)
    plan(message)
    aws["sqs"].send_message(QueueUrl=DIGEST_PLAN_QUEUE_URL, MessageBody=message["Body"])
    aws["sqs"].delete_message(QueueUrl=DIGEST_PLAN_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
    plan_pages(aws["sqs"])
    # Then every page was counted once and the chain did not fork
    week = week_run()
    assert week["planning"]["pages"] == 4 and week["planning"]["employees"] == 7 and week["queued"] == 7
    send_everything(aws)
    assert sent_to() == sorted(employee["email"] for employee in EMPLOYEES)
    assert week_run()["skipped"]["already_sent"] == 0


def test_a_planner_failing_midway_resumes_the_page_without_a_gap_or_a_second_email(aws, pages_of_two, monkeypatch):
    from chorus.adapters.sqs_queue import MessageQueue, QueueError

    seed(aws, CONTENT, EMPLOYEES)
    start_run()
    original = MessageQueue.send_all
    failures = {"left": 1}

    def next_page_send_fails_once(self: MessageQueue, bodies: list[str]) -> int:
        if "run_id" in bodies[0] and failures["left"]:
            failures["left"] -= 1
            raise QueueError("throttled")
        return original(self, bodies)

    monkeypatch.setattr(MessageQueue, "send_all", next_page_send_fails_once)
    # When the first page's batches are queued but queueing the next page fails
    message = receive_plan_message(aws)
    with pytest.raises(Exception, match="All records failed"):
        plan(message)
    assert week_run()["planning"]["pages"] == 0
    # Then SQS delivers the page again, it is planned again (its batches queued again), and the
    # run goes on to the last page
    plan(message)
    aws["sqs"].delete_message(QueueUrl=DIGEST_PLAN_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
    plan_pages(aws["sqs"])
    week = week_run()
    assert week["planning"]["pages"] == 4 and week["planning"]["employees"] == 7
    # And everyone gets exactly one email: the first page's batch, queued twice, is skipped once
    send_everything(aws)
    assert sent_to() == sorted(employee["email"] for employee in EMPLOYEES)
    assert week_run()["skipped"]["already_sent"] == 2
