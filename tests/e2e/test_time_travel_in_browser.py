"""Time travel through the documented interface: approve for next Tuesday 10:00 Paris in the
browser, `chorus local tick` past it, and the sandbox feed shows the post published at 10:00 Paris.

Everything goes through what a developer uses: `chorus local up --detach`, `chorus upload`,
`chorus local admin-token`, the outbox's magic link in Chromium, `chorus local tick`, the feed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.conftest import LocalCloudProcess, running_local_cloud, shot, upload, wait_for_mail

pytestmark = pytest.mark.e2e

PARIS = ZoneInfo("Europe/Paris")
TUESDAY = 1
RUN = uuid.uuid4().hex[:8]
EMAIL = f"travel-{RUN}@example.com"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    """A cloud of its own: this test moves its clock days ahead."""
    with running_local_cloud(tmp_path_factory.mktemp("chorus-travel")) as running:
        yield running


def next_tuesday_ten(now: datetime) -> datetime:
    """The first Tuesday 10:00 in Paris at least an hour ahead (always within the next week)."""
    local = now.astimezone(PARIS)
    day = local.date() + timedelta(days=(TUESDAY - local.weekday()) % 7)
    candidate = datetime(day.year, day.month, day.day, 10, 0, tzinfo=PARIS)
    return candidate if candidate - now >= timedelta(hours=1) else candidate + timedelta(days=7)


def test_approve_for_next_tuesday_then_tick_past_it(cloud: LocalCloudProcess, browser: Any, tmp_path: Path) -> None:
    state = ["--state-dir", str(cloud.state_dir)]
    now = datetime.fromisoformat(requests.get(f"{cloud.api_url}/_local/clock", timeout=10).json()["now"])
    tuesday = next_tuesday_ten(now)
    # Given an employee in Paris and content that runs for two more weeks
    upload(cloud, tmp_path, "employees", "roster.csv", f"email,name,timezone\n{EMAIL},Tess Travel,Europe/Paris\n")
    ends = (now + timedelta(days=14)).date()
    upload(
        cloud,
        tmp_path,
        "content",
        "news.csv",
        f"id,title,url,text,ends_at\ntravel-{RUN},Travel,https://example.com/travel-{RUN},Going places,{ends}\n",
    )
    token = cloud.chorus("local", "admin-token", *state).stdout.strip()
    sent = requests.post(f"{cloud.api_url}/admin/digests", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert sent.status_code == 202, sent.text
    [mail] = wait_for_mail(cloud, EMAIL)
    [magic] = [link for link in mail["links"] if "/a/" in link]

    # When the employee approves, in the browser, for next Tuesday 10:00
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(magic)
    words = f"See you on Tuesday ({RUN})"
    page.fill("#text_sandbox", words)
    page.check("input[name=when][value=at]")
    page.fill("#at", tuesday.strftime("%Y-%m-%dT%H:%M"))
    page.wait_for_timeout(2500)  # a person reads before approving; forms sent at once are refused
    page.click("button[value=approve]")
    page.wait_for_load_state()
    scheduled = page.locator(".post[data-network=sandbox]").inner_text()
    assert f"{tuesday:%a} {tuesday.day} {tuesday:%b %Y}, 10:00" in scheduled, scheduled
    shot(page, "time-travel-scheduled")

    # And the developer moves the clock past it
    after = tuesday + timedelta(minutes=5)
    tick = cloud.chorus("local", "tick", "--to", after.isoformat(), *state)
    assert tick.returncode == 0, tick.stdout + tick.stderr
    assert f"clock: {after.isoformat()}" in tick.stdout
    # (the post's schedule puts it on the sandbox's publish queue, which hands it to the publisher)
    fired = [line for line in tick.stdout.splitlines() if "-SharedPublishQueue: ok" in line]
    assert len(fired) == 1 and fired[0].strip().startswith(tuesday.astimezone(ZoneInfo("UTC")).isoformat()), fired

    # Then the sandbox feed shows the post, once, published at 10:00 Paris
    posts = requests.get(f"{cloud.api_url}/_local/feed.json", timeout=30).json()["posts"]
    [post] = [item for item in posts if RUN in item["text"]]
    assert post["text"] == words
    # (the local clock runs on from the stop at 10:00 while the queue hands the post over: a
    # loaded machine takes a second or two)
    assert tuesday <= datetime.fromisoformat(post["published_at"]) < tuesday + timedelta(minutes=1)
    page.goto(f"{cloud.api_url}/_local/feed")
    article = page.locator("article.post", has_text=words)
    assert re.search(rf"{tuesday:%a %d %b %Y}, 10:00 Europe/Paris", article.inner_text())
    shot(page, "time-travel-feed")
    # And the employee's page says it was published
    page.goto(magic)
    assert "published" in page.locator(".post[data-network=sandbox]").inner_text()
