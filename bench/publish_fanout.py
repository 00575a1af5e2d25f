"""Posts due at once, published with real concurrency; orphans handed over in one sweep.

    python -m bench.publish_fanout [--posts 1000] [--workers 8] [--orphans 10000]

Under moto's ``mock_aws`` (table from template.yaml's own properties, the publish queues as SQS
queues), two measures:

1. ``--posts`` employees approve a post for now (through the consent service, as the page does);
   each schedule fires (its SQS target puts the post on the publish queue) and fires again (at
   least once delivery: every post is on the queue twice). ``--workers`` threads then do what
   the queue's event source does at that MaximumConcurrency: take one message, invoke the
   publisher's handler, delete it. The network is a recording fake that takes no idempotency key
   (every request it accepts is a post, as X's and LinkedIn's are) and answers after 20 ms, so
   publications overlap. Each DynamoDB and SQS request is applied atomically (one lock per
   request, the guarantee the real services give), not each publication. Then the sweeper runs
   and must find nothing. Prints posts, duplicates, lost, the most publications in flight at
   once, and AWS calls per publication.
2. ``--orphans`` SCHEDULED posts whose schedule was lost (listed items, as the sweeper sees
   them) and the sweeper's one run: how long, how many calls, and whether every orphan is on its
   network's queue (the sweep window is 10 minutes, the sweeper's timeout 300 s).

Figures, not a test: exit status 0 unless something raises (or ``--check`` and a target missed).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/chorus"))
sys.path.insert(0, str(ROOT / "functions/publisher"))

from bench.aws_calls import count_aws_calls, format_counts  # noqa: E402
from bench.ingest_scale import moto_transactions_without_table_copies  # noqa: E402

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

REGION = "eu-west-1"
ACCOUNT = "123456789012"
# Names of their own per run: a run inside another moto mock (the test suite's) meets no table
# or queue of an earlier one.
_RUNS = itertools.count()
SECRET = '{"current": "k1", "k1": "bench-key-0123456789abcdef0123456789abcdef"}'
NETWORK_LATENCY = 0.02  # seconds the fake network takes to answer
# Target: DynamoDB calls per publication, its second delivery included (read, PUBLISHING with
# the link, PUBLISHED; the second delivery's read) - the due_posts bench's <= 4.
DYNAMODB_CALLS_PER_PUBLICATION = 4


class Atomic:
    """A client whose every request is applied atomically, as DynamoDB and SQS apply them
    (moto's in-process backends are not thread-safe); publications still interleave."""

    def __init__(self, client: Any, lock: threading.Lock) -> None:
        self._client = client
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call


class RecordingNetwork:
    """Every request it accepts is a post (no idempotency key); counts posts in flight."""

    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def publish(self, post: Any, credentials: Any) -> Any:
        from chorus.domain.publishing import Published

        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(NETWORK_LATENCY)
        with self._lock:
            self.in_flight -= 1
            self.posts[post.idempotency_key] += 1
        return Published(external_id=post.idempotency_key, url=None)


class NoNotices:
    def notify(self, employee_id: str, notice: Any) -> None:
        """Nothing fails here; emails are not measured."""


@contextmanager
def account() -> Iterator[dict[str, Any]]:
    import boto3
    from moto import mock_aws

    with mock_aws(), moto_transactions_without_table_copies():
        from tests.support.template import create_table

        dynamodb = boto3.client("dynamodb", region_name=REGION)
        run = f"bench{next(_RUNS)}"
        create_table(dynamodb, "Table", f"chorus-{run}")
        sqs = boto3.client("sqs", region_name=REGION)
        queues = {name: sqs.create_queue(QueueName=f"{run}-{name}")["QueueUrl"] for name in ("x", "shared")}
        scheduler = boto3.client("scheduler", region_name=REGION)
        scheduler.create_schedule_group(Name=run)
        yield {
            "dynamodb": dynamodb,
            "sqs": sqs,
            "scheduler": scheduler,
            "queues": queues,
            "table": f"chorus-{run}",
            "group": run,
        }


def posts_due_at_once(aws: dict[str, Any], posts: int, workers: int) -> bool:
    from chorus.adapters.publish_queues import SqsPublishQueues
    from chorus.adapters.scheduler import PostScheduler
    from chorus.adapters.secrets_keys import parse_key_ring
    from chorus.domain.approval import When
    from chorus.domain.content import ContentRow, Network, content_id_for
    from chorus.domain.employee import EmployeeRow
    from chorus.domain.magic_links import activity_scope, sign_link
    from chorus.domain.publishing import PublishTarget
    from chorus.edge.schedules import ScheduledPosts
    from chorus.services.consent import ApprovalRequest, ConsentService
    from chorus.services.publish import PublishService
    from chorus.services.sweeper import Sweeper
    from chorus.store.alerts import AlertStore
    from chorus.store.approvals import ApprovalStore
    from chorus.store.catalog import CatalogStore
    from chorus.store.connections import ConnectionStore
    from chorus.store.decisions import DecisionStore
    from chorus.store.digest_marks import DigestMarkStore
    from chorus.store.quotas import QuotaStore

    dynamodb, sqs, table = aws["dynamodb"], aws["sqs"], aws["table"]
    catalog = CatalogStore(dynamodb, table)
    ring = parse_key_ring(SECRET)
    row = ContentRow.model_validate({"id": "due", "title": "Due", "url": "https://example.com/due", "text": "Hi"})
    catalog.upsert_contents([row.to_entity()])
    emails = [f"p{n}@example.com" for n in range(posts)]
    employees = [EmployeeRow.model_validate({"email": email, "name": "P"}).to_entity() for email in emails]
    catalog.upsert_employees(employees)
    shared = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{aws['group']}-shared"
    scheduler = PostScheduler(
        aws["scheduler"],
        group_name=aws["group"],
        targets={},
        shared_target=shared,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/scheduler",
        dead_letter_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq",
    )

    class Keys:
        def key_ring(self) -> Any:
            return ring

    approvals = ApprovalStore(dynamodb, table)
    consent = ConsentService(
        DecisionStore(dynamodb, table),
        Keys(),
        scheduler,
        catalog,
        approvals=approvals,
        subscriptions=DigestMarkStore(dynamodb, table),
        networks=[Network.SANDBOX],
    )
    content_id = content_id_for("due", "", "")
    version = catalog.get_content(content_id).version
    started = time.perf_counter()
    targets = []
    for employee in employees:
        token = sign_link(ring, employee.employee_id, activity_scope(content_id), datetime.now(UTC) + timedelta(days=1))
        request = ApprovalRequest(
            networks=[Network.SANDBOX],
            texts={Network.SANDBOX: f"Post of {employee.employee_id}"},
            when=When.NOW,
            at_local=None,
            timezone="Europe/Paris",
            user_agent="bench",
            content_version=version,
            previous_revisions={},
        )
        [approval] = consent.approve(token, request)
        targets.append(PublishTarget.of(approval))
    print(f"{posts} approvals for now in {time.perf_counter() - started:.1f} s")

    # Each schedule fires, and fires again: every post is on the queue twice.
    url = aws["queues"]["shared"]
    queues = SqsPublishQueues(sqs, {}, shared=url)
    queues.send(Network.SANDBOX, targets + targets)

    lock = threading.Lock()
    network = RecordingNetwork()
    publisher = PublishService(
        ApprovalStore(Atomic(dynamodb, lock), table),  # type: ignore[arg-type]
        {Network.SANDBOX: network},
        credentials=_NoCredentials(),
        scheduler=scheduler,
        notices=NoNotices(),
        alerts=AlertStore(Atomic(dynamodb, lock), table),  # type: ignore[arg-type]
        quotas=QuotaStore(Atomic(dynamodb, lock), table),  # type: ignore[arg-type]
        link_base_url="https://chorus.example.com",
    )
    handler = ScheduledPosts(publisher)
    atomic_sqs = Atomic(sqs, lock)
    failures: list[str] = []

    def event_source() -> None:
        """One poller of the event source: one message per invocation (BatchSize 1)."""
        from tests.support.lambda_context import FakeLambdaContext

        while True:
            messages = atomic_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
            if not messages:
                return
            [message] = messages
            record = {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"]}
            context = cast("LambdaContext", FakeLambdaContext())
            response = handler.handle({"Records": [{**record, "body": message["Body"]}]}, context)
            if response["batchItemFailures"]:
                failures.append(message["MessageId"])
            atomic_sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    logging.getLogger("chorus").setLevel(logging.ERROR)
    with count_aws_calls(dynamodb, sqs) as calls:
        started = time.perf_counter()
        threads = [threading.Thread(target=event_source) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    sweep = Sweeper(approvals, queues, ConnectionStore(dynamodb, table), NoNotices()).sweep()

    posted = sum(network.posts.values())
    duplicates = sum(count - 1 for count in network.posts.values() if count > 1)
    keys = {f"{approval_id}-r1" for approval_id in (_approval_id(target) for target in targets)}
    lost = len(keys - set(network.posts))
    published = max(len(network.posts), 1)
    per_publication = calls.total("dynamodb") / published
    ok = duplicates == 0 and lost == 0 and not failures and sweep.overdue == sweep.stalled == 0
    print(
        f"\n{posts} posts due at once, each delivered twice, {workers} concurrent publishers: "
        f"{elapsed:.1f} s, at most {network.most_in_flight} publications in flight at once"
    )
    print(f"network: {posted} posts, {duplicates} duplicates, {lost} lost, {len(failures)} failed messages  ")
    print(f"sweeper afterwards: {sweep.overdue} overdue, {sweep.stalled} stalled  ({'PASS' if ok else 'FAIL'})")
    print(f"AWS calls while publishing: {calls.total()} (DynamoDB {calls.total('dynamodb')}, SQS {calls.total('sqs')})")
    print(format_counts(calls.by_operation()))
    print(
        f"per publication, each delivered twice: {calls.total() / published:.2f} AWS calls, of which DynamoDB "
        f"{per_publication:.2f} (target <= {DYNAMODB_CALLS_PER_PUBLICATION}) "
        f"{'PASS' if per_publication <= DYNAMODB_CALLS_PER_PUBLICATION else 'FAIL'} and SQS "
        f"{calls.total('sqs') / published:.2f} (a receive and a delete per delivery)"
    )
    return ok and per_publication <= DYNAMODB_CALLS_PER_PUBLICATION


class _NoCredentials:
    def credentials(self, *args: Any, **kwargs: Any) -> None:
        """The sandbox needs no connection."""


def _approval_id(target: Any) -> str:
    from chorus.domain.approval import approval_id_for

    return approval_id_for(target.employee_id, target.content_id, target.network)


class QueueCalls:
    """SQS as the sweeper uses it (SendMessageBatch, GetQueueAttributes), keeping the messages.
    Here and not moto's: moto's SendMessage recomputes the queue's attributes over every message
    it holds, so 10,000 messages cost it minutes that SQS does not spend."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}
        self.calls: Counter[str] = Counter()

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.calls["sqs.SendMessageBatch"] += 1
        assert len(Entries) <= 10 and sum(len(entry["MessageBody"]) for entry in Entries) <= 262_144
        self.messages.setdefault(QueueUrl, []).extend(entry["MessageBody"] for entry in Entries)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries], "Failed": []}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        self.calls["sqs.GetQueueAttributes"] += 1
        return {"Attributes": {"ApproximateNumberOfMessages": str(len(self.messages.get(QueueUrl, [])))}}


def orphans_in_one_sweep(aws: dict[str, Any], orphans: int) -> bool:
    """``orphans`` SCHEDULED approvals listed as overdue (their schedules lost), X and the
    sandbox mixed; one sweep: DynamoDB on moto, SQS counted (``QueueCalls``)."""
    from chorus.adapters.publish_queues import SqsPublishQueues
    from chorus.domain.content import Network
    from chorus.services.sweeper import Sweeper
    from chorus.store.approvals import ApprovalStore
    from chorus.store.connections import ConnectionStore

    dynamodb, table = aws["dynamodb"], aws["table"]
    sqs = QueueCalls()
    past = (datetime.now(UTC) - timedelta(hours=3)).isoformat(timespec="seconds")
    networks = (Network.X, Network.SANDBOX, Network.X, Network.SANDBOX)
    started = time.perf_counter()
    items = []
    for n in range(orphans):
        network = networks[n % len(networks)]
        employee, content = f"e-orphan{n:06d}", "c-orphans"
        items.append(
            {
                "PutRequest": {
                    "Item": {
                        "PK": {"S": f"EMP#{employee}"},
                        "SK": {"S": f"APPROVAL#{content}#{network.value}"},
                        "entity": {"S": "approval"},
                        "employee_id": {"S": employee},
                        "content_id": {"S": content},
                        "network": {"S": network.value},
                        "revision": {"N": "1"},
                        "status": {"S": "SCHEDULED"},
                        "GSI2PK": {"S": "SCHEDULED"},
                        "GSI2SK": {"S": f"{past}#{employee}#{network.value}"},
                    }
                }
            }
        )
    for start in range(0, len(items), 25):
        dynamodb.batch_write_item(RequestItems={table: items[start : start + 25]})
    print(f"\n{orphans} orphans listed in {time.perf_counter() - started:.1f} s")

    queues = SqsPublishQueues(sqs, {Network.X: aws["queues"]["x"]}, shared=aws["queues"]["shared"])  # type: ignore[arg-type]
    sweeper = Sweeper(ApprovalStore(dynamodb, table), queues, ConnectionStore(dynamodb, table), NoNotices())
    with count_aws_calls(dynamodb) as calls:
        started = time.perf_counter()
        summary = sweeper.sweep(_seconds_left(started, 300.0))
        elapsed = time.perf_counter() - started
    waiting = sum(len(messages) for messages in sqs.messages.values())
    bodies = {body for messages in sqs.messages.values() for body in messages}
    ok = summary.complete and summary.overdue == orphans and waiting == len(bodies) == orphans
    print(
        f"one sweep: {summary.overdue} handed over, {summary.left} left, complete={summary.complete}, "
        f"{waiting} waiting on the queues, {elapsed:.1f} s (timeout 300 s, window 600 s)  "
        f"({'PASS' if ok else 'FAIL'})"
    )
    every = calls.by_operation() + sqs.calls
    on_sqs = sqs.calls["sqs.SendMessageBatch"] * 0.02
    print(f"AWS calls: {sum(every.values())} (SendMessageBatch at ~20 ms each: ~{on_sqs:.0f} s more on SQS)")
    print(format_counts(every))
    example = sqs.messages[aws["queues"]["x"]][0]
    print(f"a message: {len(example)} bytes: {json.loads(example)}")
    return ok


def _seconds_left(started: float, timeout: float) -> Callable[[], float]:
    return lambda: timeout - (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--orphans", type=int, default=10000)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    with account() as aws:
        due = posts_due_at_once(aws, args.posts, args.workers)
    with account() as aws:
        swept = orphans_in_one_sweep(aws, args.orphans)
    return 1 if args.check and not (due and swept) else 0


if __name__ == "__main__":
    raise SystemExit(main())
