"""The employee's story in headless Chromium on the local cloud.

Upload a roster and content, send the digest, open the email in the outbox, follow the magic
link, rewrite the text, pick a time, approve; see the confirmation, cancel one post, approve
another; the consent records and schedules exist; the clock fires and the sandbox feed shows
the edited text once. Screenshots (desktop and phone width) go to test-artifacts/.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests

from tests.e2e.conftest import LocalCloudProcess, running_local_cloud, shot, upload, wait_for_mail

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:8]
EMAIL = f"e2e-{RUN}@example.com"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    """A cloud of its own: other e2e tests move the shared cloud's clock days ahead."""
    with running_local_cloud(tmp_path_factory.mktemp("chorus-consent")) as running:
        yield running


def aws(cloud: LocalCloudProcess, service: str) -> object:
    return boto3.client(
        service,
        endpoint_url=cloud.aws_url,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_from_digest_to_consent_to_publication(cloud: LocalCloudProcess, browser: object, tmp_path: Path) -> None:
    # Given a roster and content uploaded through S3
    upload(
        cloud,
        tmp_path,
        "employees",
        "roster.csv",
        f"email,name,groups,timezone,locale\n{EMAIL},Eve Tester,e2e-{RUN},Europe/Paris,en\n",
    )
    ends = (datetime.now(UTC) + timedelta(days=10)).date()
    upload(
        cloud,
        tmp_path,
        "content",
        "news.csv",
        "id,title,url,text,groups,ends_at\n"
        f"e2e-{RUN},Our <new> office,https://example.com/office-{RUN},We opened a new office,e2e-{RUN},{ends}\n"
        f"e2e-now-{RUN},Hiring now,https://example.com/jobs-{RUN},We are hiring,e2e-{RUN},{ends}\n",
    )
    # When the admin sends the digest now
    token = cloud.chorus("local", "admin-token", "--state-dir", str(cloud.state_dir)).stdout.strip()
    sent = requests.post(f"{cloud.api_url}/admin/digests", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert sent.status_code == 202, sent.text

    # Then the email reaches the outbox (the sender reads the queue), with a magic link
    [mail] = wait_for_mail(cloud, EMAIL)
    magic, second_magic = [link for link in mail["links"] if "/a/" in link]
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{cloud.api_url}/_local/outbox")
    page.locator(f"a[href='{magic}']").first.click()
    page.wait_for_url("**/a/**")
    if page.locator("h1").inner_text() == "Hiring now":  # the digest lists the two in either order
        magic, second_magic = second_magic, magic
        page.goto(magic)
    assert page.locator("h1").inner_text() == "Our <new> office"  # escaped, shown as typed
    shot(page, "approval-page-desktop")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    phone_page = phone.new_page()
    phone_page.goto(magic)
    shot(phone_page, "approval-page-phone")
    phone.close()

    # The employee rewrites the sandbox text (the counter follows), picks a time, approves
    own_words = f"I love our new office! ({RUN})"
    page.check("input[name=network][value=sandbox]")
    page.check("input[name=network][value=x]")
    page.fill("#text_sandbox", own_words)
    page.fill("#text_x", "Short version for X")
    assert page.locator("[data-count-for=text_sandbox]").inner_text() == str(len(own_words))
    tomorrow = datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=1)
    chosen = tomorrow.replace(hour=10, minute=30, second=0, microsecond=0)
    page.check("input[name=when][value=at]")
    page.fill("#at", chosen.strftime("%Y-%m-%dT%H:%M"))
    page.wait_for_timeout(2500)  # a person reads before approving; forms sent at once are refused
    page.click("button[value=approve]")
    page.wait_for_load_state()
    confirmation = page.locator("body").inner_text()
    assert "Scheduled" in confirmation and own_words in confirmation and "Short version for X" in confirmation
    shot(page, "confirmation-desktop")

    # The records and schedules exist, with the exact text and the chosen time zone
    ddb = aws(cloud, "dynamodb")
    health = requests.get(f"{cloud.api_url}/_local/health", timeout=10).json()
    table = health["resources"]["Table"]
    from chorus.domain.content import content_id_for
    from chorus.domain.employee import employee_id_for

    employee, content = employee_id_for(EMAIL), content_id_for(f"e2e-{RUN}", "", "")

    def approval(network: str) -> dict:
        key = {"PK": {"S": f"EMP#{employee}"}, "SK": {"S": f"APPROVAL#{content}#{network}"}}
        return ddb.get_item(TableName=table, Key=key)["Item"]  # type: ignore[attr-defined]

    assert approval("sandbox")["text"]["S"] == own_words
    assert approval("sandbox")["status"]["S"] == "SCHEDULED"
    assert approval("sandbox")["publish_at"]["S"].startswith(chosen.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    scheduler = aws(cloud, "scheduler")
    group = health["resources"]["PostScheduleGroup"]
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}  # type: ignore[attr-defined]
    assert {approval("sandbox")["schedule_name"]["S"], approval("x")["schedule_name"]["S"]} <= names
    schedule = scheduler.get_schedule(Name=approval("x")["schedule_name"]["S"], GroupName=group)  # type: ignore[attr-defined]
    assert schedule["ScheduleExpression"] == f"at({chosen:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"

    # When the employee cancels the X post, its schedule goes
    page.wait_for_timeout(2500)
    page.locator(".post[data-network=x] button[value=cancel]").click()
    page.wait_for_load_state()
    assert approval("x")["status"]["S"] == "CANCELLED"
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}  # type: ignore[attr-defined]
    assert approval("x")["schedule_name"]["S"] not in names

    # And approves LinkedIn for now instead
    page.check("input[name=network][value=linkedin]")
    if page.is_checked("input[name=network][value=x]"):
        page.uncheck("input[name=network][value=x]")
    page.check("input[name=when][value=now]")
    page.wait_for_timeout(2500)
    page.click("button[value=approve]")
    page.wait_for_load_state()
    assert approval("linkedin")["status"]["S"] == "SCHEDULED"
    shot(page, "after-cancel-and-second-approval-desktop")

    # When the clock reaches the chosen time, the sandbox feed shows the edited text, once
    tick = cloud.chorus(
        "local", "tick", "--to", (chosen + timedelta(minutes=1)).isoformat(), "--state-dir", str(cloud.state_dir)
    )
    assert tick.returncode == 0, tick.stderr
    feed = requests.get(f"{cloud.api_url}/_local/feed.json", timeout=30).json()["posts"]
    assert [post["text"] for post in feed if RUN in post["text"]] == [own_words]
    assert approval("sandbox")["status"]["S"] == "PUBLISHED"

    # And a post approved for "now" goes out when the clock passes the next minute, once
    page.goto(second_magic)
    page.fill("#text_sandbox", f"Come and work with me ({RUN})")
    page.check("input[name=when][value=now]")
    page.wait_for_timeout(2500)
    page.click("button[value=approve]")
    page.wait_for_load_state()
    # (the clock is already past it, at tomorrow's chosen time: moving it on fires what is due)
    tick = cloud.chorus(
        "local", "tick", "--to", (chosen + timedelta(minutes=5)).isoformat(), "--state-dir", str(cloud.state_dir)
    )
    assert tick.returncode == 0, tick.stderr
    feed = requests.get(f"{cloud.api_url}/_local/feed.json", timeout=30).json()["posts"]
    assert sorted(post["text"] for post in feed if RUN in post["text"]) == sorted(
        [own_words, f"Come and work with me ({RUN})"]
    )
    page.goto(f"{cloud.api_url}/_local/feed")
    shot(page, "sandbox-feed")
    context.close()
    json.dumps(feed)  # the feed is plain JSON
