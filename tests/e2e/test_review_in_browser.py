"""Compliance review in headless Chromium on a local cloud with ReviewEditedPosts on: an employee
edits and approves on their page (which then says "waiting for review"), the admin signs in to
the console, reviews the post (the offered and the edited text side by side, a diff) and
approves it; the employee is emailed. axe-core finds no serious or critical violation on the review
page; screenshots at 1280 and 390 px. When the clock passes the post's time, the sandbox feed shows
exactly the employee's text."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LocalCloudProcess, running_local_cloud, shot, upload, wait_for_mail
from tests.e2e.console import check_page, sign_in

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:8]
EMAIL = f"review-{RUN}@example.com"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    """A cloud of its own, with the compliance review on (and its clock moved by this test)."""
    with running_local_cloud(tmp_path_factory.mktemp("chorus-review"), {"ReviewEditedPosts": "true"}) as running:
        yield running


def test_an_edited_post_waits_the_admin_approves_it_and_the_network_gets_the_employees_text(
    cloud: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    state = ["--state-dir", str(cloud.state_dir)]
    # Given an employee and content, and this week's digest sent
    upload(cloud, tmp_path, "employees", "roster.csv", f"email,name,timezone\n{EMAIL},Rita Review,Europe/Paris\n")
    upload(
        cloud,
        tmp_path,
        "content",
        "news.csv",
        f"id,title,url,text\nreview-{RUN},Review {RUN},https://example.com/review-{RUN},Our offered words\n",
    )
    token = cloud.chorus("local", "admin-token", *state).stdout.strip()
    sent = requests.post(f"{cloud.api_url}/admin/digests", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert sent.status_code == 202, sent.text
    [digest] = wait_for_mail(cloud, EMAIL)
    [magic] = [link for link in digest["links"] if "/a/" in link]

    # When the employee rewrites the text and approves it for now
    employee = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    employee.goto(magic)
    words = f"My own take on it <b>{RUN}</b> & more"
    employee.fill("#text_sandbox", words)
    employee.wait_for_timeout(2500)  # a person reads before approving; forms sent at once are refused
    employee.click("button[value=approve]")
    employee.wait_for_load_state()

    # Then her page says it waits for review, and nothing reached the network
    waiting = employee.locator(".post[data-network=sandbox]")
    assert waiting.locator("[data-in-review]").inner_text() == "Waiting for review"
    shot(employee, "review-employee-waiting")

    # When the admin opens the review queue in the console
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, cloud)
    page.get_by_role("link", name="Review").click()
    page.wait_for_url(f"{cloud.api_url}/console/review")
    card = page.locator("article.review", has_text=f"Review {RUN}")
    assert card.count() == 1
    # Then both texts are there, side by side, escaped, and the diff shows what she changed
    assert card.get_by_role("region", name="Offered text").inner_text().endswith("Our offered words")
    assert card.get_by_role("region", name="Employee's text").inner_text().endswith(words)
    assert card.locator("ins").count() >= 1 and card.locator("del").count() >= 1
    check_page(page, "review")

    # When the admin approves it (keyboard only)
    page.set_viewport_size({"width": 1280, "height": 900})
    card.get_by_role("button", name="Approve and schedule").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{cloud.api_url}/console/review?done=review-approved")
    assert "scheduled exactly as the employee wrote it" in page.get_by_role("status").inner_text()
    shot(page, "console-review-approved-desktop")

    # Then the employee is told by email
    mails = wait_for_mail(cloud, EMAIL)
    assert any("was approved" in mail["subject"] for mail in mails), [mail["subject"] for mail in mails]

    # And when the clock passes the post's time ("now" waits for the end of the local cloud's quiet
    # hours, at most 9 hours), the sandbox feed shows exactly her text, once
    now = datetime.fromisoformat(requests.get(f"{cloud.api_url}/_local/clock", timeout=10).json()["now"])
    tick = cloud.chorus("local", "tick", "--to", (now + timedelta(hours=10)).isoformat(), *state)
    assert tick.returncode == 0, tick.stdout + tick.stderr
    posts = requests.get(f"{cloud.api_url}/_local/feed.json", timeout=30).json()["posts"]
    mine = [item for item in posts if RUN in item["text"]]
    assert [item["text"] for item in mine] == [words], tick.stdout
    context.close()
