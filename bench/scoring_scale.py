"""Scoring at scale: /me ranks, awards at the maximum group count, reports and the team board.

    python -m bench.scoring_scale [--employees 10000,100000] [--check]

Under moto's ``mock_aws``, with the table built from template.yaml:

1. **Rank.** For each size N: N score items on the month board (a skewed distribution with many
   ties, as real months have) and the histogram the scorer would have written for them. Then
   /me's standing for employees at chosen true places (1 ... N): the place shown against the
   true place (sorted in Python by the board's order), the calls, and the read units. moto's
   ReturnConsumedCapacity is asked for and printed, but it is a constant per call, not DynamoDB's
   figure: read units are computed from the sizes of the items each call reads, by DynamoDB's
   rules (item size = attribute names + values; a Query is billed on the sum of the entries it
   evaluates, rounded up to 4 KB; a GetItem or each BatchGetItem item on its own size; eventually
   consistent: half a unit per 4 KB). The bound per /me at a million employees follows.
2. **Award at the maximum group count.** One approval through the scoring store for an employee
   in 0, 1, 2, 18, 19 and 50 groups (50: the most a roster row may list): transactions and items
   per transaction (target <= 25: moto and the local cloud refuse more; AWS refuses over 100).
3. **Reports and team board** at the largest N: the census (roster read), the team board and
   the summary as the admin API answers them (calls, bytes, time), and a full export as the report
   function produces it (calls, file bytes, time, peak Python memory, moto included).
4. **The report function's own cost** per export of 100,000 and 1,000,000 employees
   (``--export-rows``): board pages from memory, files to /tmp; CPU and peak Python memory.

``--check`` exits 1 when a shown place is false, a transaction exceeds 25 items or an API
answer exceeds 1 MB. Figures, not a test; moto's latency is not DynamoDB's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers/chorus"))

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from bench.aws_calls import count_aws_calls  # noqa: E402
from bench.ingest_scale import create_bucket, create_table, moto_transactions_without_table_copies, template_resources  # noqa: E402

REGION = "eu-west-1"
TABLE = "chorus-bench-scoring"
BUCKET = "chorus-bench-scoring-uploads"
QUEUE = "chorus-bench-reports"
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
GROUPS = [f"team-{n:03d}" for n in range(200)]
CAMPAIGNS = [f"campaign-{n:02d}" for n in range(20)]
UNIT = 4096
RESPONSE_LIMIT = 1024 * 1024  # what --check allows an API answer (Lambda refuses 6 MB)


# ---------------------------------------------------------------- item sizes (DynamoDB's rules)


def value_size(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float | Decimal):
        digits = len(str(abs(Decimal(value))).replace(".", "").strip("0")) or 1
        return math.ceil(digits / 2) + 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, list):
        return 3 + sum(value_size(element) + 1 for element in value)
    if isinstance(value, dict):
        return 3 + sum(len(str(name).encode()) + value_size(element) + 1 for name, element in value.items())
    raise TypeError(type(value))


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(total_bytes: int) -> float:
    """Eventually consistent reads (what the code asks for; GSI reads always are)."""
    return math.ceil(total_bytes / UNIT) * 0.5 if total_bytes else 0.5


# ---------------------------------------------------------------- recording what DynamoDB answers


@contextmanager
def responses(client: Any) -> Iterator[list[tuple[str, dict[str, Any], dict[str, Any]]]]:
    """(operation, request, parsed response) of every call, with ReturnConsumedCapacity asked."""
    seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    pending: dict[int, dict[str, Any]] = {}

    def ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        pending[id(model)] = dict(params)

    def answered(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, pending.pop(id(model), {}), parsed))

    client.meta.events.register("before-parameter-build.dynamodb.*", ask_capacity, unique_id="bench-capacity")
    client.meta.events.register("after-call.dynamodb.*", answered, unique_id="bench-answers")
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.*", unique_id="bench-capacity")
        client.meta.events.unregister("after-call.dynamodb.*", unique_id="bench-answers")


def plain(item: dict[str, Any]) -> dict[str, Any]:
    from chorus.store.codec import from_dynamo

    return from_dynamo(item)


def billed(calls: list[tuple[str, dict[str, Any], dict[str, Any]]], entry_size: int) -> tuple[float, float]:
    """(read units computed from item sizes, read units moto reported) of the calls."""
    computed = reported = 0.0
    for operation, _request, answer in calls:
        consumed = answer.get("ConsumedCapacity")
        for capacity in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            reported += float(capacity.get("CapacityUnits", 0))
        if operation == "GetItem":
            computed += read_units(item_size(plain(answer["Item"])) if "Item" in answer else 0)
        elif operation == "BatchGetItem":
            found = [plain(item) for items in answer.get("Responses", {}).values() for item in items]
            computed += sum(read_units(item_size(item)) for item in found) or 0.5
        elif operation == "Query":
            if "Items" in answer:
                computed += read_units(sum(item_size(plain(item)) for item in answer["Items"]))
            else:  # Select=COUNT: billed on the entries evaluated, which it does not return
                computed += read_units(int(answer.get("ScannedCount", 0)) * entry_size)
    return computed, reported


# ---------------------------------------------------------------- 1. ranks


def month() -> str:
    from chorus.domain.scoring import Period, period_keys

    return period_keys(NOW)[Period.MONTH]


def board_scores(size: int) -> list[int]:
    """A month's scores: most people approve a post or two (10 points each), few a lot; clicks
    add 2 points each. Many ties, as on a real board."""
    rng = random.Random(size)
    return [10 * min(int(rng.paretovariate(1.3)), 60) + 2 * min(int(rng.expovariate(0.3)), 40) for _ in range(size)]


def fill_board(size: int) -> list[dict[str, Any]]:
    """Score items as the scorer writes them, and their histogram spread over its shards."""
    from chorus.domain.scoring import HISTOGRAM_SHARDS, bucket_attribute, score_bucket
    from chorus.store import keys

    table = boto3.resource("dynamodb", region_name=REGION).Table(TABLE)
    items = []
    shards: list[Counter[int]] = [Counter() for _ in range(HISTOGRAM_SHARDS)]
    rng = random.Random(-size)
    with table.batch_writer() as batch:
        for n, score in enumerate(board_scores(size)):
            employee = f"e-{n:020x}"  # the shape of employee_id_for(): 'e-' and 20 hex digits
            item = {
                "PK": keys.employee_pk(employee),
                "SK": keys.score_sk(month(), "*"),
                "entity": "score",
                "employee_id": employee,
                "name": f"Firstname Lastname{n}",
                "score": score,
                "approvals": score // 10,
                "reached_at": (NOW - timedelta(microseconds=rng.randrange(10**12))).isoformat(timespec="microseconds"),
                "period": month(),
                "scope": "*",
                "GSI3PK": keys.leaderboard_pk(month(), "*"),
            }
            batch.put_item(Item=item)
            items.append(item)
            shards[rng.randrange(HISTOGRAM_SHARDS)][score_bucket(score)] += 1
    for shard, counts in enumerate(shards):
        table.put_item(
            Item={
                "PK": keys.histogram_pk(month(), shard),
                "SK": keys.HISTOGRAM,
                "entity": "histogram",
                **{bucket_attribute(bucket): count for bucket, count in counts.items()},
            }
        )
    return items


def ranks(size: int, problems: list[str]) -> tuple[dict[str, float], list[dict[str, Any]]]:
    from chorus.domain.scoring import EXACT_RANK_LIMIT
    from chorus.store.scores import ScoreStore

    started = time.perf_counter()
    items = fill_board(size)
    print(f"  (board of {size:,} filled in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    board = sorted(items, key=lambda row: (-row["score"], row["reached_at"], row["employee_id"]))
    entry_size = max(item_size(item) for item in items)
    ddb = boto3.client("dynamodb", region_name=REGION)
    store = ScoreStore(ddb, TABLE)
    places = [p for p in (1, 2, 10, 100, 500, 999, 1000, 1001, 1500, 5000, size // 2, size) if p <= size]
    print(f"\n### Rank on a board of {size:,} employees (largest index entry {entry_size} B)\n")
    print("| true place | score | shown on /me | true? | calls | read units (item sizes) | moto's ConsumedCapacity |")
    print("|---|---|---|---|---|---|---|")
    worst = {"exact": 0.0, "bounded": 0.0}
    for place in sorted(set(places)):
        row = board[place - 1]
        with count_aws_calls(ddb) as calls, responses(ddb) as answers:
            standing = store.standing(row["employee_id"], month(), "*")
        computed, reported = billed(answers, entry_size)
        if standing.rank is not None:
            shown, true = f"#{standing.rank}", standing.rank == place
            worst["exact"] = max(worst["exact"], computed)
        else:
            assert standing.top_percent is not None and standing.among is not None
            shown = f"top {standing.top_percent}% of {standing.among:,}"
            true = place <= standing.top_percent * standing.among / 100 and standing.among == size
            worst["bounded"] = max(worst["bounded"], computed)
        if not true:
            problems.append(f"rank at {size}: place {place} shown as {shown}")
        print(
            f"| {place:,} | {row['score']} | {shown} | {'yes' if true else 'NO'} | {calls.total()} "
            f"({', '.join(f'{n} {op.split(".")[1]}' for op, n in sorted(calls.by_operation().items()))}) "
            f"| {computed:g} | {reported:g} |"
        )
    print(
        f"\nExact when at most {EXACT_RANK_LIMIT:,} people have as many points or more (ties by who reached the score"
        " first, as on the board); otherwise the share of everyone with points, from the histogram."
    )
    return {**worst, "entry_size": float(entry_size)}, items


def rank_bound(entry_size: int) -> None:
    from chorus.domain.scoring import EXACT_RANK_LIMIT, HISTOGRAM_SHARDS

    # A histogram shard holds at most one attribute per bucket: below 100 one per score, above two
    # significant digits per power of ten (90 buckets); scores up to 10^6 -> 100 + 4 * 90 buckets.
    buckets = 100 + 4 * 90
    shard_bytes = 60 + buckets * (len("h990000") + 5)
    # The names here are 21-25 characters; the roster allows 200.
    longest_names = entry_size - len("Firstname Lastname99999") + 200

    def bound(entry: int) -> float:
        count = read_units(EXACT_RANK_LIMIT * entry)
        return read_units(300) + HISTOGRAM_SHARDS * read_units(shard_bytes) + count + 2 * read_units(2 * 300)

    skipped = bound(entry_size) - read_units(EXACT_RANK_LIMIT * entry_size)
    print(
        f"\n**Read units per /me at any size (1M employees included), at most:** {bound(entry_size):g} = own score 0.5"
        f" + histogram {HISTOGRAM_SHARDS} shards x {read_units(shard_bytes):g}"
        f" (<= {shard_bytes:,} B each, {buckets} buckets) + the count of at most {EXACT_RANK_LIMIT:,} index entries"
        f" x {entry_size} B = {read_units(EXACT_RANK_LIMIT * entry_size):g} + 2 neighbour Queries x 0.5;"
        f" {bound(longest_names):g} if every one of those entries held a 200-character name. When the histogram"
        f" shows {EXACT_RANK_LIMIT:,} people or more ahead the count is skipped: {skipped:g} units."
    )


# ---------------------------------------------------------------- 2. awards


def awards(problems: list[str]) -> None:
    from chorus.domain.scoring import Award, AwardKind
    from chorus.store.scores import MAX_TRANSACTION_ITEMS, ScoreStore

    ddb = boto3.client("dynamodb", region_name=REGION)
    store = ScoreStore(ddb, TABLE)
    print("\n### Award at the maximum group count\n")
    print("| groups | transactions | items per transaction | items in all | before: one transaction of |")
    print("|---|---|---|---|---|")
    for count in (0, 1, 2, 18, 19, 50):
        award = Award(
            event_id=f"approved#bench-{count}",
            kind=AwardKind.APPROVED,
            employee_id=f"e-bench-{count}",
            points=10,
            occurred_at=NOW,
            content_id="c-1",
            network="linkedin",
            campaign="launch",
        )
        with count_aws_calls(ddb, keep_requests=True) as calls:
            store.award(award, name="Bench", groups=GROUPS[:count], hidden=False)
        sizes = [len(params["TransactItems"]) for op, params in calls.requests if op == "dynamodb.TransactWriteItems"]
        if max(sizes) > MAX_TRANSACTION_ITEMS:
            problems.append(f"award with {count} groups: a transaction of {max(sizes)} items")
        old = 8 + 5 * count
        verdict = "refused by AWS (> 100)" if old > 100 else "refused by moto (> 25)" if old > 25 else "ok"
        print(f"| {count} | {len(sizes)} | {', '.join(map(str, sizes))} | {sum(sizes)} | {old} items: {verdict} |")
    print(f"\nTarget: at most {MAX_TRANSACTION_ITEMS} items per transaction (moto and the local cloud refuse more).")


# ---------------------------------------------------------------- 3. reports and team board


def fill_roster_and_counters(items: list[dict[str, Any]]) -> None:
    """Profiles on the roster index for every employee on the board (1 to 3 groups each), and the
    month's counters per campaign and group over the counter shards."""
    from chorus.domain.scoring import STATS_SHARDS
    from chorus.store import keys

    table = boto3.resource("dynamodb", region_name=REGION).Table(TABLE)
    rng = random.Random(7)
    with table.batch_writer() as batch:
        for item in items:
            employee = item["employee_id"]
            batch.put_item(
                Item={
                    "PK": keys.employee_pk(employee),
                    "SK": keys.PROFILE,
                    "entity": "employee",
                    "employee_id": employee,
                    "email": f"{employee}@example.com",
                    "name": item["name"],
                    "groups": rng.sample(GROUPS, rng.randint(1, 3)),
                    "timezone": "Europe/Paris",
                    "locale": "fr-FR",
                    "active": True,
                    "GSI2PK": keys.ROSTER_ACTIVE,
                    "GSI2SK": employee,
                }
            )
        for shard in range(STATS_SHARDS):
            rows = [keys.COMPANY_STATS, *map(keys.campaign_stats_sk, CAMPAIGNS), *map(keys.group_stats_sk, GROUPS)]
            for row in rows:
                batch.put_item(
                    Item={
                        "PK": keys.stats_pk(month(), shard),
                        "SK": row,
                        "entity": "stats",
                        **{
                            c: rng.randrange(10_000)
                            for c in ("points", "approvals", "publications", "clicks", "participants")
                        },
                    }
                )


def reports(size: int, items: list[dict[str, Any]], problems: list[str]) -> None:
    from chorus.domain.scoring import Period

    started = time.perf_counter()
    fill_roster_and_counters(items)
    print(f"  (roster and counters filled in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    session = boto3.Session(region_name=REGION)
    with count_aws_calls(session) as calls:
        ddb, s3, sqs = session.client("dynamodb"), session.client("s3"), session.client("sqs")
        service = _service(ddb, s3, sqs)
        print(f"\n### Reports and team board at {size:,} employees\n")
        print("| operation | calls | bytes | time (moto) |")
        print("|---|---|---|---|")

        def measure(name: str, action: Any) -> Any:
            calls.reset()
            started = time.perf_counter()
            result = action()
            elapsed = time.perf_counter() - started
            body = json.dumps(result, default=str).encode() if isinstance(result, dict) else b""
            if body and len(body) > RESPONSE_LIMIT:
                problems.append(f"{name}: {len(body):,} bytes")
            ops = ", ".join(f"{n} {op.split('.')[1]}" for op, n in sorted(calls.by_operation().items()))
            print(f"| {name} | {calls.total()} ({ops}) | {f'{len(body):,}' if body else '-'} | {elapsed:.1f} s |")
            return result

        measure("census (report function, daily): the roster", service.take_census)
        measure("GET /admin/leaderboard/teams", lambda: service.team_board(Period.MONTH))
        measure("GET /admin/reports (summary)", lambda: service.summary(Period.MONTH))
        export = measure("POST /admin/exports", lambda: service.request_export(Period.MONTH).model_dump())
        tracemalloc.start()
        from chorus.adapters.s3_objects import ObjectStore
        from chorus.store.points_reports import ExportStore

        records, files = ExportStore(ddb, TABLE), ObjectStore(s3, BUCKET)
        produced = measure(
            "report function: the export",
            lambda: _produce(service, records, files, export["export_id"]).model_dump(),
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        measure("GET /admin/exports/{id} (ready, links)", lambda: service.export_status(export["export_id"]))
    files = produced["files"]
    print(
        f"\nExport of {produced['employees']:,} employees: CSV {files['csv']['bytes']:,} B, JSON"
        f" {files['json']['bytes']:,} B, peak Python memory {peak / 2**20:.0f} MiB while producing it (moto's"
        " copies of each page included). The JSON file is what GET /admin/reports answered before: past"
        f" Lambda's 6 MB response limit at about {6 * 2**20 * size // max(files['json']['bytes'], 1):,} employees."
    )


def _service(ddb: Any, s3: Any, sqs: Any) -> Any:
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.adapters.sqs_queue import MessageQueue
    from chorus.services.points_reports import PointsReportService
    from chorus.store.catalog import CatalogStore
    from chorus.store.points_reports import CensusStore, ExportStore
    from chorus.store.scores import ScoreStore

    return PointsReportService(
        ScoreStore(ddb, TABLE),
        CensusStore(ddb, TABLE),
        ExportStore(ddb, TABLE),
        files=ObjectStore(s3, BUCKET),
        queue=MessageQueue(sqs, sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"], "report requests"),
        roster=CatalogStore(ddb, TABLE),
        download_ttl_seconds=900,
        now=lambda: NOW,
    )


def _produce(service: Any, records: Any, files: Any, export_id: str) -> Any:
    """The report function's run: the points report produced by the ExportDesk, as in Lambda."""
    from chorus.domain.points_report import ExportKind
    from chorus.services.exports import ExportDesk

    desk = ExportDesk(records, files=files, producers={ExportKind.POINTS: service}, now=lambda: NOW)
    return desk.produce(export_id)


class _Board:
    """Counters and board pages from memory, as DynamoDB pages them (1 MB: about 4,800 rows)."""

    def __init__(self, rows: int) -> None:
        self._rows = rows

    def stats(self, period_key: str) -> list[dict[str, Any]]:
        return [{"dimension": "group", "name": group, "points": 1, "participants": 1} for group in GROUPS]

    def board_pages(self, period_key: str, scope: str) -> Iterator[list[dict[str, Any]]]:
        for start in range(0, self._rows, 4800):
            yield [
                {"employee_id": f"e-{n:020x}", "name": f"Firstname Lastname{n}", "score": 10, "approvals": 1}
                for n in range(start, min(start + 4800, self._rows))
            ]


class _Records:
    def __init__(self) -> None:
        self.export: Any = None

    def create(self, export: Any) -> None:
        self.export = export

    def get(self, export_id: str) -> Any:
        return self.export

    def finish(self, export_id: str, status: Any, finished_at: Any, *, employees: int = 0, files: Any = None) -> bool:
        self.export = self.export.model_copy(update={"status": status, "employees": employees, "files": files or {}})
        return True


class _DiscardingS3:
    """S3 stand-in for the adapter's streamed upload: takes each part, as S3 would, and keeps none,
    so the memory measured is the report function's own (rows and the part being filled)."""

    def create_multipart_upload(self, **_request: Any) -> dict[str, str]:
        return {"UploadId": "bench"}

    def upload_part(self, **request: Any) -> dict[str, str]:
        return {"ETag": f"part-{request['PartNumber']}"}

    def complete_multipart_upload(self, **_request: Any) -> dict[str, str]:
        return {}

    def put_object(self, **_request: Any) -> dict[str, str]:
        return {}


def export_memory(rows: int) -> None:
    """The report function's own memory and CPU for an export of ``rows`` employees: the board's
    pages come from memory, the files are streamed out in 8 MiB parts, nothing else is held."""
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.domain.points_report import Census, Export, ExportStatus
    from chorus.domain.scoring import Period
    from chorus.services.points_reports import PointsReportService

    class _Census:
        def latest(self) -> Census:
            return Census(counted_at=NOW, active=rows, groups={group: rows // 100 for group in GROUPS})

        def save(self, census: Census) -> None:
            pass

    def run() -> Any:
        records = _Records()
        records.create(
            Export(
                export_id="0" * 32,
                period=Period.MONTH,
                period_key=month(),
                status=ExportStatus.PENDING,
                requested_at=NOW,
            )
        )
        files = ObjectStore(cast("Any", _DiscardingS3()), "bench")
        service = PointsReportService(_Board(rows), _Census(), records, files=files, now=lambda: NOW)
        return _produce(service, records, files, "0" * 32)

    started = time.process_time()
    produced = run()
    cpu = time.process_time() - started
    tracemalloc.start()  # a second run: tracing slows Python down several times
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mib = {name: f"{file.bytes / 2**20:.0f} MiB" for name, file in produced.files.items()}
    print(f"| {rows:,} | {cpu:.1f} s | {peak / 2**20:.1f} MiB | {mib['csv']} | {mib['json']} |")


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", default="10000,100000", help="board sizes, comma-separated")
    parser.add_argument("--check", action="store_true", help="exit 1 on a false place or a limit passed")
    parser.add_argument(
        "--export-rows", default="100000,1000000", help="rows of the report function's own memory measure"
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(size) for size in args.employees.split(",")})
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION)
    problems: list[str] = []
    worst: dict[str, float] = {}
    with mock_aws(), moto_transactions_without_table_copies() as cancelled:
        resources = template_resources()
        create_bucket(boto3.client("s3", region_name=REGION), BUCKET, resources["UploadsBucket"]["Properties"])
        boto3.client("sqs", region_name=REGION).create_queue(QueueName=QUEUE)
        for size in sizes:
            create_table(boto3.client("dynamodb", region_name=REGION), TABLE, resources["Table"]["Properties"])
            figures, items = ranks(size, problems)
            for name, value in figures.items():
                worst[name] = max(worst.get(name, 0.0), value)
            if size == sizes[-1]:
                reports(size, items, problems)
            boto3.client("dynamodb", region_name=REGION).delete_table(TableName=TABLE)
        rank_bound(int(worst["entry_size"]))
        print(f"\nMost read units measured per /me: {worst['exact']:g} (exact place), {worst['bounded']:g} (top p%)")
        create_table(boto3.client("dynamodb", region_name=REGION), TABLE, resources["Table"]["Properties"])
        awards(problems)
    print("\n### The report function's own CPU and memory per export (pages from memory, files to /tmp)\n")
    print("| employees | CPU | peak Python memory | CSV | JSON |")
    print("|---|---|---|---|---|")
    for rows in sorted({int(n) for n in args.export_rows.split(",")}):
        export_memory(rows)
    if cancelled:
        problems.append(f"{len(cancelled)} cancelled transaction(s): moto did not roll them back here")
    print(
        "\n"
        + (
            "PASS: every place shown was true, every transaction <= 25 items, every answer < 1 MB"
            if not problems
            else "FAIL:\n  " + "\n  ".join(problems)
        )
    )
    return 1 if problems and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
