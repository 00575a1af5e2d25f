"""SES bounce and complaint events suppress the employee (on moto), and what Chorus sends carries
the configuration set whose events those are."""

from __future__ import annotations

import copy
import json
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.ses.models import ses_backends

import email_feedback_handler
from chorus.bootstrap import build_digest_sender, build_notifier
from chorus.config import DigestSenderSettings, PublisherSettings
from chorus.domain.content import Network
from chorus.domain.digest import DigestBatch
from chorus.messages.channel import Notice, NoticeKind
from chorus.store.codec import from_dynamo
from tests.conftest import ACCOUNT, DIGEST_QUEUE_URL, ENVIRONMENT, TABLE
from tests.support.digest import plan_digest
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import employee_id, seed

EVENTS = Path(__file__).resolve().parents[3] / "events" / "email_feedback"
CONTENT = [{"id": "launch", "title": "Launch", "url": "https://example.com/launch", "text": "We launched"}]
EMPLOYEES = [
    {"email": "ada@example.com", "name": "Ada", "groups": ["engineering"]},
    {"email": "camille@example.com", "name": "Camille", "groups": ["sales"], "locale": "fr"},
]


def ses_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def deliver(event: dict[str, Any]) -> dict[str, int]:
    return email_feedback_handler.lambda_handler(event, FakeLambdaContext())


def profile(aws, email: str) -> dict[str, Any]:
    key = {"PK": {"S": f"EMP#{employee_id(email)}"}, "SK": {"S": "PROFILE"}}
    return from_dynamo(aws["dynamodb"].get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"])


def planned_recipients(aws) -> set[str]:
    plan_digest(aws["sqs"])
    messages = aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages", [])
    return {
        recipient.email
        for message in messages
        for recipient in DigestBatch.model_validate_json(message["Body"]).recipients
    }


def sent_to() -> list[set[str]]:
    """The recipients of each message SES (moto) accepted, in order."""
    messages = ses_backends[ACCOUNT]["eu-west-1"].sent_messages
    return [{parseaddr(address)[1] for address in message.destinations} for message in messages]


def notify_failed_post(aws, email: str, sesv2: Any = None) -> None:
    notifier = build_notifier(
        PublisherSettings.from_env(ENVIRONMENT), dynamodb_client=aws["dynamodb"], sesv2_client=sesv2
    )
    notice = Notice(kind=NoticeKind.FAILED, network=Network.X, content_id="launch", text="We launched", reason="x")
    notifier.notify(employee_id(email), notice)


def test_a_hard_bounce_stops_every_email_to_the_address(aws):
    # Given two employees on the roster
    seed(aws, CONTENT, EMPLOYEES)
    # When SES reports that Ada's address bounced for good
    outcome = deliver(ses_event("bounce_permanent"))
    # Then her profile records why, when, and which feedback said so
    assert outcome == {"now": 1}
    ada = profile(aws, "ada@example.com")
    assert ada["undeliverable_at"] == "2026-11-30T08:02:10.512000+00:00"
    assert ada["undeliverable_reason"] == "hard_bounce: Permanent/General"
    assert ada["undeliverable_feedback_id"].startswith("0102019ad1e0c5a1")
    # And neither the digest nor a notice about her posts is sent to it again; Camille's still is
    assert planned_recipients(aws) == {"camille@example.com"}
    notify_failed_post(aws, "ada@example.com")
    notify_failed_post(aws, "camille@example.com")
    assert sent_to() == [{"camille@example.com"}]


def test_a_complaint_unsubscribes_from_the_digest_and_an_upload_does_not_undo_it(aws):
    seed(aws, CONTENT, EMPLOYEES)
    # When Camille marks the digest as spam
    assert deliver(ses_event("complaint")) == {"now": 1}
    # Then she is unsubscribed, with the reason recorded
    camille = profile(aws, "camille@example.com")
    assert camille["digest_opt_in"] is False
    assert camille["complaint_reason"] == "complaint: abuse"
    assert camille["unsubscribed_at"] == camille["complaint_at"] == "2026-11-30T09:41:26+00:00"
    # And the next roster upload, which lists her again, does not resubscribe her
    seed(aws, [], EMPLOYEES)
    assert planned_recipients(aws) == {"ada@example.com"}


@pytest.mark.parametrize("name", ["bounce_permanent", "complaint"])
def test_the_same_event_delivered_twice_changes_nothing_the_second_time(aws, name):
    seed(aws, CONTENT, EMPLOYEES)
    address = "ada@example.com" if name == "bounce_permanent" else "camille@example.com"
    deliver(ses_event(name))
    before = profile(aws, address)
    # When EventBridge (or Lambda's retry) delivers it again
    assert deliver(ses_event(name)) == {"already": 1}
    # Then the record is untouched (not even its version)
    assert profile(aws, address) == before


def test_a_later_feedback_keeps_the_first_reason(aws):
    seed(aws, CONTENT, EMPLOYEES)
    deliver(ses_event("bounce_permanent"))
    later = ses_event("bounce_permanent")
    later["detail"]["bounce"].update(feedbackId="another", bounceSubType="NoEmail", timestamp="2026-12-07T08:00:00Z")
    assert deliver(later) == {"already": 1}
    assert profile(aws, "ada@example.com")["undeliverable_reason"] == "hard_bounce: Permanent/General"


def test_a_soft_bounce_suppresses_nothing(aws):
    seed(aws, CONTENT, EMPLOYEES)
    assert deliver(ses_event("bounce_transient")) == {"ignored": 1}
    camille = profile(aws, "camille@example.com")
    assert camille["digest_opt_in"] is True and "undeliverable_at" not in camille
    assert planned_recipients(aws) == {"ada@example.com", "camille@example.com"}


def test_feedback_about_an_address_not_on_the_roster_changes_nothing(aws):
    seed(aws, CONTENT, EMPLOYEES)
    stranger = copy.deepcopy(ses_event("bounce_permanent"))
    stranger["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = "Someone Else <nobody@example.org>"
    assert deliver(stranger) == {"no_employee": 1}
    assert planned_recipients(aws) == {"ada@example.com", "camille@example.com"}


def test_other_ses_events_are_ignored(aws):
    delivered = ses_event("bounce_permanent")
    delivered["detail-type"] = "Email Delivered"
    delivered["detail"] = {"eventType": "Delivery", "mail": delivered["detail"]["mail"], "delivery": {}}
    assert deliver(delivered) == {}


# ---------------------------------------------------------------- the configuration set on the wire


@pytest.fixture
def recorded_sesv2(aws):
    """An SES v2 client that keeps the body of every SendEmail request it sends (to moto)."""
    bodies: list[dict[str, Any]] = []
    client = boto3.client("sesv2", region_name="eu-west-1")

    def keep(request, **_):
        bodies.append(json.loads(request.body))

    client.meta.events.register("before-send.sesv2.SendEmail", keep)
    return client, bodies


def test_the_digest_and_the_notices_are_sent_with_the_configuration_set(aws, recorded_sesv2):
    client, bodies = recorded_sesv2
    seed(aws, CONTENT, EMPLOYEES)
    assert ENVIRONMENT["SES_CONFIGURATION_SET"]
    # When a digest batch and a notice go out, wired from the functions' own settings
    plan_digest(aws["sqs"])
    (message,) = aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10)["Messages"]
    sender = build_digest_sender(
        DigestSenderSettings.from_env(ENVIRONMENT), dynamodb_client=aws["dynamodb"], sesv2_client=client
    )
    sender.send_batch(DigestBatch.model_validate_json(message["Body"]))
    notify_failed_post(aws, "ada@example.com", client)
    # Then every request names the configuration set whose events suppress bounces and complaints
    assert len(bodies) == 3
    assert {body["ConfigurationSetName"] for body in bodies} == {ENVIRONMENT["SES_CONFIGURATION_SET"]}
    recipients = sorted(body["Destination"]["ToAddresses"][0] for body in bodies)
    assert recipients == ["ada@example.com", "ada@example.com", "camille@example.com"]
