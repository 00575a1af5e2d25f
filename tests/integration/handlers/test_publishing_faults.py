"""Fault tests of the publisher: each ends in the right state with one post at most.

Real store, scheduler and mail on moto; the network and the employee's credentials are fakes
that answer what a real network would (confirmation, 429, 401, 5xx, duplicate).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from moto.ses.models import ses_backends

import admin_api_handler
import web_handler
from chorus import bootstrap
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.config import PublisherSettings
from chorus.domain.connection import Connection, ConnectionStatus, Credentials
from chorus.domain.content import Network
from chorus.domain.magic_links import activity_scope, form_subject, sign_form, sign_link
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed
from chorus.services.publish import (
    MAX_ATTEMPTS,
    MAX_OPERATOR_ATTEMPTS,
    OPERATOR_ALERT_LOG,
    OPERATOR_GAVE_UP,
    OPERATOR_RETRY_DELAY,
    Outcome,
    PublishTarget,
)
from chorus.services.sweeper import Sweeper
from chorus.store.alerts import AlertStore
from chorus.store.approvals import ApprovalStore
from chorus.store.connections import ConnectionStore
from tests.conftest import ACCOUNT, ENVIRONMENT, MAGIC_LINK_SECRET, SCHEDULE_GROUP, TABLE
from tests.support.emf import emf_records
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"


class FakeNetwork:
    """Answers from a script; records every post it accepted (what the world would see)."""

    def __init__(self, *answers: PublishFailed | None) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[PostRequest, Credentials | None]] = []
        self.posted: dict[str, str] = {}
        self._lock = threading.Lock()

    def publish(self, post: PostRequest, credentials: Credentials | None) -> Published:
        with self._lock:
            self.calls.append((post, credentials))
            answer = self.answers.pop(0) if self.answers else None
            if answer is not None:
                raise answer
            self.posted.setdefault(post.idempotency_key, post.text)  # idempotency key: one post
            return Published(external_id=f"id-{post.idempotency_key}", url="https://x.com/i/web/status/1")


class FakeCredentials:
    def __init__(self, *, connected: bool = True, refresh_works: bool = True) -> None:
        self.connected = connected
        self.refresh_works = refresh_works
        self.refreshes = 0

    def credentials(
        self, employee_id: str, network: Network, *, force_refresh: bool = False, stored: object = None
    ) -> Credentials | None:
        if not self.connected:
            return None
        if force_refresh:
            self.refreshes += 1
            if not self.refresh_works:
                return None
            return Credentials(access_token="refreshed", member_id="m", instance_url=None)
        return Credentials(access_token="token", member_id="m", instance_url=None)


@pytest.fixture
def world(aws):
    seed(
        aws,
        [
            {
                "id": "lyon",
                "title": "Lyon",
                "url": "https://example.com/lyon",
                "text": "Open",
                "ends_at": str((datetime.now(UTC) + timedelta(days=10)).date()),
            }
        ],
        [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris"}],
    )
    approve("x", "My own words for X")
    # Ada connected X (the fake credentials stand for the sealed tokens)
    ConnectionStore(aws["dynamodb"], TABLE).save(
        Connection(
            employee_id=employee_id(ADA),
            network=Network.X,
            status=ConnectionStatus.CONNECTED,
            member_id="m",
            token_version=1,
            connected_at=datetime.now(UTC),
        ),
        b"sealed",
    )
    return aws


def approve(network: str, text: str) -> None:
    now = datetime.now(UTC)
    token = sign_link(RING, employee_id(ADA), activity_scope(content_id("lyon")), now + timedelta(days=2))
    subject = form_subject(employee_id(ADA), activity_scope(content_id("lyon")), "approve")
    form = sign_form(RING, subject, now - timedelta(minutes=1))
    body = urlencode(
        {
            "form": form,
            "action": "approve",
            "content_version": "1",
            "network": network,
            f"text_{network}": text,
            "when": "now",
            "timezone": "Europe/Paris",
        }
    )
    event = http_event(
        "POST",
        f"/a/{token}",
        route="/a/{token}",
        claims=None,
        body=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert web_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 303


def service(aws, network: FakeNetwork, credentials: FakeCredentials):
    settings = PublisherSettings.from_env(ENVIRONMENT)
    return bootstrap.build_publish_service(settings, dynamodb_client=aws["dynamodb"], connections=credentials), network


def build(aws, network: FakeNetwork, credentials: FakeCredentials | None = None):
    publish_service, _ = service(aws, network, credentials or FakeCredentials())
    publish_service._networks = {Network.X: network}  # the scripted network in place of api.x.com
    return publish_service


def target(revision: int = 1) -> PublishTarget:
    return PublishTarget(
        employee_id=employee_id(ADA), content_id=content_id("lyon"), network=Network.X, revision=revision
    )


def status(aws) -> dict:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#x"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]


def mails() -> list[str]:
    return [message.raw_data for message in ses_backends[ACCOUNT]["eu-west-1"].sent_messages]


def schedule_names(aws) -> list[str]:
    return [s["Name"] for s in aws["scheduler"].list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]]


def test_published_once_even_when_delivered_twice(world):
    network = FakeNetwork()
    publisher = build(world, network)
    assert publisher.publish(target()) is Outcome.PUBLISHED
    assert publisher.publish(target()) is Outcome.SKIPPED
    assert list(network.posted.values()) == ["My own words for X"]
    item = status(world)
    assert item["status"]["S"] == "PUBLISHED" and item["external_post_id"]["S"].startswith("id-")


class AtomicRequests:
    """DynamoDB applies each request atomically; moto's in-process backend does not under threads.
    Serialising single requests (not sequences of them) restores exactly that guarantee."""

    def __init__(self, client, lock: threading.Lock) -> None:
        self._client = client
        self._lock = lock

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            with self._lock:
                return method(*args, **kwargs)

        return call


def test_concurrent_invocations_publish_once(world):
    network = FakeNetwork()
    lock = threading.Lock()
    publishers = []
    for _ in range(4):
        publisher = build(world, network)
        publisher._records = ApprovalStore(AtomicRequests(world["dynamodb"], lock), TABLE)
        publishers.append(publisher)
    outcomes: list[Outcome] = []
    threads = [threading.Thread(target=lambda p=p: outcomes.append(p.publish(target()))) for p in publishers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted([Outcome.PUBLISHED] + [Outcome.SKIPPED] * 3)
    assert len(network.calls) == 1


def test_each_attempt_counts_by_network_and_outcome_and_each_failure_by_kind(world, capsys):
    # Given a network that asks to wait once, and an approval on the sandbox too
    network = FakeNetwork(PublishFailed(FailureKind.RATE_LIMITED, "x: too many requests", retry_after_seconds=900))
    capsys.readouterr()
    approve("sandbox", "My words for the sandbox")
    # When the post is attempted twice
    build(world, network).publish(target())
    build(world, network).publish(target())
    # Then the metrics written (EMF, as CloudWatch reads them) say so
    records = emf_records(capsys.readouterr().out)
    assert {record["_namespace"] for record in records} == {"Chorus/test"}
    assert [(r["network"], r["Approvals"]) for r in records if "Approvals" in r] == [("sandbox", [1.0])]
    assert [(r["network"], r["outcome"]) for r in records if "Publications" in r] == [
        ("x", "rescheduled"),
        ("x", "published"),
    ]
    assert [(r["network"], r["kind"]) for r in records if "PublishFailures" in r] == [("x", "rate_limited")]
    assert all(record["service"] == "chorus" for record in records)


def test_rate_limited_is_rescheduled_after_the_reset(world):
    network = FakeNetwork(PublishFailed(FailureKind.RATE_LIMITED, "x: too many requests", retry_after_seconds=900))
    before = datetime.now(UTC)
    assert build(world, network).publish(target()) is Outcome.RESCHEDULED
    item = status(world)
    assert item["status"]["S"] == "SCHEDULED" and item["attempt"]["N"] == "1"
    publish_at = datetime.fromisoformat(item["publish_at"]["S"])
    assert before + timedelta(seconds=890) <= publish_at <= datetime.now(UTC) + timedelta(seconds=910)
    assert item["schedule_name"]["S"] in schedule_names(world)
    # the retry publishes the same text, with the same idempotency key
    assert build(world, network).publish(target()) is Outcome.PUBLISHED
    assert list(network.posted.values()) == ["My own words for X"]


def test_unauthorized_refreshes_once_then_succeeds(world):
    network = FakeNetwork(PublishFailed(FailureKind.UNAUTHORIZED, "x: unauthorized"))
    credentials = FakeCredentials()
    assert build(world, network, credentials).publish(target()) is Outcome.PUBLISHED
    assert credentials.refreshes == 1
    assert [creds.access_token for _, creds in network.calls] == ["token", "refreshed"]


def test_unauthorized_after_refresh_needs_reconnect_and_tells_the_employee(world):
    network = FakeNetwork(
        PublishFailed(FailureKind.UNAUTHORIZED, "x: unauthorized"), PublishFailed(FailureKind.UNAUTHORIZED, "again")
    )
    credentials = FakeCredentials()
    assert build(world, network, credentials).publish(target()) is Outcome.NEEDS_RECONNECT
    assert credentials.refreshes == 1 and network.posted == {}
    assert status(world)["status"]["S"] == "NEEDS_RECONNECT"
    [mail] = mails()
    assert "Reconnect X" in mail and "ada@example.com" in mail


def test_expired_connection_needs_reconnect_without_calling_the_network(world):
    network = FakeNetwork()
    assert build(world, network, FakeCredentials(connected=False)).publish(target()) is Outcome.NEEDS_RECONNECT
    assert network.calls == []


def test_no_connection_needs_reconnect_without_calling_the_network(world):
    ConnectionStore(world["dynamodb"], TABLE).delete(employee_id(ADA), Network.X)
    network = FakeNetwork()
    assert build(world, network).publish(target()) is Outcome.NEEDS_RECONNECT
    assert network.calls == [] and status(world)["status"]["S"] == "NEEDS_RECONNECT"


def test_outages_are_retried_with_backoff_then_fail_and_tell_the_employee(world):
    outage = PublishFailed(FailureKind.TRANSIENT, "x: 503 service unavailable")
    network = FakeNetwork(*([outage] * MAX_ATTEMPTS))
    delays = []
    for attempt in range(MAX_ATTEMPTS):
        before = datetime.now(UTC)
        outcome = build(world, network).publish(target())
        if attempt < MAX_ATTEMPTS - 1:
            assert outcome is Outcome.RESCHEDULED
            delays.append(datetime.fromisoformat(status(world)["publish_at"]["S"]) - before)
    assert outcome is Outcome.FAILED
    assert delays == sorted(delays) and delays[0] >= timedelta(minutes=1)
    assert status(world)["status"]["S"] == "FAILED" and network.posted == {}
    [mail] = mails()
    assert "did not go out" in mail


def test_duplicate_is_failed_at_once_never_retried(world):
    network = FakeNetwork(PublishFailed(FailureKind.DUPLICATE, "x: duplicate content"))
    assert build(world, network).publish(target()) is Outcome.FAILED
    assert len(network.calls) == 1
    assert status(world)["failure_reason"]["S"] == "x: duplicate content"


def test_a_failed_post_can_be_approved_again_explicitly(world):
    build(world, FakeNetwork(PublishFailed(FailureKind.REJECTED, "x: refused"))).publish(target())
    now = datetime.now(UTC)
    token = sign_link(RING, employee_id(ADA), activity_scope(content_id("lyon")), now + timedelta(days=2))
    subject = form_subject(employee_id(ADA), activity_scope(content_id("lyon")), "approve")
    form = sign_form(RING, subject, now - timedelta(minutes=1))
    body = urlencode(
        {
            "form": form,
            "action": "approve",
            "content_version": "1",
            "network": "x",
            "text_x": "Second try",
            "when": "now",
            "timezone": "Europe/Paris",
            "revision_x": "1",
        }
    )
    event = http_event(
        "POST",
        f"/a/{token}",
        route="/a/{token}",
        claims=None,
        body=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert web_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 303
    item = status(world)
    assert (item["status"]["S"], item["revision"]["N"], item["text"]["S"]) == ("SCHEDULED", "2", "Second try")


def test_retracted_content_publishes_nothing(world):
    from chorus.store.catalog import CatalogStore

    CatalogStore(world["dynamodb"], TABLE).retract_content(content_id("lyon"))
    network = FakeNetwork()
    assert build(world, network).publish(target()) is Outcome.RETRACTED
    assert network.calls == [] and status(world)["status"]["S"] == "RETRACTED"


def test_sweeper_publishes_overdue_posts_once(world):
    # Given the schedule was lost and the post's time passed
    world["dynamodb"].update_item(
        TableName=TABLE,
        Key={"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#x"}},
        UpdateExpression="SET GSI2SK = :overdue",
        ExpressionAttributeValues={":overdue": {"S": "2000-01-01T00:00:00+00:00#lost"}},
    )
    network = FakeNetwork()
    publisher = build(world, network)
    sweeper = Sweeper(
        ApprovalStore(world["dynamodb"], TABLE),
        publisher,
        ConnectionStore(world["dynamodb"], TABLE),
        bootstrap.build_notifier(PublisherSettings.from_env(ENVIRONMENT), dynamodb_client=world["dynamodb"]),
    )
    first, second = sweeper.sweep(), sweeper.sweep()
    assert (first.published, second.overdue) == (1, 0)
    assert list(network.posted.values()) == ["My own words for X"]


RETIRED = PublishFailed(
    FailureKind.OPERATOR,
    "linkedin: LinkedIn-Version 202510 is not served any more (Requested version 20251001 is not active)",
)


def operator_alerts(aws) -> list:
    return AlertStore(aws["dynamodb"], TABLE).active_alerts(datetime.now(UTC))


def test_a_retired_api_version_keeps_the_post_waiting_and_alerts_the_operator(world, caplog):
    # Given the network refuses the deployment itself (LinkedIn's 426 for a retired version)
    network = FakeNetwork(RETIRED)
    before = datetime.now(UTC)
    # When the post's time comes
    outcome = build(world, network).publish(target())
    # Then the post waits, still SCHEDULED, for a retry an hour later: nothing is FAILED
    assert outcome is Outcome.RESCHEDULED
    item = status(world)
    assert item["status"]["S"] == "SCHEDULED" and "failure_reason" not in item
    publish_at = datetime.fromisoformat(item["publish_at"]["S"])
    assert (
        before + OPERATOR_RETRY_DELAY - timedelta(seconds=5) <= publish_at <= datetime.now(UTC) + OPERATOR_RETRY_DELAY
    )
    assert item["schedule_name"]["S"] in schedule_names(world)
    # And the employee is not told anything (it is not theirs to fix)
    assert mails() == []
    # And the metric filter's log line is emitted, and admins see the alert
    assert any(
        record.getMessage() == OPERATOR_ALERT_LOG and "202510" in getattr(record, "reason", "")
        for record in caplog.records
    )
    [alert] = operator_alerts(world)
    assert (alert.network, alert.kind, alert.occurrences) == (Network.X, "operator", 1)
    assert "LinkedIn-Version 202510" in alert.message
    # When the operator deploys a supported version, the retry publishes the approved text once
    assert build(world, network).publish(target()) is Outcome.PUBLISHED
    assert list(network.posted.values()) == ["My own words for X"]


def test_the_alert_counts_every_refusal_and_admins_can_read_it(world):
    network = FakeNetwork(RETIRED, RETIRED)
    build(world, network).publish(target())
    build(world, network).publish(target())
    response = admin_api_handler.lambda_handler(http_event("GET", "/admin/alerts"), FakeLambdaContext())
    assert response["statusCode"] == 200
    [alert] = json.loads(response["body"])["alerts"]
    assert alert["occurrences"] == 2 and alert["network"] == "x" and "not served any more" in alert["message"]


def test_after_a_week_of_refusals_the_post_fails_without_blaming_the_employee(world):
    world["dynamodb"].update_item(
        TableName=TABLE,
        Key={"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#x"}},
        UpdateExpression="SET attempt = :attempt",
        ExpressionAttributeValues={":attempt": {"N": str(MAX_OPERATOR_ATTEMPTS - 1)}},
    )
    assert build(world, FakeNetwork(RETIRED)).publish(target()) is Outcome.FAILED
    assert status(world)["failure_reason"]["S"] == OPERATOR_GAVE_UP
    [mail] = mails()
    assert "not something you did" in mail
