"""Leaderboard read cost at 1k, 10k and 100k employees; AWS calls per click and per award.

    python -m bench.leaderboard_scale [--sizes 1000,10000,100000]

Under moto: for each size, N score items on the month board (as the scoring function writes
them), then the top 10 read (calls, items read, median latency over 20 reads) and one
employee's standing. Then one click through the click service and one award through the
scoring service, counted. Target: the top-k read costs the same at every size (one Query);
a click <= 2 calls; an award of an employee in two groups = a read of their overall scores and
1 transaction (+ the batch's one read of profiles and content). bench.scoring_scale measures
ranks, awards at 50 groups and reports.
Figures, not a test: exit 0 unless something raises. moto's latency is not DynamoDB's: compare
sizes, not absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/chorus"))

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from bench.aws_calls import count_aws_calls, format_counts  # noqa: E402
from bench.ingest_scale import create_table, template_resources  # noqa: E402

REGION = "eu-west-1"
TABLE = "chorus-bench-scores"
LARGEST = 100_003  # a prime above the largest size: distinct scores at every size


def fill(size: int, period_key: str, start: int = 0) -> None:
    """Score items with distinct scores (n * 7919 modulo a larger prime never repeats): ties at
    the k-th place cost a second page whatever the size, which is not what this measures."""
    from chorus.store import keys

    table = boto3.resource("dynamodb", region_name=REGION).Table(TABLE)
    with table.batch_writer() as batch:
        for n in range(start, size):
            employee = f"e-{n:08d}"
            batch.put_item(
                Item={
                    "PK": keys.employee_pk(employee),
                    "SK": keys.score_sk(period_key, "*"),
                    "entity": "score",
                    "employee_id": employee,
                    "name": f"Person {n}",
                    "score": (n * 7919) % LARGEST + 1,
                    "reached_at": datetime(2026, 11, 1, tzinfo=UTC).isoformat(),
                    "period": period_key,
                    "scope": "*",
                    "GSI3PK": keys.leaderboard_pk(period_key, "*"),
                }
            )


def board(sizes: list[int]) -> None:
    from chorus.domain.scoring import Period, period_keys
    from chorus.store.scores import ScoreStore

    ddb = boto3.client("dynamodb", region_name=REGION)
    store = ScoreStore(ddb, TABLE)
    period_key = period_keys(datetime.now(UTC))[Period.MONTH]
    filled = 0
    print("| employees | top 10: calls | items read | median ms | standing: calls |")
    print("|---|---|---|---|---|")
    for size in sizes:
        started = time.perf_counter()
        if size > filled:
            fill(size, period_key, start=filled)
            filled = size
        fill_seconds = time.perf_counter() - started
        with count_aws_calls(ddb, keep_requests=True) as calls:
            top = store.top(period_key, "*", 10)
        items_read = len(top) + 1
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            store.top(period_key, "*", 10)
            timings.append((time.perf_counter() - started) * 1000)
        with count_aws_calls(ddb) as standing_calls:
            store.standing("e-00000042", period_key, "*")
        print(
            f"| {size:,} | {calls.total()} | ~{items_read} | {statistics.median(timings):.1f} | "
            f"{standing_calls.total()} (own score, histogram, bounded COUNT ahead, 2 neighbour Queries) |"
        )
        print(f"  (filled in {fill_seconds:.1f} s)", file=sys.stderr)


def click_and_award() -> None:
    from chorus.domain.content import Content
    from chorus.domain.employee import Employee
    from chorus.domain.scoring import Award, AwardKind
    from chorus.services.clicks import ClickService
    from chorus.store import keys
    from chorus.store.links import LinkStore
    from chorus.store.scores import ScoreStore

    ddb = boto3.client("dynamodb", region_name=REGION)
    code = "abcdefghjkmn"
    ddb.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": keys.link_pk(code)},
            "SK": {"S": keys.META},
            "entity": {"S": "link"},
            "code": {"S": code},
            "employee_id": {"S": "e-00000001"},
            "content_id": {"S": "c-1"},
            "network": {"S": "x"},
            "target": {"S": "https://example.com/news"},
            "campaign": {"S": "launch"},
            "created_at": {"S": "2026-11-23"},
        },
    )
    clicks = ClickService(LinkStore(ddb, TABLE), b"bench-secret")
    with count_aws_calls(ddb) as calls:
        clicks.follow(
            code,
            method="GET",
            ip="203.0.113.9",
            user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
            headers={"accept-language": "fr"},
        )
    print(f"\nclick (counted): {calls.total()} calls (target <= 2) {'PASS' if calls.total() <= 2 else 'FAIL'}")
    print(format_counts(calls.by_operation()))
    store = ScoreStore(ddb, TABLE)
    employee = Employee(employee_id="e-00000001", email="p@example.com", name="P", groups=["sales", "paris"])
    content = Content(content_id="c-1", title="t", url="https://example.com", text="x")
    award = Award(
        event_id="approved#a-1",
        kind=AwardKind.APPROVED,
        employee_id=employee.employee_id,
        points=content.points,
        occurred_at=datetime.now(UTC),
        content_id="c-1",
        network="x",
    )
    with count_aws_calls(ddb) as calls:
        store.award(award, name=employee.name, groups=employee.groups, hidden=False)
    target = {"dynamodb.BatchGetItem": 1, "dynamodb.TransactWriteItems": 1}
    verdict = "PASS" if calls.by_operation() == target else "FAIL"
    print(f"award (2 groups): {calls.total()} call(s) (target: read the scores, 1 transaction) {verdict}")
    print(format_counts(calls.by_operation()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ[name] = value
    os.environ["AWS_DEFAULT_REGION"] = REGION
    with mock_aws():
        create_table(boto3.client("dynamodb", region_name=REGION), TABLE, template_resources()["Table"]["Properties"])
        board(sorted(int(size) for size in args.sizes.split(",")))
        click_and_award()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
