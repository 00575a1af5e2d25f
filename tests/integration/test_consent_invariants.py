"""The consent invariant, under random sequences of everything that can happen (hypothesis
stateful testing on moto in-process, with the real services and a recording network).

Steps: approve (from a page that may have gone stale), re-upload the content (url, title, text
changed), retract, deactivate (roster upload, with or without the lifecycle function running,
or the admin action), reactivate, unsubscribe, cancel, reconnect, schedules firing (late, twice,
or for an old revision), the sweeper handing overdue and stalled posts to the publish queues and
the queues delivering them (once or twice), time passing, networks answering 429, 5xx or 401
(refresh working or not), and the publisher killed mid-publish, before or after the network got
the post (its answer lost): the lease runs out and the sweeper finds the post. With
ReviewEditedPosts on: an edited approval waits for review, and a reviewer approves or rejects it
(sometimes twice, a double click) while any of the above happens.

Invariant, checked by the network the moment a post reaches it and after every step: every post
that reached a network equals a snapshot (text, link target, title) that an active employee
approved for that network, at most once per approval revision (a network that takes an
idempotency key answers a repeated key with the first post, as Mastodon does; one that takes none
posts it again, and the machine fails); the tracked link leads to the approved url. And nothing
waits unseen: every approval left PUBLISHING is listed by its lease for the sweeper. A rejected
approval never reaches a network, a review decision acts once, and an approval waiting for review
has no schedule and is not on the sweeper's listing.

``CHORUS_INVARIANT_EXAMPLES`` (default 25) and ``CHORUS_INVARIANT_STEPS`` (default 30) set the
depth; e.g. ``CHORUS_INVARIANT_EXAMPLES=500 make pytest PYTEST_ARGS=tests/integration/test_consent_invariants.py``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from moto import mock_aws

from chorus import clock
from chorus.adapters.publish_queues import SqsPublishQueues
from chorus.adapters.scheduler import PostScheduler
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.approval import REAPPROVABLE, ApprovalStatus, When
from chorus.domain.connection import Connection, ConnectionStatus, Credentials, NotOnRoster
from chorus.domain.content import Content, ContentRow, Network, content_id_for
from chorus.domain.digest import run_week
from chorus.domain.employee import Employee, EmployeeRow
from chorus.domain.magic_links import LinkRejected, activity_scope, sign_link
from chorus.domain.networks import profile_of
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed
from chorus.domain.review import ReviewDecision, Reviewer
from chorus.domain.tracking import link_code
from chorus.edge.schedules import ScheduledPosts
from chorus.errors import ChorusError
from chorus.services.consent import ApprovalRequest, ConsentService, normalise_text
from chorus.services.lifecycle import LifecycleService
from chorus.services.publish import PUBLISHING_LEASE, PublishService, PublishTarget
from chorus.services.retraction import RetractionService
from chorus.services.review import ReviewRequest, ReviewResult, ReviewService
from chorus.services.sweeper import Sweeper
from chorus.store.alerts import AlertStore
from chorus.store.approvals import ApprovalStore
from chorus.store.catalog import CatalogStore
from chorus.store.codec import from_dynamo
from chorus.store.connections import ConnectionStore
from chorus.store.decisions import DecisionStore
from chorus.store.digest_marks import DigestMarkStore
from chorus.store.quotas import QuotaStore
from chorus.store.reviews import ReviewStore
from tests.conftest import MAGIC_LINK_SECRET
from tests.support.lambda_context import FakeLambdaContext
from tests.support.template import create_table

TABLE = "chorus-invariants"
GROUP = "chorus-invariants-posts"
ACCOUNT = "123456789012"
RING = parse_key_ring(MAGIC_LINK_SECRET)
EXAMPLES = int(os.environ.get("CHORUS_INVARIANT_EXAMPLES", "25"))
STEPS = int(os.environ.get("CHORUS_INVARIANT_STEPS", "30"))
EMPLOYEES = ("ada@example.com", "bob@example.com")
CONTENTS = ("c1", "c2", "c3")
# Admins act now and then, employees and schedules all the time: one draw in four retracts.
SOMETIMES = st.sampled_from([True, False, False, False])
TEXTS = st.text(alphabet="abc xyz\r\n!é", max_size=40).map(lambda tail: f"Note {tail}")
NETWORKS = (Network.SANDBOX, Network.X)
ANSWERS = ("ok", "429", "5xx", "401-refresh-works", "401-refresh-fails", "killed-before", "killed-after")
# How far time moves in one step: within a lease, past one, past the sweeper's grace, a day.
STEPS_OF_TIME = (
    timedelta(minutes=1),
    PUBLISHING_LEASE + timedelta(seconds=1),
    timedelta(minutes=11),
    timedelta(days=1),
)
LINK_BASE = "https://chorus.example.com"


@dataclass(frozen=True)
class Approved:
    """What the test itself saw on the page and approved (never read back from the system)."""

    employee_id: str
    content_id: str
    network: Network
    revision: int
    text: str
    url: str
    title: str


class Keys:
    def key_ring(self) -> Any:
        return RING


class Notices:
    def notify(self, employee_id: str, notice: Any) -> None:
        """Emails are not the subject here."""

    def notify_employee(self, employee: Any, notice: Any, *, base_url: str | None = None) -> None:
        """Nor the review's."""


class Credentials401:
    """The employee's stored X tokens; a refresh may work or not (the network decides the 401)."""

    def __init__(self) -> None:
        self.refresh_works = True

    def credentials(
        self, employee_id: str, network: Network, *, force_refresh: bool = False, stored: object = None
    ) -> Credentials | None:
        if force_refresh and not self.refresh_works:
            return None
        return Credentials(access_token="refreshed" if force_refresh else "token", member_id="m", instance_url=None)


class Killed(BaseException):
    """Lambda stopped the invocation (timeout, crash): nothing after this point runs."""


class RecordingNetwork:
    """A network that answers from a script and checks, the moment a post reaches it, that it
    is consented: the machine's invariant, evaluated at publish time. One that takes an
    idempotency key answers a key it has seen with the first post, and posts nothing."""

    def __init__(self, machine: ConsentMachine, network: Network) -> None:
        self.machine = machine
        self.network = network
        self.idempotent = profile_of(network).idempotency_window is not None
        self.seen: set[str] = set()

    def publish(self, post: PostRequest, credentials: Credentials | None) -> Published:
        answer = self.machine.answers.pop(0) if self.machine.answers else "ok"
        if answer == "killed-before":
            raise Killed
        if self.idempotent and post.idempotency_key in self.seen:
            event(f"{self.network.value} answered a repeated idempotency key with the first post")
            return Published(external_id=post.idempotency_key, url=None)
        if answer == "429":
            raise PublishFailed(FailureKind.RATE_LIMITED, "slow down", retry_after_seconds=60)
        if answer == "5xx":
            raise PublishFailed(FailureKind.TRANSIENT, "server error")
        if answer.startswith("401") and credentials is not None and credentials.access_token == "token":
            self.machine.credentials.refresh_works = answer == "401-refresh-works"
            raise PublishFailed(FailureKind.UNAUTHORIZED, "token revoked")
        self.seen.add(post.idempotency_key)
        self.machine.reached(self.network, post)
        if answer == "killed-after":
            raise Killed
        return Published(external_id=post.idempotency_key, url=None)


class ConsentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        try:
            self._build()
        except BaseException:
            # Hypothesis calls teardown only on a machine it got: never leave moto started.
            self.mock.stop()
            raise

    def _build(self) -> None:
        self.client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(self.client, "Table", TABLE)
        scheduler_client = boto3.client("scheduler", region_name="eu-west-1")
        scheduler_client.create_schedule_group(Name=GROUP)
        self.scheduler_client = scheduler_client
        self.sqs = boto3.client("sqs", region_name="eu-west-1")
        self.queue_urls = {
            name: self.sqs.create_queue(QueueName=f"publish-{name}")["QueueUrl"] for name in ("x", "shared")
        }
        self.scheduler = PostScheduler(
            scheduler_client,
            group_name=GROUP,
            targets={Network.X: f"arn:aws:sqs:eu-west-1:{ACCOUNT}:publish-x"},
            shared_target=f"arn:aws:sqs:eu-west-1:{ACCOUNT}:publish-shared",
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/scheduler",
            dead_letter_arn=f"arn:aws:sqs:eu-west-1:{ACCOUNT}:dlq",
        )
        self.catalog = CatalogStore(self.client, TABLE)
        self.records = DecisionStore(self.client, TABLE)
        self.approvals = ApprovalStore(self.client, TABLE)
        self.marks = DigestMarkStore(self.client, TABLE)
        self.connections = ConnectionStore(self.client, TABLE)
        self.credentials = Credentials401()
        # The publisher's and the sweeper's clock: it starts now and only the machine moves it.
        self.now = datetime.now(UTC)
        self.consent = ConsentService(
            self.records,
            Keys(),
            self.scheduler,
            self.catalog,
            approvals=self.approvals,
            subscriptions=self.marks,
            networks=list(NETWORKS),
            review_edited=True,
        )
        self.reviews = ReviewService(
            ReviewStore(self.client, TABLE), self.records, self.scheduler, Notices(), now=lambda: self.now
        )
        self.rejected: set[str] = set()
        self.publisher = PublishService(
            self.approvals,
            {network: RecordingNetwork(self, network) for network in NETWORKS},
            self.credentials,
            self.scheduler,
            Notices(),
            link_base_url=LINK_BASE,
            alerts=AlertStore(self.client, TABLE),
            quotas=QuotaStore(self.client, TABLE),
            now=lambda: self.now,
        )
        self.queues = SqsPublishQueues(self.sqs, {Network.X: self.queue_urls["x"]}, shared=self.queue_urls["shared"])
        self.sweeper = Sweeper(self.approvals, self.queues, self.connections, Notices(), now=lambda: self.now)
        self.queue_handler = ScheduledPosts(self.publisher)
        self.retraction = RetractionService(self.catalog, self.approvals, self.scheduler)
        self.lifecycle = LifecycleService(self.records, self.approvals, self.catalog, self.connections, self.scheduler)
        self.answers: list[str] = []
        self.approved: dict[tuple[str, str, Network, int], Approved] = {}
        self.posted: list[tuple[Network, PostRequest]] = []
        self.posted_keys: set[str] = set()
        self.uploads = 0

    def teardown(self) -> None:
        self.mock.stop()

    # ------------------------------------------------------------------ the world
    @initialize()
    def load(self) -> None:
        for external_id in CONTENTS:
            self._upload_content(external_id, f"https://example.com/{external_id}?ref=a", f"Title {external_id}", "Hi")
        self.catalog.upsert_employees([self._employee(email, active=True) for email in EMPLOYEES])
        for email in EMPLOYEES:
            self._connect(email)

    def _upload_content(self, external_id: str, url: str, title: str, text: str) -> None:
        row = ContentRow.model_validate({"id": external_id, "title": title, "url": url, "text": text})
        self.catalog.upsert_contents([row.to_entity()])

    @staticmethod
    def _employee(email: str, *, active: bool) -> Employee:
        row = EmployeeRow.model_validate({"email": email, "name": email.partition("@")[0], "active": active})
        return row.to_entity()

    def _connect(self, email: str) -> None:
        employee = self._employee(email, active=True)
        self.connections.save(
            Connection(
                employee_id=employee.employee_id,
                network=Network.X,
                status=ConnectionStatus.CONNECTED,
                member_id="m",
                token_version=1,
                connected_at=datetime.now(UTC),
            ),
            b"sealed",
        )

    def _content(self, external_id: str) -> Content:
        return self.catalog.get_content(content_id_for(external_id, "", ""))

    def _employee_id(self, email: str) -> str:
        return self._employee(email, active=True).employee_id

    # ------------------------------------------------------------------ rules
    @rule(
        email=st.sampled_from(EMPLOYEES),
        external_id=st.sampled_from(CONTENTS),
        networks=st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=2, unique=True),
        text=TEXTS,
        stale=SOMETIMES,
        verbatim=SOMETIMES,
    )
    def approve(
        self,
        email: str,
        external_id: str,
        networks: list[Network],
        text: str,
        stale: bool,
        verbatim: bool = False,
    ) -> None:
        employee_id = self._employee_id(email)
        shown = self._content(external_id)  # the page the employee sees
        if verbatim:
            text = shown.text  # left as offered: no review
        if stale:
            self.reupload(external_id, change_url=True, change_title=True, change_text=False)
        activity = self.records.activity(employee_id, shown.content_id)
        previous = {
            network: approval.revision
            for network, approval in activity.approvals.items()
            if network in networks and approval.status in REAPPROVABLE
        }
        token = sign_link(RING, employee_id, activity_scope(shown.content_id), datetime.now(UTC) + timedelta(days=2))
        request = ApprovalRequest(
            networks=networks,
            texts=dict.fromkeys(networks, text),
            when=When.NOW,
            at_local=None,
            timezone="Europe/Paris",
            user_agent="hypothesis",
            content_version=shown.version,
            previous_revisions=previous,
        )
        before = {network: activity.approvals.get(network) for network in networks}
        try:
            done = self.consent.approve(token, request)
        except (ChorusError, LinkRejected) as refused:
            event(f"approval refused: {type(refused).__name__}")
            # Nothing recorded: a stale page, an inactive employee, withdrawn content, already decided...
            after = self.records.activity(employee_id, shown.content_id).approvals
            for network in networks:
                assert after.get(network) == before[network], "a refused approval recorded something"
            return
        assert not stale, "an approval from a page showing an older version was recorded"
        event("approved")
        for approval in done:
            key = (employee_id, shown.content_id, approval.network, approval.revision)
            self.approved[key] = Approved(
                employee_id,
                shown.content_id,
                approval.network,
                approval.revision,
                normalise_text(text),
                shown.url,
                shown.title,
            )

    @rule(
        external_id=st.sampled_from(CONTENTS),
        change_url=st.booleans(),
        change_title=st.booleans(),
        change_text=st.booleans(),
    )
    def reupload(self, external_id: str, change_url: bool, change_title: bool, change_text: bool) -> None:
        current = self._content(external_id)
        self.uploads += 1
        self._upload_content(
            external_id,
            f"https://example.com/{external_id}?v={self.uploads}" if change_url else current.url,
            f"Title {self.uploads}" if change_title else current.title,
            f"Text {self.uploads}" if change_text else current.text,
        )

    @rule(external_id=st.sampled_from(CONTENTS), really=SOMETIMES)
    def retract(self, external_id: str, really: bool) -> None:
        if really:
            self.retraction.retract(self._content(external_id).content_id)

    @rule(
        email=st.sampled_from(EMPLOYEES),
        external_id=st.sampled_from(CONTENTS),
        networks=st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=2, unique=True),
        text=TEXTS,
    )
    def approve_for_now_and_the_schedule_fires(
        self, email: str, external_id: str, networks: list[Network], text: str
    ) -> None:
        self.approve(email, external_id, networks, text, stale=False)
        employee_id, content_id = self._employee_id(email), self._content(external_id).content_id
        for network, approval in self.records.activity(employee_id, content_id).approvals.items():
            target = PublishTarget(
                employee_id=employee_id, content_id=content_id, network=network, revision=approval.revision
            )
            self._deliver(target)

    def _deliver(self, target: PublishTarget) -> None:
        try:
            event(f"schedule fired: {self.publisher.publish(target).value}")
        except Killed:
            event("publisher killed mid-publish")

    @rule(email=st.sampled_from(EMPLOYEES), how=st.sampled_from(["upload", "upload+stream", "admin"]), really=SOMETIMES)
    def deactivate(self, email: str, how: str, really: bool) -> None:
        if not really:
            return
        if how == "admin":
            self.lifecycle.deactivate(self._employee_id(email))
            return
        self.catalog.upsert_employees([self._employee(email, active=False)])
        if how == "upload+stream":
            self.lifecycle.withdraw(self._employee_id(email))

    @rule(email=st.sampled_from(EMPLOYEES))
    def reactivate(self, email: str) -> None:
        self.catalog.upsert_employees([self._employee(email, active=True)])

    @rule(email=st.sampled_from(EMPLOYEES))
    def reconnect(self, email: str) -> None:
        try:
            self._connect(email)
        except NotOnRoster:
            # A deactivated employee's connection is refused (no token stored for them).
            event("reconnect refused: not active")

    @rule(email=st.sampled_from(EMPLOYEES))
    def unsubscribe(self, email: str) -> None:
        self.marks.unsubscribe(self._employee_id(email), run_week(clock.now(), "Europe/Paris"))

    @rule(email=st.sampled_from(EMPLOYEES), external_id=st.sampled_from(CONTENTS), network=st.sampled_from(NETWORKS))
    def cancel(self, email: str, external_id: str, network: Network) -> None:
        with contextlib.suppress(ChorusError):  # not scheduled (any more): nothing to cancel
            self.approvals.cancel(
                self._employee_id(email), self._content(external_id).content_id, network, datetime.now(UTC)
            )

    @rule(data=st.data(), deliveries=st.integers(1, 2), stale_revision=SOMETIMES)
    def schedule_fires(self, data: st.DataObject, deliveries: int, stale_revision: bool) -> None:
        """The schedule of something approved fires (once, twice, or an old revision's)."""
        if self.approved:
            employee_id, content_id, network, _ = data.draw(st.sampled_from(sorted(self.approved, key=str)))
        else:
            employee_id = self._employee_id(data.draw(st.sampled_from(EMPLOYEES)))
            content_id = self._content(data.draw(st.sampled_from(CONTENTS))).content_id
            network = data.draw(st.sampled_from(NETWORKS))
        approval = self.records.activity(employee_id, content_id).approvals.get(network)
        revision = (approval.revision if approval else 1) - (1 if stale_revision else 0)
        target = PublishTarget(employee_id=employee_id, content_id=content_id, network=network, revision=revision)
        for _ in range(deliveries):
            self._deliver(target)

    @rule()
    def sweep(self) -> None:
        summary = self.sweeper.sweep()
        event(f"sweep handed over stalled posts: {summary.stalled > 0}")
        event(f"sweep handed over overdue posts: {summary.overdue > 0}")

    @rule(deliveries=st.integers(1, 2))
    def publish_queues_deliver(self, deliveries: int) -> None:
        """Each queue hands what waits in it to the publisher (SQS delivers at least once)."""
        for url in self.queue_urls.values():
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            for message in messages:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            records = [
                {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"]}
                for message in messages
            ]
            for _ in range(deliveries if records else 0):
                try:
                    failures = self.queue_handler.handle({"Records": records}, FakeLambdaContext())
                except Killed:
                    event("publisher killed mid-publish (queue)")
                    continue
                assert failures == {"batchItemFailures": []}, "the publisher failed on a message"
                event("queue delivered")

    @rule(
        email=st.sampled_from(EMPLOYEES),
        external_id=st.sampled_from(CONTENTS),
        network=st.sampled_from(NETWORKS),
        text=TEXTS,
        killed=st.sampled_from(["killed-before", "killed-after"]),
        deliveries=st.integers(1, 2),
    )
    def killed_mid_publish_then_the_lease_passes_and_the_sweeper_runs(
        self, email: str, external_id: str, network: Network, text: str, killed: str, deliveries: int
    ) -> None:
        """The sequence a random walk reaches too rarely on its own: approved, the publisher
        stopped before or after the network got the post, the lease passing, the sweeper and
        the queue delivering (once or twice)."""
        self.approve(email, external_id, [network], text, stale=False)
        employee_id, content_id = self._employee_id(email), self._content(external_id).content_id
        approval = self.records.activity(employee_id, content_id).approvals.get(network)
        if approval is None:
            return
        self.answers.insert(0, killed)
        target = PublishTarget(
            employee_id=employee_id, content_id=content_id, network=network, revision=approval.revision
        )
        self._deliver(target)
        self.time_passes(PUBLISHING_LEASE + timedelta(seconds=1))
        self.sweep()
        self.publish_queues_deliver(deliveries)

    @rule(step=st.sampled_from(STEPS_OF_TIME))
    def time_passes(self, step: timedelta) -> None:
        self.now += step

    @rule(answer=st.sampled_from(ANSWERS))
    def network_answers(self, answer: str) -> None:
        self.answers.append(answer)

    @rule(data=st.data(), approve=st.booleans(), twice=SOMETIMES)
    def reviewer_decides(self, data: st.DataObject, approve: bool, twice: bool) -> None:
        waiting = [
            item
            for email in EMPLOYEES
            for item in self._partition(f"EMP#{self._employee_id(email)}")
            if item.get("entity") == "approval" and item["status"] == ApprovalStatus.IN_REVIEW.value
        ]
        if not waiting:
            return
        item = data.draw(st.sampled_from(waiting))
        request = ReviewRequest(
            employee_id=item["employee_id"],
            content_id=item["content_id"],
            network=Network(item["network"]),
            revision=int(item["revision"]),
            decision=ReviewDecision.APPROVE if approve else ReviewDecision.REJECT,
            note="" if approve else "not this one",
        )
        reviewer = Reviewer("admin-1", "Ada Admin")
        result = self.reviews.decide(reviewer, request)
        event(f"review: {result.value}")
        if result is ReviewResult.REJECTED:
            self.rejected.add(f"{item['approval_id']}-r{item['revision']}")
        if twice:
            assert self.reviews.decide(reviewer, request) is ReviewResult.ALREADY_DECIDED, "a decision acted twice"

    # ------------------------------------------------------------------ the invariant
    def reached(self, network: Network, post: PostRequest) -> None:
        """A post reaches a network: it must be consented, now."""
        assert post.network is network
        assert post.idempotency_key not in self.posted_keys, "the same approval revision was posted twice"
        assert post.idempotency_key not in self.rejected, "a post the reviewer rejected reached the network"
        profile = self._item(f"EMP#{post.employee_id}", "PROFILE")
        assert profile["active"] is True, "a post of an inactive employee reached the network"
        self.posted_keys.add(post.idempotency_key)
        event(f"posted on {network.value}")
        self.posted.append((network, post))
        self.check_post(network, post)

    def check_post(self, network: Network, post: PostRequest) -> None:
        approval_id, _, revision = post.idempotency_key.rpartition("-r")
        matching = [
            approved
            for (employee_id, _content, approved_network, approved_revision), approved in self.approved.items()
            if employee_id == post.employee_id
            and approved_network is network
            and approved_revision == int(revision)
            and f"{approved.employee_id}" == post.employee_id
            and approval_id.startswith("a-")
            and (approved.text, approved.title) == (post.text, post.title)
        ]
        assert matching, f"a post nobody approved reached {network.value}: {post}"
        code = link_code(approval_id, int(revision))
        assert post.link == f"{LINK_BASE}/r/{code}"
        link = self._item(f"LINK#{code}", "META")
        assert any(link["target"] == approved.url for approved in matching), (
            f"the tracked link leads elsewhere: {link['target']}, {post}"
        )

    @invariant()
    def every_post_was_consented(self) -> None:
        for network, post in self.posted:
            self.check_post(network, post)

    @invariant()
    def nothing_waits_unseen_and_nothing_in_review_is_scheduled(self) -> None:
        """Every approval left PUBLISHING is listed by its lease, where the sweeper finds it once
        the lease passed (the regression: killed mid-publish, it stayed PUBLISHING, unlisted).
        Every approval waiting for review is on the review queue and nowhere else, and neither
        it nor a rejected one has a schedule. (One pass over the partitions: it runs every step.)"""
        held: list[dict[str, Any]] = []
        for email in EMPLOYEES:
            for item in self._partition(f"EMP#{self._employee_id(email)}"):
                if item.get("entity") != "approval":
                    continue
                if item["status"] == ApprovalStatus.PUBLISHING.value:
                    assert item.get("GSI2PK") == "PUBLISHING", "a PUBLISHING approval the sweeper cannot find"
                    assert str(item["GSI2SK"]).startswith(item["lease_until"])
                if item["status"] == ApprovalStatus.IN_REVIEW.value:
                    assert item.get("GSI2PK") == "REVIEW", "an approval waiting for review is not on the queue"
                    held.append(item)
                else:
                    assert item.get("GSI2PK") != "REVIEW", "a decided approval is still on the review queue"
                if item["status"] == ApprovalStatus.REJECTED.value:
                    held.append(item)
        if held:
            names = {s["Name"] for s in self.scheduler_client.list_schedules(GroupName=GROUP)["Schedules"]}
            for item in held:
                assert item["schedule_name"] not in names, f"a {item['status']} approval has a schedule"

    @invariant()
    def published_approvals_are_what_reached_the_network(self) -> None:
        for email in EMPLOYEES:
            for item in self._partition(f"EMP#{self._employee_id(email)}"):
                if item.get("entity") == "approval" and item["status"] == ApprovalStatus.PUBLISHED.value:
                    assert f"{item['approval_id']}-r{item['revision']}" in self.posted_keys

    def _item(self, pk: str, sk: str) -> dict[str, Any]:
        response = self.client.get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True)
        return from_dynamo(response["Item"])

    def _partition(self, pk: str) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
        )
        return [from_dynamo(item) for item in response["Items"]]


ConsentMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestConsentInvariant = ConsentMachine.TestCase
