"""N approved posts falling due at the same minute, published by the local cloud's clock.

    python -m bench.due_posts [--posts 1000]

Starts the local cloud in-process, uploads a roster of N employees and one content item, has
each employee approve a sandbox post for the same time through the HTTP gateway, then moves the
clock past that time (the clock fires every due schedule), fires it again and runs the sweeper
(both must publish nothing more). Prints the posts on the sandbox feed, duplicates, posts lost,
and the AWS calls per publication (target <= 4 plus the network call; the sandbox network's
own write is that network call). Figures, not a test: exit status 0 unless something raises.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parents[1]
for folder in ("layers/chorus", "infra/local"):
    sys.path.insert(0, str(ROOT / folder))

from bench.aws_calls import count_aws_calls, format_counts  # noqa: E402
from bench.ingest_scale import moto_transactions_without_table_copies  # noqa: E402

if TYPE_CHECKING:
    from chorus_local.cloud import LocalCloud

ZONE = "Europe/Paris"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    from chorus_local.cloud import CloudConfig, LocalCloud

    with tempfile.TemporaryDirectory() as state, moto_transactions_without_table_copies():
        cloud = LocalCloud(
            CloudConfig(
                root=ROOT,
                state_dir=Path(state),
                api_port=0,
                aws_port=0,
                parameter_overrides={"LogLevel": "ERROR", "QuietHours": "", "MaxPostsPerDay": "0"},
            )
        )
        cloud.start()
        try:
            run(cloud, args.posts)
        finally:
            cloud.stop()
    return 0


def run(cloud: LocalCloud, posts: int) -> None:
    from chorus.adapters.secrets_keys import parse_key_ring
    from chorus.domain.content import content_id_for
    from chorus.domain.employee import employee_id_for
    from chorus.domain.magic_links import activity_scope, form_subject, sign_form, sign_link
    from chorus_local.feed import feed_posts

    s3 = cloud.client("s3")
    bucket = cloud.stack.physical_name("UploadsBucket")
    table = cloud.stack.physical_name("Table")
    roster = "email,name,timezone\n" + "".join(f"p{n}@example.com,Person {n},{ZONE}\n" for n in range(posts))
    ends = (datetime.now(UTC) + timedelta(days=10)).date()
    content = f"id,title,url,text,ends_at\nbench-due,Due,https://example.com/due,Share me,{ends}\n"
    started = time.perf_counter()
    for key, body in (("uploads/employees/due.csv", roster), ("uploads/content/due.csv", content)):
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
        cloud.settle()
    print(f"uploaded {posts} employees and one content item in {time.perf_counter() - started:.1f} s")

    secret_arn = cloud.stack.resolve({"Ref": "MagicLinkSecret"})
    secret = cloud.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    ring = parse_key_ring(secret)
    content_id = content_id_for("bench-due", "", "")
    due_local = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=1)).replace(hour=10, minute=30, second=0, microsecond=0)
    now = datetime.now(UTC)
    started = time.perf_counter()
    http = requests.Session()
    for n in range(posts):
        employee = employee_id_for(f"p{n}@example.com")
        token = sign_link(ring, employee, activity_scope(content_id), now + timedelta(days=2))
        form = sign_form(
            ring, form_subject(employee, activity_scope(content_id), "approve"), now - timedelta(minutes=1)
        )
        body = urlencode(
            {
                "form": form,
                "action": "approve",
                "content_version": "1",
                "network": "sandbox",
                "text_sandbox": f"Post {n}",
                "when": "at",
                "at": due_local.strftime("%Y-%m-%dT%H:%M"),
                "timezone": ZONE,
            }
        )
        response = http.post(
            f"{cloud.api_url}/a/{token}",
            data=body,
            allow_redirects=False,
            timeout=30,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 303, response.text[:300]
    print(f"{posts} approvals through the gateway in {time.perf_counter() - started:.1f} s")

    from chorus import bootstrap

    bootstrap.publish_service.cache_clear()  # new clients, so the counter sees their calls
    started = time.perf_counter()
    with count_aws_calls() as calls:
        cloud.scheduler.tick_to(due_local.astimezone(UTC) + timedelta(minutes=1))
        cloud.settle()
        fired = time.perf_counter() - started
        cloud.scheduler.tick_to(due_local.astimezone(UTC) + timedelta(minutes=2))
        cloud.settle()
    sweep = cloud.runtime.invoke(cloud.functions["SweeperFunction"], {})
    feed = feed_posts(cloud.client("dynamodb"), table)
    texts = Counter(post.text for post in feed if post.text.startswith("Post "))
    duplicates = sum(count - 1 for count in texts.values() if count > 1)
    lost = posts - len(texts)
    published = calls.count("dynamodb.PutItem")  # the sandbox network writes one item per post
    # The clock also fires the sweeper's rate(10 minutes) schedule for the skipped day: its Query
    # calls are the sweeper's, not the publisher's (the publisher never queries).
    own = calls.total() - published - calls.count("dynamodb.Query")
    print(f"\nclock fired {posts} due posts in {fired:.1f} s; fired again; sweeper: {sweep}")
    print(
        f"sandbox feed: {len(texts)} posts, {duplicates} duplicates, {lost} lost  "
        f"({'PASS' if duplicates == 0 and lost == 0 else 'FAIL'})"
    )
    print(f"AWS calls while publishing: {calls.total()}")
    print(format_counts(calls.by_operation()))
    per_post = own / max(published, 1)
    print(
        f"per publication, excluding the network's own write: {per_post:.2f} (target <= 4) "
        f"{'PASS' if per_post <= 4 else 'FAIL'}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
