"""AWS calls of the admin console's pages (moto in-process, the OIDC issuer faked with `responses`).

    python -m bench.console_calls [--employees 10000]

Loads a roster of N employees (ingest), takes the census (the report function's daily job),
writes twelve months of the scorer's company counters, then signs in and counts the calls of
each console request: the sign-in POST, the callback, GET /console (the Overview), its CSV, the
compliance review queue (GET /console/review, with a page of approvals waiting) and one decision
(POST /console/review), and sign-out. Target: at most 5 calls per page, whatever N (the Overview
reads aggregates only; the review queue is one Query of its sparse listing).
Figures, not a test: exit status 0 unless something raises.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
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
    # The review page schedules and emails (ReviewerSettings).
    "REVIEW_EDITED_POSTS": "true",
    "SCHEDULE_GROUP": "chorus-bench-posts",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/chorus-bench-scheduler",
    "SCHEDULE_DLQ_ARN": "arn:aws:sqs:eu-west-1:123456789012:chorus-bench-schedule-failures",
    "SHARED_PUBLISH_QUEUE_ARN": "arn:aws:sqs:eu-west-1:123456789012:chorus-bench-publish",
    "MAGIC_LINK_SECRET_ID": "chorus-bench-links",
    "SENDER_EMAIL": "chorus@example.com",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "AWS_DEFAULT_REGION": REGION,
}
LINK_KEYS = '{"current": "k1", "k1": "bench-key-0123456789abcdef0123456789abcdef"}'
ADMIN = {"sub": "bench-admin", "name": "Bench Admin", "cognito:groups": ["chorus-admins"]}


def setup() -> None:
    from tests.support.fake_oidc import ISSUER

    os.environ.update({**ENV, "OIDC_ISSUER": ISSUER})
    resources = template_resources()
    create_table(boto3.client("dynamodb", region_name=REGION), TABLE, resources["Table"]["Properties"])
    create_bucket(boto3.client("s3", region_name=REGION), BUCKET, resources["UploadsBucket"]["Properties"])
    boto3.client("scheduler", region_name=REGION).create_schedule_group(Name=ENV["SCHEDULE_GROUP"])
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="example.com")
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=ENV["MAGIC_LINK_SECRET_ID"],
        SecretString='{"current": "k1", "k1": "bench-key-0123456789abcdef0123456789abcdef"}',
    )


QUEUED = 30


def waiting_for_review(employees: int) -> None:
    """A page and a half of edited approvals waiting for review, approved through the consent
    service as the employees' pages do."""
    from chorus.adapters.secrets_keys import parse_key_ring
    from chorus.bootstrap import build_consent_service
    from chorus.config import WebSettings
    from chorus.domain.approval import When
    from chorus.domain.content import Network, content_id_for
    from chorus.domain.employee import employee_id_for
    from chorus.domain.magic_links import activity_scope, sign_link
    from chorus.services.consent import ApprovalRequest

    os.environ.update(
        {
            "SANDBOX_ENABLED": "true",
            "TOKEN_KEY_ID": "unused",
            "OAUTH_CLIENTS_SECRET_ID": "unused",
            "CLICK_SECRET_ID": "unused",
        }
    )
    consent = build_consent_service(WebSettings.from_env())
    ring = parse_key_ring(LINK_KEYS)
    content_id = content_id_for("bench-0", "", "")
    for n in range(min(QUEUED, employees)):
        employee_id = employee_id_for(f"person{n}@example.com")
        token = sign_link(ring, employee_id, activity_scope(content_id), datetime.now(UTC) + timedelta(days=1))
        consent.approve(
            token,
            ApprovalRequest(
                networks=[Network.SANDBOX],
                texts={Network.SANDBOX: f"Share me, in my words {n}"},
                when=When.NOW,
                at_local=None,
                timezone="Europe/Paris",
                user_agent="bench",
                content_version=1,
            ),
        )


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

        def measured(name: str, method: str, path: str, *, action: bool = False, **fields: Any) -> dict[str, Any]:
            calls.reset()
            response = request(method, path, jar, **fields)
            if response["statusCode"] not in {200, 303}:
                raise RuntimeError(f"{name} answered {response['statusCode']}")
            if action:  # a decision, not a page: its calls are shown, the page target is not its
                print(f"{name}: {calls.total()} calls (an action, not a page: its writes, schedule and email included)")
            else:
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
        queue = measured("GET /console/review (queue)", "GET", "/console/review")
        waiting = re.findall(
            r'name="employee_id" value="([^"]+)">\s*<input type="hidden" name="content_id" value="([^"]+)"',
            queue["body"],
        )[::2]  # each post has two forms: approve, reject
        assert len(waiting) >= 3, "the review queue shows fewer posts than were approved"
        review_csrf = re.search(r'name="csrf" value="([^"]+)"', queue["body"])
        assert review_csrf, "the review page has no form"
        for label, (employee, content), decision, note in (
            ("approve, first in the container: the link key is read", waiting[0], "approve", ""),
            ("approve", waiting[1], "approve", ""),
            ("reject", waiting[2], "reject", "Not this one"),
        ):
            form = {"csrf": review_csrf.group(1), "employee_id": employee, "content_id": content, "network": "sandbox"}
            form |= {"revision": "1", "decision": decision, "note": note}
            measured(f"POST /console/review ({label})", "POST", "/console/review", action=True, body=urlencode(form))
        csrf = re.search(r'name="csrf" value="([^"]+)"', overview["body"])
        assert csrf, "the Overview has no sign-out form"
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
        waiting_for_review(args.employees)
        print(f"## Admin console, {args.employees} employees ({active} active in the census)")
        figures = pages()
    worst = max(figures.values())
    print(f"most calls of a console request: {worst} (target <= {TARGET}) {'PASS' if worst <= TARGET else 'FAIL'}")
    print("(a session's last_seen is written at most once a minute: one more UpdateItem then)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
