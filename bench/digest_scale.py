"""The weekly digest at 100k and 1M employees: a faithful simulation at the AWS client boundary.

    python -m bench.digest_scale [--employees 100000 1000000] [--sample-batches 20]

moto needs hours for a million profiles, so the real planner, sender, stores, adapters and email
rendering run against in-memory clients that answer the operations they call (DynamoDB Query,
UpdateItem, GetItem, TransactWriteItems, BatchGetItem, PutItem; SQS SendMessageBatch; SESv2
SendEmail), as DynamoDB would: a Query page stops at ``Limit`` or at 1 MB of items, whichever
comes first. Every call is counted where it leaves our code, as on AWS.

Prints, per roster size:
- planner: invocations (one per roster page), peak memory of one invocation (tracemalloc, the
  largest of the pages measured), CPU per invocation scaled to 512 MB (Lambda gives 512 MB about
  0.29 vCPU), calls;
- the largest SQS message (digest batch and plan page), against the queues' limits;
- sender: peak memory and CPU (scaled) per 50-recipient batch, over a sample of batches;
- AWS calls per recipient, planner + sender (target <= 2.1).
The roster is synthetic: profiles of realistic size with ten groups and 30 live decisions
(about 1.6 KB each), ten active content items, every employee a recipient.
Figures, not a test: exit status 0 unless something raises.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/chorus"))

from chorus.store.codec import from_dynamo, to_dynamo  # noqa: E402

TABLE = "chorus-bench"
DIGEST_QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/digests"
PLAN_QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/digest-pages"
LAMBDA_VCPU_AT_512_MB = 512 / 1769  # Lambda allocates one vCPU per 1,769 MB
QUERY_BYTES = 1024 * 1024
NOW = datetime(2027, 3, 15, 8, 0, tzinfo=UTC)
CONTENTS = 10


def _item_size(item: dict[str, Any]) -> int:
    """About DynamoDB's size of an item (attribute names and values, without the type tags)."""
    return len(json.dumps(from_dynamo(item), separators=(",", ":"), default=str))


class FakeDynamoDB:
    """The table as the digest reads it: CONTENT#active, ROSTER#active (synthetic), the rest
    accepted and counted."""

    def __init__(self, employees: int) -> None:
        self.employees = employees
        self.calls: Counter[str] = Counter()
        self.query_bytes = 0
        starts = NOW - timedelta(days=3)
        self._contents = [
            to_dynamo(
                {
                    "PK": f"CONTENT#c-{n:020d}",
                    "SK": "META",
                    "content_id": f"c-{n:020d}",
                    "title": f"News item {n} " + "t" * 60,
                    "url": f"https://example.com/news/{n}",
                    "text": "Share this: " + "x" * 400,
                    "status": "active",
                    "version": 1,
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(days=14)).isoformat(),
                    "groups": [],
                }
            )
            for n in range(CONTENTS)
        ]

    def _employee(self, index: int) -> dict[str, Any]:
        employee_id = f"e-{index:020d}"
        decided = {f"c-{9_000_000 + n:020d}:1" for n in range(30)}  # decisions on other content
        return to_dynamo(
            {
                "PK": f"EMP#{employee_id}",
                "SK": "PROFILE",
                "entity": "employee",
                "employee_id": employee_id,
                "email": f"employee.number.{index}@example-company.com",
                "name": f"Employee Number {index}",
                "groups": [f"group-{n}-of-the-company" for n in range(10)],
                "timezone": "Europe/Paris",
                "locale": "fr",
                "active": True,
                "digest_opt_in": True,
                "fingerprint": "f" * 64,
                "version": 3,
                "created_at": "2026-01-05T09:00:00+00:00",
                "updated_at": "2026-06-01T09:00:00+00:00",
                "GSI1PK": f"EMAIL#employee.number.{index}@example-company.com",
                "GSI1SK": "PROFILE",
                "GSI2PK": "ROSTER#active",
                "GSI2SK": employee_id,
                "decided_202703": decided,
            }
        )

    def query(self, **request: Any) -> dict[str, Any]:
        self.calls["dynamodb.Query"] += 1
        partition = request["ExpressionAttributeValues"][":pk"]["S"]
        if partition != "ROSTER#active":
            return {"Items": self._contents}
        start = request.get("ExclusiveStartKey")
        index = int(start["PK"]["S"].removeprefix("EMP#e-")) + 1 if start else 0
        items: list[dict[str, Any]] = []
        size = 0
        while index < self.employees and len(items) < request["Limit"]:
            item = self._employee(index)
            size += _item_size(item)
            if size > QUERY_BYTES and items:
                break
            items.append(item)
            index += 1
        self.query_bytes = max(self.query_bytes, size)
        response: dict[str, Any] = {"Items": items}
        if index < self.employees:
            last = items[-1]
            response["LastEvaluatedKey"] = {name: last[name] for name in ("PK", "SK", "GSI2PK", "GSI2SK")}
        return response

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls["dynamodb.BatchGetItem"] += 1
        found: list[dict[str, Any]] = []
        for key in RequestItems[TABLE]["Keys"]:
            pk, sk = key["PK"]["S"], key["SK"]["S"]
            if pk.startswith("CONTENT#"):
                found.extend(item for item in self._contents if item["PK"]["S"] == pk)
            elif sk.startswith("IMPACT#") and int(pk[-2:]) % 3 == 0:  # a third had points last week
                found.append(to_dynamo({"PK": pk, "SK": sk, "points": 25, "clicks": 4}))
        return {"Responses": {TABLE: found}}

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.calls["dynamodb.UpdateItem"] += 1
        return {"Attributes": {}}

    def get_item(self, **request: Any) -> dict[str, Any]:
        self.calls["dynamodb.GetItem"] += 1
        return {}

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.calls["dynamodb.PutItem"] += 1
        return {}

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        self.calls["dynamodb.TransactWriteItems"] += 1
        return {}


class FakeSQS:
    """Keeps the plan queue's messages (the planner's next invocations), the digest queue's count,
    largest body and a sample of bodies for the sender."""

    def __init__(self, sample: int) -> None:
        self.calls: Counter[str] = Counter()
        self.pages: list[tuple[str, str]] = []
        self.batches = 0
        self.sample: list[str] = []
        self.largest = {DIGEST_QUEUE: 0, PLAN_QUEUE: 0}
        self._sample_size = sample

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls["sqs.SendMessageBatch"] += 1
        assert len(Entries) <= 10
        for entry in Entries:
            body = entry["MessageBody"]
            self.largest[QueueUrl] = max(self.largest[QueueUrl], len(body.encode()))
            if QueueUrl == PLAN_QUEUE:
                self.pages.append((f"m-{self.calls['sqs.SendMessageBatch']}-{entry['Id']}", body))
            else:
                self.batches += 1
                if len(self.sample) < self._sample_size:
                    self.sample.append(body)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries], "Failed": []}


class FakeSESv2:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.largest = 0

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.calls["sesv2.SendEmail"] += 1
        self.largest = max(self.largest, len(request["Content"]["Raw"]["Data"]))
        return {"MessageId": "m"}


class StaticKeys:
    def __init__(self) -> None:
        from chorus.adapters.secrets_keys import parse_key_ring

        self._ring = parse_key_ring(json.dumps({"current": "k1", "k1": "bench-key-" + "x" * 40}))

    def key_ring(self) -> Any:
        return self._ring


def measured(action: Any, *, memory: bool) -> tuple[Any, float, int]:
    """(result, CPU seconds, peak bytes allocated during the call, when ``memory``)."""
    if memory:
        tracemalloc.start()
    started = time.process_time()
    result = action()
    cpu = time.process_time() - started
    peak = 0
    if memory:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, cpu, peak


def digest(employees: int, sample_batches: int) -> dict[str, Any]:
    from chorus.adapters.ses_email import SesEmailSender
    from chorus.adapters.sqs_queue import MessageQueue
    from chorus.domain.digest import DIGEST_MESSAGE_LIMIT, DigestBatch, DigestTime, PlanPage
    from chorus.messages.email import EmailChannel
    from chorus.services.digest import DigestPlanner, DigestSender, Links, Pacer
    from chorus.store.catalog import CatalogStore
    from chorus.store.digest_marks import DigestMarkStore
    from chorus.store.digest_runs import DigestRunStore
    from chorus.store.digest_zones import DigestZoneStore
    from chorus.store.funnel import FunnelStore

    dynamodb = FakeDynamoDB(employees)
    sqs = FakeSQS(sample_batches)
    planner = DigestPlanner(
        CatalogStore(dynamodb, TABLE),  # type: ignore[arg-type]
        MessageQueue(sqs, DIGEST_QUEUE),  # type: ignore[arg-type]
        MessageQueue(sqs, PLAN_QUEUE),  # type: ignore[arg-type]
        impacts=DigestMarkStore(dynamodb, TABLE),  # type: ignore[arg-type]
        runs=DigestRunStore(dynamodb, TABLE),  # type: ignore[arg-type]
        timezone="Europe/Paris",
        digest_time=DigestTime.from_cron("cron(0 9 ? * MON *)"),
        zones=DigestZoneStore(dynamodb, TABLE),  # type: ignore[arg-type]
    )
    # A run over the whole roster, then one invocation per plan-queue message.
    planner.start(NOW, "bench")
    invocations = 0
    cpu_max = 0.0
    cpu_total = 0.0
    peak = 0
    started = time.perf_counter()
    while sqs.pages:
        owner, body = sqs.pages.pop(0)
        message = PlanPage.model_validate_json(body)
        # tracemalloc slows the call down: memory on the first pages, CPU on every page without it.
        watch = invocations < 3
        _, cpu, allocated = measured(lambda: planner.plan_page(message, owner=owner, now=NOW), memory=watch)  # noqa: B023
        peak = max(peak, allocated)
        if not watch:
            cpu_max = max(cpu_max, cpu)
            cpu_total += cpu
        invocations += 1
    wall = time.perf_counter() - started
    planner_calls = dynamodb.calls.total() + sqs.calls.total()
    planner_counts = dynamodb.calls + sqs.calls
    recipients = employees

    sender_ddb = FakeDynamoDB(employees)
    ses = FakeSESv2()
    sender = DigestSender(
        DigestMarkStore(sender_ddb, TABLE),  # type: ignore[arg-type]
        EmailChannel(SesEmailSender(ses), sender="chorus@example.com", sender_name="Chorus"),  # type: ignore[arg-type]
        StaticKeys(),
        Pacer(1e9),
        contents=CatalogStore(sender_ddb, TABLE),  # type: ignore[arg-type]
        runs=DigestRunStore(sender_ddb, TABLE),  # type: ignore[arg-type]
        links=Links("https://chorus.example.com"),
        funnel=FunnelStore(sender_ddb, TABLE),  # type: ignore[arg-type]
        now=lambda: NOW,
    )
    sender_cpu = 0.0
    sender_peak = 0
    sent = 0
    for index, body in enumerate(sqs.sample):
        batch = DigestBatch.model_validate_json(body)
        count, cpu, allocated = measured(lambda: sender.send_batch(batch), memory=index < 3)  # noqa: B023
        sent += int(count)
        sender_peak = max(sender_peak, allocated)
        if index >= 3:
            sender_cpu = max(sender_cpu, cpu)
    sender_counts = sender_ddb.calls + ses.calls
    sender_per_recipient = sender_counts.total() / max(sent, 1)
    per_recipient = planner_calls / recipients + sender_per_recipient
    return {
        "employees": employees,
        "invocations": invocations,
        "planner_peak_mb": peak / 2**20,
        "planner_cpu_max_s": cpu_max,
        "planner_cpu_scaled_s": cpu_max / LAMBDA_VCPU_AT_512_MB,
        "planner_cpu_total_s": cpu_total,
        "planner_wall_s": wall,
        "planner_calls": planner_calls,
        "planner_counts": dict(planner_counts),
        "largest_query_kb": dynamodb.query_bytes / 1024,
        "batches": sqs.batches,
        "largest_batch": sqs.largest[DIGEST_QUEUE],
        "largest_page_message": sqs.largest[PLAN_QUEUE],
        "digest_limit": DIGEST_MESSAGE_LIMIT,
        "sender_sampled_recipients": sent,
        "sender_peak_mb": sender_peak / 2**20,
        "sender_cpu_batch_scaled_s": sender_cpu / LAMBDA_VCPU_AT_512_MB,
        "sender_counts": dict(sender_counts),
        "sender_per_recipient": sender_per_recipient,
        "largest_email": ses.largest,
        "per_recipient": per_recipient,
    }


def report(figures: dict[str, Any]) -> None:
    n = figures["employees"]
    print(f"\n## Digest, {n:,} employees (simulated at the client boundary)")
    print(
        f"planner: {figures['invocations']:,} invocations (one roster page each, largest Query "
        f"{figures['largest_query_kb']:.0f} KB); peak memory per invocation "
        f"{figures['planner_peak_mb']:.1f} MB (target < 512 MB) "
        f"{'PASS' if figures['planner_peak_mb'] < 512 else 'FAIL'}"
    )
    print(
        f"planner CPU per invocation: {figures['planner_cpu_max_s'] * 1000:.0f} ms here, "
        f"{figures['planner_cpu_scaled_s']:.2f} s at 512 MB (target < 300 s) "
        f"{'PASS' if figures['planner_cpu_scaled_s'] < 300 else 'FAIL'}; all pages "
        f"{figures['planner_cpu_total_s']:.0f} s CPU here"
    )
    print(f"planner calls: {figures['planner_calls']:,} ({figures['planner_calls'] / n:.4f} per recipient)")
    for operation, calls in sorted(figures["planner_counts"].items()):
        print(f"  {operation:<30} {calls:>9,}")
    print(
        f"SQS: {figures['batches']:,} digest batches, largest {figures['largest_batch']:,} bytes "
        f"(queue limit {figures['digest_limit']:,}); largest plan-page message "
        f"{figures['largest_page_message']:,} bytes (limit 8,192)"
    )
    print(
        f"sender (sample of {figures['sender_sampled_recipients']:,} recipients): peak memory per "
        f"batch {figures['sender_peak_mb']:.1f} MB, CPU per 50-recipient batch "
        f"{figures['sender_cpu_batch_scaled_s']:.2f} s at 512 MB; largest email {figures['largest_email']:,} bytes"
    )
    for operation, calls in sorted(figures["sender_counts"].items()):
        print(f"  {operation:<30} {calls:>9,}")
    verdict = "PASS" if figures["per_recipient"] <= 2.1 else "FAIL"
    print(
        f"calls per recipient, planner + sender: {figures['per_recipient']:.3f} (target <= 2.1) {verdict} "
        f"(sender {figures['sender_per_recipient']:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--sample-batches", type=int, default=20)
    args = parser.parse_args()
    for employees in args.employees:
        report(digest(employees, args.sample_batches))


if __name__ == "__main__":
    main()
