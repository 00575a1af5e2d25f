"""The whole story in headless Chromium on the local cloud: upload, digest, approval, publication,
a click on the tracked link, points on the leaderboard, a reward redeemed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import LocalCloudProcess, running_local_cloud, shot, upload, wait_for_mail

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:8]
EMAIL = f"story-{RUN}@example.com"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with running_local_cloud(tmp_path_factory.mktemp("chorus-story")) as running:
        yield running


def admin(cloud: LocalCloudProcess) -> dict[str, str]:
    token = cloud.chorus("local", "admin-token", "--state-dir", str(cloud.state_dir)).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


def settle(cloud: LocalCloudProcess, minutes_ahead: float) -> None:
    """Moves the clock and waits until queues, streams and async invocations are drained."""
    target = datetime.now(UTC) + timedelta(minutes=minutes_ahead)
    tick = cloud.chorus("local", "tick", "--to", target.isoformat(), "--state-dir", str(cloud.state_dir))
    assert tick.returncode == 0, tick.stderr


def eventually(check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_upload_to_reward(cloud: LocalCloudProcess, browser: object, tmp_path: Path) -> None:
    # Given a roster and a content item worth 10 points to approve, 10 to publish, 1 per visit
    upload(
        cloud,
        tmp_path,
        "employees",
        "roster.csv",
        f"email,name,groups,timezone,locale\n{EMAIL},Sam Story,story-{RUN},Europe/Paris,en\n",
    )
    ends = (datetime.now(UTC) + timedelta(days=10)).date()
    upload(
        cloud,
        tmp_path,
        "content",
        "news.csv",
        "id,title,url,text,groups,ends_at,points,points_publish,points_click\n"
        f"story-{RUN},Our story,https://example.com/story-{RUN},Read our story,story-{RUN},{ends},10,10,1\n",
    )
    reward = requests.post(
        f"{cloud.api_url}/admin/rewards",
        headers=admin(cloud),
        timeout=30,
        json={"name": f"Mug {RUN}", "cost": 15, "stock": 1},
    )
    assert reward.status_code == 201, reward.text
    sent = requests.post(f"{cloud.api_url}/admin/digests", headers=admin(cloud), timeout=60)
    assert sent.status_code == 202

    # When the employee opens the digest's link and approves in their own words, for now
    [mail] = wait_for_mail(cloud, EMAIL)
    [magic] = [link for link in mail["links"] if "/a/" in link]
    me_link = next(link for link in mail["links"] if "/me?t=" in link)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, user_agent=FIREFOX)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(magic)
    words = f"Proud of this story ({RUN})"
    page.fill("#text_sandbox", words)
    page.check("input[name=when][value=now]")
    page.wait_for_timeout(2500)
    page.click("button[value=approve]")
    page.wait_for_load_state()
    assert words in page.locator("body").inner_text()

    # And the clock passes the publication time: the post is on the sandbox feed, once
    settle(cloud, 12 * 60)  # past any quiet hours too
    feed = requests.get(f"{cloud.api_url}/_local/feed.json", timeout=30).json()["posts"]
    [post] = [item for item in feed if RUN in item["text"]]
    assert post["text"] == words and "/r/" in post["link"]

    # When someone in the audience follows the tracked link (a browser's request, so it counts;
    # followed here without the browser, which cannot reach the content site from a test)
    for _ in range(2):  # the same visitor twice: one visit
        visit = requests.get(
            post["link"], headers={"User-Agent": FIREFOX, "Accept-Language": "en"}, allow_redirects=False, timeout=30
        )
        assert visit.status_code == 302
        location = visit.headers["Location"]
        assert location.startswith(f"https://example.com/story-{RUN}?")
        assert "utm_source=sandbox" in location and "utm_medium=employee_advocacy" in location
    bot = requests.get(post["link"], headers={"User-Agent": "LinkedInBot/1.0"}, allow_redirects=False, timeout=30)
    assert bot.status_code == 302  # redirected, not counted
    settle(cloud, 12 * 60 + 1)

    # Then the points are on the leaderboard: 10 approval + 10 publication + 1 visit
    def board() -> list[dict]:
        response = requests.get(
            f"{cloud.api_url}/admin/leaderboard",
            headers=admin(cloud),
            params={"period": "month", "group": f"story-{RUN}"},
            timeout=30,
        )
        return response.json()["ranks"]

    ranks = eventually(lambda: [row for row in board() if row["score"] == 21])
    assert [(row["name"], row["score"], row["rank"]) for row in ranks] == [("Sam Story", 21, 1)]

    # And the employee's page shows them, with the visit, and lets them redeem the reward once
    page.goto(me_link)
    body = page.locator("body").inner_text()
    assert "21 points to spend" in body and "#1 this month" in body and "1 visit" in body and "1 visits" not in body
    shot(page, "me-with-points")
    page.wait_for_timeout(2500)
    page.locator("form.reward button[value=redeem]").click()
    page.wait_for_load_state()
    assert "6 points to spend" in page.locator("body").inner_text()
    redemptions = requests.get(f"{cloud.api_url}/admin/redemptions", headers=admin(cloud), timeout=30).json()
    assert [item["reward_name"] for item in redemptions["items"]] == [f"Mug {RUN}"]
    shot(page, "me-after-redeeming")
    context.close()
    json.dumps(redemptions)
