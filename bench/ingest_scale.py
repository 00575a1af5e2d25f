"""AWS calls made by the ingest service for 10,000-row content and roster uploads (moto, in-process).

The table, idempotency table and bucket are created from template.yaml's own properties, so the
benchmark follows the template. For each scenario it prints the DynamoDB and S3 calls by
operation and compares DynamoDB *write* calls with the target ``ceil(changed rows / 25) + 5``.

    python -m bench.ingest_scale [--rows 10000]

Scenarios: content upload, roster upload, the same files uploaded again (a new S3 version with
identical bytes: target 0 writes), a content file with 1% of rows changed, and an S3
notification delivered twice through the ingest function's runtime (Powertools idempotency).
Figures, not a test: the exit status is 0 unless something raises.
"""

from __future__ import annotations

import argparse
import copy
import csv
import inspect
import io
import math
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, cast

import boto3
import moto.dynamodb.models as moto_dynamodb_models
import yaml
from moto import mock_aws
from moto.dynamodb.models.table import Table as MotoTable

from bench.aws_calls import AwsCalls, count_aws_calls, format_counts

ROOT = Path(__file__).resolve().parents[1]
REGION = "eu-west-1"
TABLE_NAME = "chorus-bench-table"
IDEMPOTENCY_TABLE_NAME = "chorus-bench-idempotency"
BUCKET = "chorus-bench-uploads"
TRANSACTION_ROWS = 25  # rows per write call the target assumes
WRITE_OVERHEAD_TARGET = 5
DYNAMODB_WRITE_OPS = frozenset(
    {"BatchWriteItem", "TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchExecuteStatement"}
)
CONTENT_COLUMNS = [
    "id",
    "title",
    "url",
    "text",
    "text_linkedin",
    "text_x",
    "text_mastodon",
    "image_url",
    "campaign",
    "tags",
    "groups",
    "starts_at",
    "ends_at",
    "points",
]
ROSTER_COLUMNS = ["email", "name", "groups", "timezone", "locale", "active"]
GROUPS = ["sales", "engineering", "marketing", "support", "finance", "paris", "berlin", "remote"]
TIMEZONES = ["Europe/Paris", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]


# ---------------------------------------------------------------- template


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short tags as ``{"Ref": ...}`` / ``{"Fn::X": ...}``."""


def _cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def template_resources() -> dict[str, Any]:
    with (ROOT / "template.yaml").open(encoding="utf-8") as fh:
        template = yaml.load(fh, Loader=_CfnLoader)
    resources: dict[str, Any] = template["Resources"]
    return resources


def create_table(client: Any, name: str, props: dict[str, Any]) -> None:
    """CreateTable (+ UpdateTimeToLive) from an AWS::DynamoDB::Table's CloudFormation properties."""
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            {key: gsi[key] for key in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput") if key in gsi}
            for gsi in props["GlobalSecondaryIndexes"]
        ]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        request["SSESpecification"] = {"Enabled": True}
    client.create_table(**request)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )


def create_bucket(client: Any, name: str, props: dict[str, Any]) -> None:
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    versioning = props.get("VersioningConfiguration", {}).get("Status")
    if versioning:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})


def ingest_policy(resources: dict[str, Any]) -> list[tuple[set[str], list[str]]]:
    """IngestFunction's Allow statements as (actions, resource patterns) in bench names.

    ``!GetAtt Table.Arn`` becomes ``table/<bench table>``; the uploads bucket ARN pattern becomes
    ``arn:aws:s3:::<bench bucket>/...``. Anything else is kept as an unmatchable pattern.
    """
    tables = {"Table": TABLE_NAME, "IdempotencyTable": IDEMPOTENCY_TABLE_NAME}
    allows: list[tuple[set[str], list[str]]] = []
    for policy in resources["IngestFunction"]["Properties"].get("Policies", []):
        for stmt in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if stmt.get("Effect") != "Allow":
                continue
            action = stmt.get("Action", [])
            patterns: list[str] = []
            for res in stmt.get("Resource", []) if isinstance(stmt.get("Resource"), list) else [stmt["Resource"]]:
                get_att = res.get("Fn::GetAtt") if isinstance(res, dict) else None
                sub = res.get("Fn::Sub") if isinstance(res, dict) else None
                if isinstance(get_att, str) and get_att.split(".")[0] in tables:
                    patterns.append(f"table/{tables[get_att.split('.')[0]]}")
                elif isinstance(sub, str):
                    text = re.sub(r"chorus-\$\{Stage\}-uploads-\$\{AWS::AccountId\}-\$\{AWS::Region\}", BUCKET, sub)
                    patterns.append(text.replace("${AWS::Partition}", "aws"))
                else:
                    patterns.append(str(res))
            allows.append(({action} if isinstance(action, str) else set(action), patterns))
    return allows


_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def required_permissions(operation: str, params: dict[str, Any]) -> set[tuple[str, str]]:
    """(IAM action, resource) pairs one call needs; resources in the form ingest_policy() uses."""
    service, _, name = operation.partition(".")
    if service == "dynamodb":
        if name == "TransactWriteItems":
            return {
                (_TRANSACT_ACTIONS[kind], f"table/{op['TableName']}")
                for item in params["TransactItems"]
                for kind, op in item.items()
            }
        if name == "TransactGetItems":
            return {("dynamodb:GetItem", f"table/{item['Get']['TableName']}") for item in params["TransactItems"]}
        if name in {"BatchGetItem", "BatchWriteItem"}:
            return {(f"dynamodb:{name}", f"table/{table}") for table in params["RequestItems"]}
        return {(f"dynamodb:{name}", f"table/{params.get('TableName')}")}
    if service == "s3":
        arn = f"arn:aws:s3:::{params.get('Bucket')}/{params.get('Key', '')}"
        if name == "GetObject" and params.get("VersionId"):
            return {("s3:GetObject", arn), ("s3:GetObjectVersion", arn)}
        if name == "HeadObject":
            return {("s3:GetObject", arn)}
        return {(f"s3:{name}", arn)}
    return {(f"{service}:{name}", "*")}


def check_policy(resources: dict[str, Any], calls: list[AwsCalls]) -> None:
    """Does IngestFunction's policy in template.yaml allow every call the ingest code made?"""
    allows = ingest_policy(resources)
    needed: set[tuple[str, str]] = set()
    for counted in calls:
        for operation, params in counted.requests:
            needed |= required_permissions(operation, params)
    denied = sorted(
        (action, resource)
        for action, resource in needed
        if not any(action in actions and any(fnmatch(resource, p) for p in patterns) for actions, patterns in allows)
    )
    print("\n== IngestFunction policy (template.yaml) vs the calls the ingest code made")
    print(f"   actions used: {', '.join(sorted({action for action, _ in needed}))}")
    if denied:
        print("   NOT ALLOWED by the policy (AccessDenied on AWS):")
        for action, resource in denied:
            print(f"     {action:<28} {resource}")
    else:
        print("   all allowed")


# ---------------------------------------------------------------- data


def content_csv(rows: int, *, changed_every: int = 0, revision: int = 0) -> bytes:
    """``rows`` valid content rows; with ``changed_every=n`` every n-th row's title differs."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CONTENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i in range(rows):
        changed = changed_every and i % changed_every == 0
        title = f"Announcement {i}" + (f" (rev {revision})" if changed else "")
        writer.writerow(
            {
                "id": f"post-{i:06d}",
                "title": title,
                "url": f"https://example.com/news/{i}",
                "text": f"We shipped thing number {i}. Read all about it.",
                "text_linkedin": f"Proud of the team: thing {i} is live. #shipping",
                "text_x": f"Thing {i} is live!",
                "text_mastodon": f"Thing {i} is live, details on our blog.",
                "image_url": f"https://example.com/img/{i}.png" if i % 3 == 0 else "",
                "campaign": f"campaign-{i % 20}",
                "tags": ";".join(["launch", f"t{i % 7}"]),
                "groups": ";".join(sorted({GROUPS[i % len(GROUPS)], GROUPS[(i * 7) % len(GROUPS)]})),
                "starts_at": "2026-01-05",
                "ends_at": "2026-12-31T23:00:00Z",
                "points": str(10 + i % 50),
            }
        )
    return out.getvalue().encode()


def roster_csv(rows: int, start: int = 0) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i in range(start, start + rows):
        writer.writerow(
            {
                "email": f"employee{i:05d}@example.com",
                "name": f"Employee {i}",
                "groups": ";".join(sorted({GROUPS[i % len(GROUPS)], GROUPS[(i // 3) % len(GROUPS)]})),
                "timezone": TIMEZONES[i % len(TIMEZONES)],
                "locale": "fr" if i % 4 == 0 else "en",
                "active": "false" if i % 50 == 0 else "true",
            }
        )
    return out.getvalue().encode()


# ---------------------------------------------------------------- running


@dataclass
class Result:
    name: str
    rows: int
    expected_writes: int
    counts: dict[str, Any]
    calls: AwsCalls
    seconds: float


@contextmanager
def mocked_aws() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION)
    try:
        with mock_aws(), moto_transactions_without_table_copies() as cancelled:
            yield
        if cancelled:
            print(
                f"\nWARNING: {len(cancelled)} TransactWriteItems call(s) were cancelled; moto did not roll them "
                "back in this benchmark (see moto_transactions_without_table_copies), so later figures may be off."
            )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _NoTableCopy:
    """Stands in for the ``copy`` module inside moto.dynamodb.models: tables are not copied."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, MotoTable):
            return value
        return copy.deepcopy(value, memo)


@contextmanager
def moto_transactions_without_table_copies() -> Iterator[list[str]]:
    """Make moto's TransactWriteItems linear instead of quadratic.

    moto backs up a transaction by deep-copying the whole table once *per item* of every call
    (25 copies of a 10,000-item table, with its stream records, per call: hours for this
    benchmark). Here the tables are not copied, so a *cancelled* transaction is not rolled back;
    cancellations are recorded and reported. Successful calls behave exactly as in moto.
    """
    original = moto_dynamodb_models.DynamoDBBackend.transact_write_items
    cancelled: list[str] = []

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            original(self, transact_items)
        except Exception as exc:
            cancelled.append(type(exc).__name__)
            raise

    moto_dynamodb_models.copy = _NoTableCopy  # type: ignore[attr-defined,assignment]
    moto_dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield cancelled
    finally:
        moto_dynamodb_models.DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]
        moto_dynamodb_models.copy = copy  # type: ignore[attr-defined]


def call_ingest(service: Any, key: str, version_id: str | None) -> Any:
    """``ingest_object(key, version_id)``; also accepts a ``bucket`` parameter should it gain one."""
    params = inspect.signature(service.ingest_object).parameters
    if "bucket" in params:
        return service.ingest_object(bucket=BUCKET, key=key, version_id=version_id)
    return service.ingest_object(key, version_id)


def print_result(result: Result) -> None:
    ddb_ops = result.calls.by_operation("dynamodb")
    writes = sum(n for op, n in ddb_ops.items() if op.partition(".")[2] in DYNAMODB_WRITE_OPS)
    target = result.expected_writes
    verdict = "PASS" if writes <= target else "OVER"
    print(f"\n== {result.name}: {result.rows:,} rows in {result.seconds:.1f} s")
    print(f"   report counts: {result.counts}")
    print("   DynamoDB calls:")
    print(format_counts(ddb_ops, "     "))
    print(f"   DynamoDB write calls: {writes:,}  (target <= {target:,}: changed rows/25 + 5)  {verdict}")
    print("   S3 calls:")
    print(format_counts(result.calls.by_operation("s3"), "     "))
    others = {op: n for op, n in result.calls.by_operation().items() if not op.startswith(("dynamodb.", "s3."))}
    if others:
        print(f"   other calls: {others}")


def run(rows: int) -> list[Result]:
    from chorus.bootstrap import build_ingest_service
    from chorus.config import IngestSettings

    resources = template_resources()
    session = boto3.Session(region_name=REGION)
    ddb = session.client("dynamodb")
    s3 = session.client("s3")
    create_table(ddb, TABLE_NAME, resources["Table"]["Properties"])
    create_table(ddb, IDEMPOTENCY_TABLE_NAME, resources["IdempotencyTable"]["Properties"])
    create_bucket(s3, BUCKET, resources["UploadsBucket"]["Properties"])

    env = {"TABLE_NAME": TABLE_NAME, "UPLOADS_BUCKET": BUCKET, "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE_NAME}
    settings = IngestSettings.from_env(env)
    service = build_ingest_service(settings, dynamodb_client=ddb, s3_client=s3)

    results: list[Result] = []

    def scenario(name: str, key: str, body: bytes, changed_rows: int) -> None:
        version = s3.put_object(Bucket=BUCKET, Key=key, Body=body).get("VersionId")
        started = time.perf_counter()
        with count_aws_calls(ddb, s3, keep_requests=True) as calls:
            report = call_ingest(service, key, version)
        expected = math.ceil(changed_rows / TRANSACTION_ROWS) + WRITE_OVERHEAD_TARGET if changed_rows else 0
        counts = report.counts.model_dump() if hasattr(report.counts, "model_dump") else dict(report.counts)
        results.append(Result(name, rows, expected, counts, calls, time.perf_counter() - started))
        print_result(results[-1])

    content = content_csv(rows)
    roster = roster_csv(rows)
    scenario("content upload (new)", "uploads/content/bench.csv", content, rows)
    scenario("roster upload (new)", "uploads/employees/bench.csv", roster, rows)
    scenario("content re-upload (same bytes, new version)", "uploads/content/bench.csv", content, 0)
    scenario("roster re-upload (same bytes, new version)", "uploads/employees/bench.csv", roster, 0)
    changed = content_csv(rows, changed_every=100, revision=1)
    scenario("content upload, 1% of rows changed", "uploads/content/bench.csv", changed, math.ceil(rows / 100))

    extra = redelivery(settings, ddb, s3, rows)
    check_policy(resources, [*(result.calls for result in results), *extra])
    return results


def redelivery(settings: Any, ddb: Any, s3: Any, rows: int) -> list[AwsCalls]:
    """The same S3 notification delivered twice to the ingest runtime (Powertools idempotency)."""
    try:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        from chorus.bootstrap import build_ingest_service
        from chorus.edge.uploads import UploadEvents
    except ImportError as exc:
        print(f"\n== S3 notification redelivered: skipped ({exc})")
        return []
    key = "uploads/employees/redelivered.csv"
    response = s3.put_object(Bucket=BUCKET, Key=key, Body=roster_csv(100, start=rows))
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": BUCKET},
                    "object": {"key": key, "versionId": response.get("VersionId"), "eTag": response["ETag"]},
                },
            }
        ]
    }
    runtime = UploadEvents(
        build_ingest_service(settings, dynamodb_client=ddb, s3_client=s3),
        uploads_bucket=settings.uploads_bucket,
        persistence=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=ddb),
    )
    print("\n== S3 notification for a 100-row roster delivered twice (ingest runtime, idempotency)")
    seen: list[AwsCalls] = []
    for attempt in ("first delivery", "redelivery"):
        with count_aws_calls(ddb, s3, keep_requests=True) as calls:
            runtime.handle(event, cast(Any, _FakeContext()))
        seen.append(calls)
        print(f"   {attempt}:")
        print(format_counts(calls.by_operation(), "     "))
    return seen


class _FakeContext:
    function_name = "bench-ingest"
    memory_limit_in_mb = 1024
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:bench-ingest"
    aws_request_id = "bench-request"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="rows per generated file")
    args = parser.parse_args(argv)
    print(f"Ingest at scale: {args.rows:,}-row files, moto in-process ({sys.executable})")
    with mocked_aws():
        run(args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
