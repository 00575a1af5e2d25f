"""AWS calls of the admin console's pages (moto in-process, the OIDC issuer faked with `responses`).

    python -m bench.console_calls [--employees 10000]

Loads a roster of N employees (ingest), takes the census (the report function's daily job),
writes twelve months of the scorer's company counters, then signs in and counts the calls of
each console request: the sign-in POST, the callback, GET /console (the Overview), its CSV, the
Digest page (history, a preview by address then by id, its framed HTML, a test copy, send now),
the Leaderboards (a board, its CSV, the team board), and sign-out. Target: at most 5 calls per
page, whatever N (pages read aggregates and single items, never the roster).
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
    "DIGEST_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/chorus-bench-digests",
    "DIGEST_PLAN_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/chorus-bench-digest-pages",
    "SENDER_EMAIL": "chorus@example.com",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "AWS_DEFAULT_REGION": REGION,
}
ADMIN = {
    "sub": "bench-admin",
    "name": "Bench Admin",
    "email": "bench-admin@example.com",
    "email_verified": True,
    "cognito:groups": ["chorus-admins"],
}


def setup() -> None:
    from tests.support.fake_oidc import ISSUER

    os.environ.update({**ENV, "OIDC_ISSUER": ISSUER})
    resources = template_resources()
    create_table(boto3.client("dynamodb", region_name=REGION), TABLE, resources["Table"]["Properties"])
    create_bucket(boto3.client("s3", region_name=REGION), BUCKET, resources["UploadsBucket"]["Properties"])
    sqs = boto3.client("sqs", region_name=REGION)
    for name in ("chorus-bench-digests", "chorus-bench-digest-pages"):
        sqs.create_queue(QueueName=name)
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")


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


def pages() -> dict[str, int]:
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
        token = csrf.group(1)
        measured("GET /console/digest (history)", "GET", "/console/digest")
        found = measured(
            "POST /console/digest/find (by address)",
            "POST",
            "/console/digest/find",
            body=urlencode({"csrf": token, "employee": "person7@example.com"}),
        )
        employee_id = found["headers"]["Location"].rsplit("=", 1)[-1]
        measured("GET /console/digest (preview)", "GET", "/console/digest", query={"employee": employee_id})
        measured(
            "GET /console/digest/preview.html", "GET", "/console/digest/preview.html", query={"employee": employee_id}
        )
        measured(
            "POST /console/digest/test",
            "POST",
            "/console/digest/test",
            body=urlencode({"csrf": token, "employee": employee_id}),
        )
        measured(
            "POST /console/digest/send",
            "POST",
            "/console/digest/send",
            body=urlencode({"csrf": token, "confirm": "yes"}),
        )
        measured("GET /console/leaderboards", "GET", "/console/leaderboards", query={"period": "quarter"})
        measured("GET /console/leaderboards.csv", "GET", "/console/leaderboards.csv")
        measured("GET /console/leaderboards/teams", "GET", "/console/leaderboards/teams")
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
        print(f"## Admin console, {args.employees} employees ({active} active in the census)")
        figures = pages()
    worst = max(figures.values())
    print(f"most calls of a console request: {worst} (target <= {TARGET}) {'PASS' if worst <= TARGET else 'FAIL'}")
    print("(a session's last_seen is written at most once a minute: one more UpdateItem then)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
