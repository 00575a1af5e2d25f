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
from chorus.config import PublisherSettings, SweeperSettings
from chorus.domain.approval import REAPPROVABLE, ApprovalStatus
from chorus.domain.connection import Connection, ConnectionStatus, Credentials
from chorus.domain.content import Network
from chorus.domain.magic_links import activity_scope, form_subject, sign_form, sign_link
from chorus.domain.networks import profile_of
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed, Quota, QuotaScope
from chorus.edge.schedules import ScheduledPosts
from chorus.services.publish import (
    BACKOFF_BASE,
    MAX_ATTEMPTS,
    MAX_OPERATOR_ATTEMPTS,
    MIN_RETRY_DELAY,
    OPERATOR_ALERT_LOG,
    OPERATOR_GAVE_UP,
    OPERATOR_RETRY_DELAY,
    PUBLISHING_LEASE,
    RESUME_SPREAD,
    Outcome,
    PublishTarget,
)
from chorus.store.alerts import AlertStore
from chorus.store.approvals import ApprovalStore
from chorus.store.connections import ConnectionStore
from chorus.store.quotas import QuotaStore
from tests.conftest import ACCOUNT, ENVIRONMENT, MAGIC_LINK_SECRET, SCHEDULE_GROUP, TABLE
from tests.support.emf import emf_records
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"


class Killed(BaseException):
    """Lambda stopped the invocation (its timeout, a crash): nothing after this point runs."""


# The network got the post, and the invocation was stopped before its answer was recorded.
KILLED_AFTER_POSTING = "killed after posting"


class FakeNetwork:
    """Answers from a script; records every post it accepted (what the world would see). With
    ``idempotent``, a key it has seen is answered with the first post (Mastodon); without, each
    accepted request is a post of its own (X, LinkedIn)."""

    def __init__(
        self, *answers: PublishFailed | str | None, idempotent: bool = True, quotas: tuple[Quota, ...] = ()
    ) -> None:
        self.answers = list(answers)
        self.idempotent = idempotent
        self.quotas = quotas
        self.calls: list[tuple[PostRequest, Credentials | None]] = []
        self.posted: dict[str, str] = {}
        self.posts: list[str] = []
        self._lock = threading.Lock()

    def publish(self, post: PostRequest, credentials: Credentials | None) -> Published:
        with self._lock:
            self.calls.append((post, credentials))
            answer = self.answers.pop(0) if self.answers else None
            if isinstance(answer, PublishFailed):
                raise answer
            if not (self.idempotent and post.idempotency_key in self.posted):
                self.posts.append(post.text)
            self.posted.setdefault(post.idempotency_key, post.text)
            if answer == KILLED_AFTER_POSTING:
                raise Killed
            return Published(
                external_id=f"id-{post.idempotency_key}", url="https://x.com/i/web/status/1", quotas=self.quotas
            )


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


def build(aws, network: FakeNetwork, credentials: FakeCredentials | None = None, *, at: datetime | None = None):
    """The publisher, with the scripted network in place of api.x.com; ``at``: its clock (a
    retry's delivery comes at the time the post was rescheduled to)."""
    publish_service, _ = service(aws, network, credentials or FakeCredentials())
    publish_service._networks = {Network.X: network}
    if at is not None:
        publish_service._now = lambda: at
    return publish_service


def due(aws) -> datetime:
    """When the post is due now (a rescheduled post's new time)."""
    return datetime.fromisoformat(status(aws)["publish_at"]["S"])


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
    build(world, network, at=due(world)).publish(target())
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
    # (retries that waited for the same reset set off spread over a few minutes, not at once)
    assert before + timedelta(seconds=890) <= publish_at <= datetime.now(UTC) + timedelta(seconds=910) + RESUME_SPREAD
    assert item["schedule_name"]["S"] in schedule_names(world)
    # A delivery before that time (SQS delivers at least once) sends nothing
    assert build(world, network).publish(target()) is Outcome.SKIPPED
    # the retry publishes the same text, with the same idempotency key
    assert build(world, network, at=publish_at).publish(target()) is Outcome.PUBLISHED
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
    at = datetime.now(UTC)
    for attempt in range(MAX_ATTEMPTS):
        outcome = build(world, network, at=at).publish(target())
        if attempt < MAX_ATTEMPTS - 1:
            assert outcome is Outcome.RESCHEDULED
            delays.append(due(world) - at)
            at = due(world)
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


def publish_queue_messages(aws, network: str) -> list[dict]:
    """Takes what waits in a network's publish queue (as the publisher's event source would)."""
    url = aws["sqs"].get_queue_url(QueueName=f"chorus-test-publish-{network}")["QueueUrl"]
    messages = aws["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        aws["sqs"].delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def sqs_event(messages: list[dict]) -> dict:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:chorus-test-publish-x",
                "awsRegion": "eu-west-1",
            }
            for message in messages
        ]
    }


def test_sweeper_hands_overdue_posts_to_the_publisher_which_publishes_them_once(world):
    # Given the schedule was lost and the post's time passed
    world["dynamodb"].update_item(
        TableName=TABLE,
        Key={"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#x"}},
        UpdateExpression="SET GSI2SK = :overdue",
        ExpressionAttributeValues={":overdue": {"S": "2000-01-01T00:00:00+00:00#lost"}},
    )
    sweeper = bootstrap.build_sweeper(
        SweeperSettings.from_env(ENVIRONMENT), dynamodb_client=world["dynamodb"], sqs_client=world["sqs"]
    )
    # When the sweeper runs twice before the publisher reads the queue
    first, second = sweeper.sweep(), sweeper.sweep()
    # Then it enqueued the post once (the busy queue may hold it: the second sweep sends nothing)
    assert (first.overdue, second.overdue, second.left, second.busy_networks) == (1, 0, 1, ["x"])
    [message] = publish_queue_messages(world, "x")
    assert json.loads(message["Body"]) == {"approval": target().model_dump(mode="json")}
    # And the publisher, delivered it twice, publishes it once and reports no failure
    network = FakeNetwork()
    handler = ScheduledPosts(build(world, network))
    for _ in range(2):
        assert handler.handle(sqs_event([message]), FakeLambdaContext()) == {"batchItemFailures": []}
    assert list(network.posted.values()) == ["My own words for X"]
    assert sweeper.sweep().overdue == 0


def sweeper_at(aws, at: datetime):
    sweeper = bootstrap.build_sweeper(
        SweeperSettings.from_env(ENVIRONMENT), dynamodb_client=aws["dynamodb"], sqs_client=aws["sqs"]
    )
    sweeper._now = lambda: at
    return sweeper


def killed_mid_publish(aws, network: FakeNetwork) -> datetime:
    """The publisher is stopped after the network got the post, before its answer was recorded;
    returns when."""
    started = datetime.now(UTC)
    with pytest.raises(Killed):
        build(aws, network, at=started).publish(target())
    return started


def test_killed_mid_publish_on_x_is_found_and_the_employee_asked_to_check_never_posted_twice(world):
    # Given the publisher was killed after X got the post (X takes no idempotency key)
    network = FakeNetwork(KILLED_AFTER_POSTING, idempotent=False)
    started = killed_mid_publish(world, network)
    # Then the approval is PUBLISHING under a lease, listed for the sweeper by its end
    item = status(world)
    assert item["status"]["S"] == "PUBLISHING"
    lease_until = datetime.fromisoformat(item["lease_until"]["S"])
    assert started + PUBLISHING_LEASE - timedelta(seconds=1) <= lease_until <= started + PUBLISHING_LEASE
    assert (item["GSI2PK"]["S"], item["GSI2SK"]["S"].partition("#")[0]) == ("PUBLISHING", item["lease_until"]["S"])
    # When the sweeper runs while the lease holds, it leaves the post alone
    assert sweeper_at(world, started + timedelta(minutes=1)).sweep().stalled == 0
    # When it runs once the lease has passed, it hands the post to X's publish queue
    later = lease_until + timedelta(minutes=7)
    assert sweeper_at(world, later).sweep().stalled == 1
    [message] = publish_queue_messages(world, "x")
    # And the publisher, delivered it twice, never sends it again: it asks Ada to check
    handler = ScheduledPosts(build(world, network, at=later))
    for _ in range(2):
        assert handler.handle(sqs_event([message]), FakeLambdaContext()) == {"batchItemFailures": []}
    assert network.posts == ["My own words for X"] and len(network.calls) == 1
    item = status(world)
    assert item["status"]["S"] == "UNCONFIRMED" and "GSI2PK" not in item
    [mail] = mails()
    assert "ada@example.com" in mail and "check whether your X post went out" in mail
    # And nothing is listed any more; Ada may approve it again if it is not on her profile
    assert sweeper_at(world, later + timedelta(days=1)).sweep().stalled == 0
    assert ApprovalStatus.UNCONFIRMED in REAPPROVABLE


def test_killed_mid_publish_on_a_network_with_an_idempotency_key_is_asked_again_with_the_same_key(world):
    # Given the sandbox (it keeps every idempotency key) got Ada's post and the publisher was killed
    approve("sandbox", "My words for the sandbox")
    network = FakeNetwork(KILLED_AFTER_POSTING, idempotent=True)
    sandbox = PublishTarget(
        employee_id=employee_id(ADA), content_id=content_id("lyon"), network=Network.SANDBOX, revision=1
    )
    started = datetime.now(UTC)
    publisher = build(world, network, at=started)
    publisher._networks = {Network.SANDBOX: network}
    with pytest.raises(Killed):
        publisher.publish(sandbox)
    # When the lease has passed and the sweeper hands the post back
    later = started + PUBLISHING_LEASE + timedelta(minutes=5)
    assert sweeper_at(world, later).sweep().stalled == 1
    [message] = publish_queue_messages(world, "shared")
    publisher = build(world, network, at=later)
    publisher._networks = {Network.SANDBOX: network}
    assert ScheduledPosts(publisher).handle(sqs_event([message]), FakeLambdaContext()) == {"batchItemFailures": []}
    # Then the network was asked again with the same key, and it is one post, recorded PUBLISHED
    assert [post.idempotency_key for post, _ in network.calls] == [network.calls[0][0].idempotency_key] * 2
    assert network.posts == ["My words for the sandbox"]
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#sandbox"}}
    item = world["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]
    assert item["status"]["S"] == "PUBLISHED" and "GSI2PK" not in item and item["attempt"]["N"] == "1"


def test_a_stalled_post_past_the_networks_idempotency_window_is_not_sent_again(world):
    """Mastodon keeps a key for an hour: a post stalled longer than that is treated like X's."""
    network = FakeNetwork(KILLED_AFTER_POSTING, idempotent=True)
    started = killed_mid_publish(world, network)
    publisher = build(world, network, at=started + timedelta(hours=2))
    # (the X approval stands in for a Mastodon one: only the network's profile decides)
    publisher._networks = {Network.X: network}
    window = timedelta(hours=1)
    assert profile_of(Network.MASTODON).idempotency_window == window
    approval = ApprovalStore(world["dynamodb"], TABLE).publish_state(employee_id(ADA), content_id("lyon"), Network.X)
    assert approval.approval is not None
    mastodon = approval.approval.model_copy(update={"network": Network.MASTODON})
    assert not publisher._may_ask_again(mastodon, started + window)
    assert publisher._may_ask_again(mastodon, started + timedelta(minutes=30))


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
    assert build(world, network, at=publish_at).publish(target()) is Outcome.PUBLISHED
    assert list(network.posted.values()) == ["My own words for X"]


def test_the_alert_counts_every_refusal_and_admins_can_read_it(world):
    network = FakeNetwork(RETIRED, RETIRED)
    build(world, network).publish(target())
    build(world, network, at=due(world)).publish(target())
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


# ---------------------------------------------------------------- the networks' quotas


def test_an_answer_leaving_little_of_xs_app_allowance_is_recorded(world):
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    network = FakeNetwork(quotas=(Quota(QuotaScope.APP, 41, reset, limit=10000),))
    assert build(world, network).publish(target()) is Outcome.PUBLISHED
    recorded = QuotaStore(world["dynamodb"], TABLE)
    item = world["dynamodb"].get_item(TableName=TABLE, Key={"PK": {"S": "QUOTA#x"}, "SK": {"S": "APP"}})["Item"]
    assert (item["remaining"]["N"], item["resets_at"]["S"]) == ("41", reset.isoformat())
    # An older answer (a higher figure in the same window) arriving late changes nothing
    recorded.record_quota(Network.X, Quota(QuotaScope.APP, 60, reset), datetime.now(UTC))
    item = world["dynamodb"].get_item(TableName=TABLE, Key={"PK": {"S": "QUOTA#x"}, "SK": {"S": "APP"}})["Item"]
    assert item["remaining"]["N"] == "41"


def test_xs_app_allowance_down_to_the_posts_in_flight_holds_the_post_unsent_until_its_reset(world):
    # Given X's last answer left the app as many posts as may be in flight (PUBLISH_CONCURRENCY x=2)
    now = datetime.now(UTC)
    reset = now.replace(microsecond=0) + timedelta(hours=3)
    QuotaStore(world["dynamodb"], TABLE).record_quota(Network.X, Quota(QuotaScope.APP, 2, reset), now)
    network = FakeNetwork()
    # When the post is due
    assert build(world, network, at=now).publish(target()) is Outcome.RESCHEDULED
    # Then nothing was sent, and it waits, still SCHEDULED, for the reset (spread a little after)
    assert network.calls == []
    item = status(world)
    assert item["status"]["S"] == "SCHEDULED" and item["last_failure"]["S"] == "rate_limited"
    assert reset <= due(world) <= reset + RESUME_SPREAD
    assert item["schedule_name"]["S"] in schedule_names(world)
    # And at that time it goes out, once
    assert build(world, network, at=due(world)).publish(target()) is Outcome.PUBLISHED
    assert network.posts == ["My own words for X"]


def test_a_spent_user_allowance_waits_for_its_reset(world):
    now = datetime.now(UTC)
    reset = now.replace(microsecond=0) + timedelta(hours=5)
    spent = PublishFailed(
        FailureKind.RATE_LIMITED, "x: too many", retry_after_seconds=60, quotas=(Quota(QuotaScope.USER, 0, reset),)
    )
    assert build(world, FakeNetwork(spent), at=now).publish(target()) is Outcome.RESCHEDULED
    assert reset <= due(world) <= reset + RESUME_SPREAD


def approve_on_linkedin(aws) -> PublishTarget:
    approve("linkedin", "My words for LinkedIn")
    ConnectionStore(aws["dynamodb"], TABLE).save(
        Connection(
            employee_id=employee_id(ADA),
            network=Network.LINKEDIN,
            status=ConnectionStatus.CONNECTED,
            member_id="m",
            token_version=1,
            connected_at=datetime.now(UTC),
        ),
        b"sealed",
    )
    return PublishTarget(
        employee_id=employee_id(ADA), content_id=content_id("lyon"), network=Network.LINKEDIN, revision=1
    )


def linkedin_publish_at(aws) -> datetime:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#linkedin"}}
    return datetime.fromisoformat(aws["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]["publish_at"]["S"])


def test_linkedins_429_without_retry_after_backs_off_with_jitter_then_waits_for_midnight_utc(world):
    """LinkedIn: "These limits reset at midnight UTC every day", and its 429 carries no
    Retry-After (learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits)."""
    linkedin = approve_on_linkedin(world)
    throttled = PublishFailed(FailureKind.RATE_LIMITED, "linkedin: Too many requests")  # nothing of when
    network = FakeNetwork(throttled, throttled)

    def publisher(at: datetime):
        publish_service = build(world, network, at=at)
        publish_service._networks = {Network.LINKEDIN: network}
        return publish_service

    # When the first 429 comes, the post is retried after the first backoff step, with jitter
    first = datetime.now(UTC)
    assert publisher(first).publish(linkedin) is Outcome.RESCHEDULED
    # (the retry time is kept to the second: a jitter near its minimum lands up to a second early)
    earliest = (first + MIN_RETRY_DELAY).replace(microsecond=0)
    assert earliest <= linkedin_publish_at(world) <= first + BACKOFF_BASE
    # When the retry meets a 429 again, the day's allowance is spent: it waits for midnight UTC
    second = linkedin_publish_at(world)
    assert publisher(second).publish(linkedin) is Outcome.RESCHEDULED
    midnight = (second + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert midnight <= linkedin_publish_at(world) <= midnight + RESUME_SPREAD
    # And after it, the same post goes out once
    assert publisher(linkedin_publish_at(world)).publish(linkedin) is Outcome.PUBLISHED
    assert network.posts == ["My words for LinkedIn"]


def test_backoff_is_exponential_with_jitter(world):
    publisher = build(world, FakeNetwork())
    for attempt in range(4):
        step = BACKOFF_BASE * (1 << attempt)
        waits = [publisher._backoff(attempt) for _ in range(50)]
        # Half the step fixed (waits keep growing), half random (posts refused together spread out)
        assert all(max(MIN_RETRY_DELAY, step / 2) <= wait <= step for wait in waits)
        assert len(set(waits)) > 25
