"""AWS calls of the admin console's pages (moto in-process, the OIDC issuer faked with `responses`).

    python -m bench.console_calls [--employees 10000]

Puts a roster of N employees (as an upload creates it), writes twelve months and twelve company weeks of the
scorer's company counters (publications per network included), this month's participants of
GROUPS groups, twelve months of participation snapshots, a leaderboard of N scores, a library of
LIBRARY content items, rewards and redemptions, and approvals waiting for review; takes the census
(the report function's daily job, which also snapshots participation by group) and the roll-up
(its quarter-hourly job: team rows, funnel per campaign, top content), then signs in and
counts the calls of each console request, page by page (`pages()`: sign-in, each page's reads and
forms, sign-out). Target: at most 5 calls per page, whatever N: a page reads aggregates, one page
of a listing, or one employee's partition, never the roster. Actions are printed without the page
target: a deactivation costs what it costs through the admin API (4 calls plus 2 per scheduled post
and 1 per network connection), a review decision its writes, schedule and email.
Exit status 1 if a page is over the target or a transaction was cancelled. Exports are not
pages: they run asynchronously to S3 (one enqueue per request).

The roster, content and scores are put as the items an upload and the scorer write (the store's
item builders, 25 a BatchWriteItem), not through the ingest: moto copies the whole table for every
item of a transaction (moto_transactions_without_table_copies turns that off for the rest).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
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
from bench.ingest_scale import (  # noqa: E402
    create_bucket,
    create_table,
    moto_transactions_without_table_copies,
    template_resources,
)

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
    "SCHEDULE_GROUP": "chorus-bench-posts",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/chorus-bench-scheduler",
    "SCHEDULE_DLQ_ARN": "arn:aws:sqs:eu-west-1:123456789012:chorus-bench-schedule-failures",
    "DIGEST_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/chorus-bench-digests",
    "DIGEST_PLAN_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/chorus-bench-digest-pages",
    "REPORT_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/chorus-bench-reports",
    # The review page schedules and emails (ReviewerSettings).
    "REVIEW_EDITED_POSTS": "true",
    "SHARED_PUBLISH_QUEUE_ARN": "arn:aws:sqs:eu-west-1:123456789012:chorus-bench-publish",
    "MAGIC_LINK_SECRET_ID": "chorus-bench-links",
    "SENDER_EMAIL": "chorus@example.com",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "AWS_DEFAULT_REGION": REGION,
}
LINK_KEYS = '{"current": "k1", "k1": "bench-key-0123456789abcdef0123456789abcdef"}'
ADMIN = {
    "sub": "bench-admin",
    "name": "Bench Admin",
    "email": "bench-admin@example.com",
    "email_verified": True,
    "cognito:groups": ["chorus-admins"],
}


LIBRARY = 500


def setup() -> None:
    from tests.support.fake_oidc import ISSUER

    os.environ.update({**ENV, "OIDC_ISSUER": ISSUER})
    resources = template_resources()
    create_table(boto3.client("dynamodb", region_name=REGION), TABLE, resources["Table"]["Properties"])
    create_bucket(boto3.client("s3", region_name=REGION), BUCKET, resources["UploadsBucket"]["Properties"])
    sqs = boto3.client("sqs", region_name=REGION)
    for name in ("chorus-bench-digests", "chorus-bench-digest-pages", "chorus-bench-reports"):
        sqs.create_queue(QueueName=name)
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
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


GROUPS = 200


def aggregates(employees: int) -> int:
    """Company counters of twelve months and weeks, group participants, past participation
    snapshots and a leaderboard, as the scoring function writes them; then the census."""
    from chorus.bootstrap import build_points_report_service
    from chorus.config import ReportSettings
    from chorus.domain.overview import last_months, last_weeks
    from chorus.domain.scoring import STATS_SHARDS
    from chorus.store import keys
    from chorus.store.codec import to_dynamo

    ddb = boto3.client("dynamodb", region_name=REGION)
    now = datetime.now(UTC)
    periods = [key for key, _ in last_months(now) + last_weeks(now, "Europe/Paris")]
    for number, period in enumerate(periods):
        for shard in range(STATS_SHARDS):
            counters = {"approvals": 10 + number + shard, "participants": 5 + shard, "points": 100, "clicks": 3}
            counters |= {"publications": 4, "publications_linkedin": 3, "publications_bluesky": 1}
            item = {"PK": {"S": f"STATS#{period}#{shard}"}, "SK": {"S": "COMPANY"}, "entity": {"S": "stats"}}
            item.update({name: {"N": str(value)} for name, value in counters.items()})
            ddb.put_item(TableName=TABLE, Item=item)
    groups = [f"team-{number:03d}" for number in range(GROUPS)]
    for number, group in enumerate(groups):
        item = {"PK": {"S": f"STATS#{periods[11]}#{number % STATS_SHARDS}"}, "SK": {"S": f"GROUP#{group}"}}
        ddb.put_item(TableName=TABLE, Item=item | {"participants": {"N": str(number % 40)}})
    for month in periods[:11]:
        counts = {group: {"N": str(number % 30)} for number, group in enumerate(groups)}
        sizes = {group: {"N": "50"} for group in groups}
        snapshot = {"PK": {"S": "PARTICIPATION"}, "SK": {"S": month}, "entity": {"S": "participation"}}
        ddb.put_item(TableName=TABLE, Item=snapshot | {"participants": {"M": counts}, "active": {"M": sizes}})
    for first in range(0, employees, SEED_BATCH):
        scores = [
            to_dynamo(
                {
                    "PK": keys.employee_pk(f"bench-{number}"),
                    "SK": keys.score_sk(periods[11], "*"),
                    "entity": "score",
                    "employee_id": f"bench-{number}",
                    "name": f"Person {number}",
                    "GSI3PK": keys.leaderboard_pk(periods[11], "*"),
                    "score": number % 997,
                    "reached_at": now.isoformat(),
                }
            )
            for number in range(first, min(first + SEED_BATCH, employees))
        ]
        put_in_batches(ddb, scores)
    return build_points_report_service(ReportSettings.from_env()).take_census().active


def library() -> str:
    """LIBRARY content items over ten campaigns, as an upload writes them; one item's id."""
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
    put_as_uploaded(contents=rows)
    return content_id_for("library-7", "", "")


def rollup() -> None:
    """The report function's quarter-hourly roll-up over the bench's groups and library: its calls
    per run (16 STATS Queries, a listing Query per 1,000 items and per listing, a BatchGetItem per
    25 items' funnel shards, 3 PutItems), after which the team board and the reports read it."""
    from chorus.bootstrap import build_rollup_job
    from chorus.config import ReportSettings

    job = build_rollup_job(ReportSettings.from_env())
    with count_aws_calls() as calls:
        counted = job.run()
    items, groups = counted["content_items"], counted["teams"]
    # every item is active here: one page of the retracted listing, 1,000 items per active page
    expected = 16 + 1 + max(1, -(-items // 1_000)) + -(-items // 25) + 3
    print(
        f"roll-up job ({items} content items, {groups} groups): {calls.total()} calls"
        f" (16 STATS + 1 per 1,000 items and listing + 1 per 25 items + 3 puts = {expected})"
    )
    print(format_counts(calls.by_operation()))


SEED_BATCH = 1_000  # rows turned into items at a time: 100,000 employees never sit in memory at once


def seed(employees: int) -> None:
    """The roster of N employees (person<n>@example.com) and three content items, as an upload
    creates them: the store's own items (CatalogStore.created_items), put 25 a call. Through the
    ingest, 10,000 rows ran out of memory on moto (a copy of the table per transaction item);
    what the pages read is the same."""
    from chorus.store.digest_zones import DigestZoneStore

    DigestZoneStore(boto3.client("dynamodb", region_name=REGION), TABLE).register(["Europe/Paris"])
    content = [
        {"id": f"bench-{n}", "title": f"News {n}", "url": f"https://example.com/{n}", "text": "Share me"}
        for n in range(3)
    ]
    put_as_uploaded(contents=content)
    for first in range(0, employees, SEED_BATCH):
        roster = [
            {"email": f"person{n}@example.com", "name": f"Person {n}", "timezone": "Europe/Paris"}
            for n in range(first, min(first + SEED_BATCH, employees))
        ]
        put_as_uploaded(employees=roster)


Rows = list[dict[str, Any]]


def put_as_uploaded(*, employees: Rows | None = None, contents: Rows | None = None) -> None:
    """Upload rows (validated by the upload's own row models) put as the items an upload creates."""
    from chorus.domain.content import ContentRow
    from chorus.domain.employee import EmployeeRow
    from chorus.store.catalog import CatalogStore

    ddb = boto3.client("dynamodb", region_name=REGION)
    items = CatalogStore(ddb, TABLE).created_items(
        employees=[EmployeeRow.model_validate(row).to_entity() for row in employees or []],
        contents=[ContentRow.model_validate(row).to_entity() for row in contents or []],
    )
    put_in_batches(ddb, items)


def put_in_batches(ddb: Any, items: list[dict[str, Any]]) -> None:
    for first in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[first : first + 25]]
        while requests:
            left = ddb.batch_write_item(RequestItems={TABLE: requests}).get("UnprocessedItems", {})
            requests = left.get(TABLE, [])


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


def seed_rewards(employees: int) -> str:
    """Ten rewards and up to 60 redemptions (a page and more), 20 of them fulfilled; the first
    open one's path to fulfil."""
    from chorus.bootstrap import build_reward_service
    from chorus.config import TableSettings
    from chorus.domain.employee import employee_id_for
    from chorus.domain.rewards import RewardInput

    service = build_reward_service(TableSettings.from_env())
    rewards = [service.create_reward(RewardInput(name=f"Reward {n}", cost=1, stock=1000)) for n in range(10)]
    ddb = boto3.client("dynamodb", region_name=REGION)
    owners = [employee_id_for(f"person{n}@example.com") for n in range(min(60, employees))]
    for number, owner in enumerate(owners):
        ddb.put_item(
            TableName=TABLE,
            Item={"PK": {"S": f"EMP#{owner}"}, "SK": {"S": "BALANCE"}, "balance": {"N": "10"}, "lifetime": {"N": "10"}},
        )
        service.redeem(owner, rewards[number % 10].reward_id, f"bench-{number:04d}")
        if number % 3 == 0:
            service.fulfil(owner, f"bench-{number:04d}")
    return f"/console/redemptions/{owners[1]}/bench-0001/fulfil"


def rewards_pages(measured: Any, csrf: str, fulfil_path: str) -> None:
    measured("GET /console/rewards", "GET", "/console/rewards")
    measured("GET /console/rewards?show=fulfilled", "GET", "/console/rewards", query={"show": "fulfilled"})
    form = urlencode({"csrf": csrf, "name": "Bench hoodie", "cost": "50", "stock": "3"})
    measured("POST /console/rewards (create)", "POST", "/console/rewards", body=form)
    measured("POST /console/redemptions/.../fulfil", "POST", fulfil_path, body=urlencode({"csrf": csrf}))


def consent_pages(measured: Any) -> None:
    """The ledger's searches (an employee's partition, and a content item's approvals by GSI1 then
    one BatchGetItem); with the bench's roster they find nothing, which costs the same calls."""
    from chorus.domain.content import content_id_for

    search = {"by": "employee", "q": "person1@example.com"}
    measured("GET /console/consent?by=employee (email)", "GET", "/console/consent", query=search)
    content = content_id_for("bench-1", "https://example.com/1", "")
    measured("GET /console/consent?by=content", "GET", "/console/consent", query={"by": "content", "q": content})


def export_pages(measured: Any, csrf: str) -> None:
    """Asking for an export (a record and a message) and its status page, pending and ready (the
    report function's work in between is not a page: it runs in the background)."""
    from chorus.bootstrap import build_export_desk
    from chorus.config import ReportSettings

    search = urlencode({"csrf": csrf, "scope": "search", "by": "employee", "q": "person1@example.com"})
    asked = measured("POST /console/consent/export (a search)", "POST", "/console/consent/export", body=search)
    today = datetime.now(UTC).date().isoformat()
    days = urlencode({"csrf": csrf, "scope": "days", "from": today, "to": today})
    measured("POST /console/consent/export (days)", "POST", "/console/consent/export", body=days)
    measured("POST /console/rewards/export", "POST", "/console/rewards/export", body=urlencode({"csrf": csrf}))
    status = asked["headers"]["Location"].split("?", 1)[0]
    measured("GET /console/exports/{id} (pending)", "GET", status)
    build_export_desk(ReportSettings.from_env()).produce(status.rsplit("/", 1)[1])
    measured("GET /console/exports/{id} (ready)", "GET", status)


def pages(fulfil_path: str, item: str) -> dict[str, int]:
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
        upload_pages(measured)
        people_pages(measured, overview["body"])
        measured("GET /console/overview/weeks.csv", "GET", "/console/overview/weeks.csv")
        measured("GET /console/overview/networks.csv", "GET", "/console/overview/networks.csv")
        measured("GET /console/reports", "GET", "/console/reports")
        measured("GET /console/reports?period=all", "GET", "/console/reports", query={"period": "all"})
        measured("GET /console/reports/participation.csv", "GET", "/console/reports/participation.csv")
        measured("GET /console/reports/advocates.csv", "GET", "/console/reports/advocates.csv")
        measured("GET /console/reports/campaigns.csv", "GET", "/console/reports/campaigns.csv")
        measured("GET /console/reports/content.csv", "GET", "/console/reports/content.csv", query={"rank": "visits"})
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
        rewards_pages(measured, csrf.group(1), fulfil_path)
        consent_pages(measured)
        export_pages(measured, csrf.group(1))
        content_pages(measured, csrf, item)
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


def content_pages(measured: Any, csrf: Any, item: str) -> None:
    """The library, filtered and searched, an item's detail and funnel CSV, its edit and retraction."""
    import re

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


def upload_pages(measured: Any) -> None:
    import re
    from html import unescape

    from chorus.bootstrap import build_ingest_service
    from chorus.config import IngestSettings

    form = measured("GET /console/upload", "GET", "/console/upload")
    prefix = re.search(r'name="key" value="([^"]+)\$\{filename\}"', form["body"])
    assert prefix, "the Upload page has no form"
    key = unescape(prefix.group(1)) + "bench.jsonl"
    measured("GET /console/upload/received", "GET", "/console/upload/received", query={"key": key})
    measured("GET /console/upload/{key} (processing)", "GET", f"/console/upload/{key}")
    rows = [{"id": f"ok-{n}", "title": "News", "url": f"https://example.com/{n}", "text": "Hi"} for n in range(5)]
    rows += [{"id": f"bad-{n}", "title": "News", "url": "ftp://nope", "text": "Hi"} for n in range(120)]
    body = "\n".join(json.dumps(row) for row in rows).encode()
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=body)
    build_ingest_service(IngestSettings.from_env()).ingest_object(key)
    measured("GET /console/upload/{key} (report)", "GET", f"/console/upload/{key}")
    measured("GET /console/upload/{key}?page=3", "GET", f"/console/upload/{key}", query={"page": "3"})


def people_pages(measured: Any, signed_in_page: str) -> None:
    import re
    from urllib.parse import unquote

    from chorus.domain.employee import employee_id_for

    csrf = re.search(r'name="csrf" value="([^"]+)"', signed_in_page)
    assert csrf, "no CSRF token on the page"
    roster = measured("GET /console/people", "GET", "/console/people")
    token = re.search(r'href="/console/people\?next=([^"]+)" rel="next"', roster["body"])
    if token:
        measured("GET /console/people?next=", "GET", "/console/people", query={"next": unquote(token.group(1))})
    found = urlencode({"csrf": csrf.group(1), "email": "person0@example.com"})
    measured("POST /console/people/find", "POST", "/console/people/find", body=found)
    person = f"/console/people/{employee_id_for('person0@example.com')}"
    measured("GET /console/people/{id}", "GET", person)
    confirmed = urlencode({"csrf": csrf.group(1), "confirm": "yes"})
    measured("POST /console/people/{id}/deactivate", "POST", f"{person}/deactivate", body=confirmed)


def verdicts(figures: dict[str, int]) -> list[str]:
    """The table of calls per console request, and the requests over the target."""
    print(f"\n## Calls per console request (target <= {TARGET})")
    width = max(len(name) for name in figures)
    failed: list[str] = []
    for name, calls in figures.items():
        verdict = "PASS" if calls <= TARGET else "FAIL"
        if verdict == "FAIL":
            failed.append(name)
        print(f"{name:<{width}}  {calls:>3}  {verdict}")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with mock_aws(), moto_transactions_without_table_copies() as cancelled:
        setup()
        seed(args.employees)
        active = aggregates(args.employees)
        fulfil_path = seed_rewards(args.employees)
        waiting_for_review(args.employees)
        item = library()
        seeded = time.perf_counter() - started
        print(f"## Admin console, {args.employees} employees ({active} active in the census), seeded in {seeded:.0f} s")
        rollup()
        figures = pages(fulfil_path, item)
    failed = verdicts(figures)
    worst = max(figures.values())
    print(f"most calls of a console request: {worst} (target <= {TARGET}) {'PASS' if worst <= TARGET else 'FAIL'}")
    print("(a session's last_seen is written at most once a minute: one more UpdateItem then)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(f"{args.employees} employees: {time.perf_counter() - started:.0f} s, peak memory {peak:,.0f} MB")
    if cancelled:
        # Not rolled back here (see moto_transactions_without_table_copies): figures after it may be off.
        print(f"FAIL: {len(cancelled)} transaction(s) cancelled: {', '.join(cancelled)}")
        return 1
    if failed:
        print(f"FAIL: over the target: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
