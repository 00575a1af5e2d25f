"""AWS calls of the admin console's pages (moto in-process, the OIDC issuer faked with `responses`).

    python -m bench.console_calls [--employees 10000]

Loads a roster of N employees (ingest), takes the census (the report function's daily job),
writes twelve months of the scorer's company counters, then signs in and counts the calls of
each console request: the sign-in POST, the callback, GET /console (the Overview), its CSV, the
Content pages over a library of LIBRARY items (the library, filtered and searched, an item's
detail and funnel CSV, its edit form and edit, its retraction), and sign-out. Target: at most 5
calls per page, whatever N (the Overview reads aggregates only; the library reads one listing
page, at most three queries when filters leave most items out).
Figures, not a test: exit status 0 unless something raises.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
for folder in ("layers/chorus", "functions/console"):
    sys.path.insert(0, str(ROOT / folder))

import boto3  # noqa: E402
import responses  # noqa: E402
from moto import mock_aws  # noqa: E402

from bench.aws_calls import count_aws_calls, format_counts  # noqa: E402
from bench.consent_calls import seed  # noqa: E402
from bench.ingest_scale import create_bucket, create_table, template_resources  # noqa: E402

REGION = "eu-west-1"
TABLE = "chorus-bench-table"
BUCKET = "chorus-bench-uploads"
TARGET = 5
ENV = {
    "TABLE_NAME": TABLE,
    "UPLOADS_BUCKET": BUCKET,
    "IDEMPOTENCY_TABLE": "unused",
    "ADMIN_GROUP": "chorus-admins",
    "GROUPS_CLAIM": "cognito:groups",
    "OIDC_CLIENT_ID": "chorus-console",
    "PUBLIC_BASE_URL": "https://chorus.example.com",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "AWS_DEFAULT_REGION": REGION,
    "SCHEDULE_GROUP": "chorus-bench-posts",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/chorus-bench-scheduler",
    "SCHEDULE_DLQ_ARN": "arn:aws:sqs:eu-west-1:123456789012:chorus-bench-schedule-failures",
}
LIBRARY = 500
ADMIN = {"sub": "bench-admin", "name": "Bench Admin", "cognito:groups": ["chorus-admins"]}


def setup() -> None:
    from tests.support.fake_oidc import ISSUER

    os.environ.update({**ENV, "OIDC_ISSUER": ISSUER})
    resources = template_resources()
    create_table(boto3.client("dynamodb", region_name=REGION), TABLE, resources["Table"]["Properties"])
    create_bucket(boto3.client("s3", region_name=REGION), BUCKET, resources["UploadsBucket"]["Properties"])


def aggregates() -> int:
    """The census and twelve months of company counters, as the report and scoring functions write them."""
    from chorus.bootstrap import build_points_report_service
    from chorus.config import ReportSettings
    from chorus.domain.overview import last_months
    from chorus.domain.scoring import STATS_SHARDS

    census = build_points_report_service(ReportSettings.from_env()).take_census()
    ddb = boto3.client("dynamodb", region_name=REGION)
    for number, (month, _label) in enumerate(last_months(datetime.now(UTC))):
        for shard in range(STATS_SHARDS):
            counters = {"approvals": 10 + number + shard, "participants": 5 + shard, "points": 100, "clicks": 3}
            item = {"PK": {"S": f"STATS#{month}#{shard}"}, "SK": {"S": "COMPANY"}, "entity": {"S": "stats"}}
            item.update({name: {"N": str(value)} for name, value in counters.items()})
            ddb.put_item(TableName=TABLE, Item=item)
    return census.active


def library() -> str:
    """LIBRARY content items over ten campaigns, uploaded as an admin would; one item's id."""
    import json

    from chorus.bootstrap import build_ingest_service
    from chorus.config import IngestSettings
    from chorus.domain.content import content_id_for

    rows = [
        {
            "id": f"library-{n}",
            "title": f"Library item {n}",
            "url": f"https://example.com/library/{n}",
            "text": "Share me",
            "campaign": f"campaign-{n % 10}",
        }
        for n in range(LIBRARY)
    ]
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key="uploads/content/library.jsonl", Body="\n".join(json.dumps(row) for row in rows).encode()
    )
    build_ingest_service(IngestSettings.from_env()).ingest_object("uploads/content/library.jsonl")
    return content_id_for("library-7", "", "")


def request(method: str, path: str, jar: dict[str, str], **fields: Any) -> dict[str, Any]:
    from tests.support.http_events import http_event
    from tests.support.lambda_context import FakeLambdaContext

    import console_handler  # type: ignore[import-not-found]

    headers = {"host": "chorus.example.com", "sec-fetch-site": "same-origin"}
    body = fields.pop("body", None)
    if body is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
    event = http_event(
        method,
        path,
        route="/console" if path == "/console" else "/console/{proxy+}",
        claims=None,
        body=body,
        headers=headers,
        cookies=[f"{name}={value}" for name, value in jar.items()],
        **fields,
    )
    response: dict[str, Any] = console_handler.lambda_handler(event, FakeLambdaContext())
    for cookie in response.get("cookies") or []:
        name, _, value = cookie.split(";", 1)[0].partition("=")
        if "Max-Age=0" in cookie:
            jar.pop(name, None)
        else:
            jar[name] = value
    return response


def pages(item: str) -> dict[str, int]:
    import re

    from tests.support.fake_oidc import FakeIssuer

    issuer = FakeIssuer()
    jar: dict[str, str] = {}
    figures: dict[str, int] = {}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock, count_aws_calls() as calls:
        mock.add_passthru("https://")
        issuer.install(mock)

        def measured(name: str, method: str, path: str, **fields: Any) -> dict[str, Any]:
            calls.reset()
            response = request(method, path, jar, **fields)
            if response["statusCode"] not in {200, 303}:
                raise RuntimeError(f"{name} answered {response['statusCode']}")
            figures[name] = calls.total()
            verdict = "PASS" if calls.total() <= TARGET else "FAIL"
            print(f"{name}: {calls.total()} calls (target <= {TARGET}) {verdict}")
            print(format_counts(calls.by_operation()))
            return response

        started = measured("POST /console/signin", "POST", "/console/signin", body="")
        answer = issuer.authorize(started["headers"]["Location"], ADMIN)
        measured("GET /console/callback", "GET", "/console/callback", query=answer)
        overview = measured("GET /console (Overview)", "GET", "/console")
        measured("GET /console/overview.csv", "GET", "/console/overview.csv")
        csrf = re.search(r'name="csrf" value="([^"]+)"', overview["body"])
        assert csrf, "the Overview has no sign-out form"
        measured("GET /console/content (Library)", "GET", "/console/content")
        measured(
            "GET /console/content (searched and filtered)",
            "GET",
            "/console/content",
            query={"q": "item 7", "campaign": "campaign-7", "window": "current"},
        )
        measured("GET /console/content/{id} (detail, funnel)", "GET", f"/console/content/{item}")
        measured("GET /console/content/{id}/funnel.csv", "GET", f"/console/content/{item}/funnel.csv")
        form = measured("GET /console/content/{id}/edit", "GET", f"/console/content/{item}/edit")
        version = re.search(r'name="version" value="(\d+)"', form["body"])
        assert version, "the edit form has no version"
        edit = {"csrf": csrf.group(1), "version": version.group(1), "title": "Library item 7, edited", "text": "Mine"}
        measured("POST /console/content/{id}/edit", "POST", f"/console/content/{item}/edit", body=urlencode(edit))
        measured("GET /console/content/{id}/retract", "GET", f"/console/content/{item}/retract")
        measured(
            "POST /console/content/{id}/retract",
            "POST",
            f"/console/content/{item}/retract",
            body=urlencode({"csrf": csrf.group(1)}),
        )
        measured("POST /console/signout", "POST", "/console/signout", body=urlencode({"csrf": csrf.group(1)}))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    args = parser.parse_args(argv)
    with mock_aws():
        setup()
        seed(args.employees)
        active = aggregates()
        item = library()
        print(f"## Admin console, {args.employees} employees ({active} active in the census), {LIBRARY} items")
        figures = pages(item)
    worst = max(figures.values())
    print(f"most calls of a console request: {worst} (target <= {TARGET}) {'PASS' if worst <= TARGET else 'FAIL'}")
    print("(a session's last_seen is written at most once a minute: one more UpdateItem then)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
