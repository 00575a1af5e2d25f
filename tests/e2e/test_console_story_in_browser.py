"""The whole story through the console, in headless Chromium on a local cloud with the compliance
review on (ReviewEditedPosts): the admin signs in, uploads a roster and a content file with bad
rows and reads each report, previews an employee's digest and sends this week's digest now; the
employee opens her magic link from the sent email, rewrites the text and approves; the admin sees
the approval arrive in the consent ledger (waiting for review), reviews and approves it; the
clock fires and the sandbox network gets exactly her text; she redeems a reward the admin added,
the admin fulfils it; the consent ledger shows her approval with the text's SHA-256.

Every console page visited: axe-core finds no serious or critical violation, nothing scrolls
sideways, screenshots at 1280 and 390 px (test-artifacts/console-story-*). The employee's pages:
screenshots at both widths (test-artifacts/story-employee-*). No sleeps: the local cloud's clock
is moved instead (forms sent at once are refused: the form's age is read on that clock), and a
tick answers once everything it set off has run."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import LocalCloudProcess, running_local_cloud, wait_for_mail
from tests.e2e.console import advance_clock, check_page, shots_at_both_widths, sign_in

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:8]
EMAIL = f"stella-{RUN}@example.com"
NAME = f"Stella Story {RUN}"
TITLE = f"Our story {RUN}"
ROSTER_CSV = f"email,name,timezone,locale\n{EMAIL},{NAME},Europe/Paris,en\nnot-an-address,Nobody,Europe/Paris,en\n"
CONTENT_CSV = (
    "id,title,url,text,points,points_publish\n"
    f"story-{RUN},{TITLE},https://example.com/story-{RUN},Our offered words,10,10\n"
    f"story-bad-{RUN},A bad link,ftp://example.com/nope,This one is refused,10,10\n"
)
# Her own words: markup and an ampersand, which every page must show as text.
WORDS = f"In my own words <b>{RUN}</b> & proud of it"
HUMAN_PAUSE = timedelta(seconds=3)  # more than the two seconds a form must have been shown


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    """A cloud of its own (its clock is moved by this test), with the compliance review on."""
    with running_local_cloud(tmp_path_factory.mktemp("chorus-console-story"), {"ReviewEditedPosts": "true"}) as running:
        yield running


def upload_in_console(page: Any, cloud: LocalCloudProcess, path: Path, kind: str) -> list[tuple[str, str, str]]:
    """Chooses the file in the Upload page's file input, sends it; returns the report's refused
    rows (line, field, reason) once the ingest has read it."""
    page.goto(f"{cloud.api_url}/console/upload")
    label, button = ("Content file", "Upload content") if kind == "content" else ("Roster file", "Upload roster")
    page.get_by_label(label).set_input_files(str(path))
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(rf".*/console/upload/uploads/{kind}/.*-{path.stem}\.csv$"))
    page.get_by_role("heading", name="Refused rows").wait_for()  # the page refreshes until the report exists
    rows = page.get_by_role("table", name=re.compile("Refused rows")).locator("tbody tr").all()
    return [
        (row.locator("th").inner_text(), row.locator("td").nth(0).inner_text(), row.locator("td").nth(1).inner_text())
        for row in rows
    ]


def ledger_of(page: Any, cloud: LocalCloudProcess, address: str) -> str:
    page.goto(f"{cloud.api_url}/console")
    page.get_by_role("link", name="Consent ledger").click()
    page.get_by_label("Email address or id").fill(address)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("table", name=re.compile("Approvals of the employee")).wait_for()
    return str(page.locator("main").inner_text())


def test_the_whole_story_through_the_console(cloud: LocalCloudProcess, browser: Any, tmp_path: Path) -> None:
    admin_context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    employee_context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = admin_context.new_page()
    try:
        # Given an admin signed in to the console
        sign_in(page, cloud)
        check_page(page, "story-overview")

        # When she uploads a roster with a bad row (the file input the Upload page offers)
        page.get_by_role("link", name="Upload").click()
        page.wait_for_url(f"{cloud.api_url}/console/upload")
        check_page(page, "story-upload")
        page.set_viewport_size({"width": 1280, "height": 900})
        roster = tmp_path / "story-roster.csv"
        roster.write_text(ROSTER_CSV, encoding="utf-8")
        refused = upload_in_console(page, cloud, roster, "employees")
        # Then the report lists the refused row with its line, field and reason
        assert [(line, field) for line, field, _ in refused] == [("3", "email")]
        assert "not-an-address" in refused[0][2] and "not a valid address" in refused[0][2]
        check_page(page, "story-roster-report")

        # And the same for a content file with a bad link
        content = tmp_path / "story-content.csv"
        content.write_text(CONTENT_CSV, encoding="utf-8")
        refused = upload_in_console(page, cloud, content, "content")
        assert [(line, field) for line, field, _ in refused] == [("3", "url")]
        assert refused[0][2].strip()
        terms, values = page.locator(".figures dt").all_inner_texts(), page.locator(".figures dd").all_inner_texts()
        figures = dict(zip(terms, values, strict=True))
        assert figures["Accepted"] == "1" and figures["Created"] == "1" and figures["Rejected"] == "1"
        check_page(page, "story-content-report")

        # When she previews this week's digest as the employee
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("link", name="Digest").click()
        page.get_by_label("Employee's email address or id").fill(EMAIL)
        page.get_by_role("button", name="Preview").click()
        page.wait_for_url(f"{cloud.api_url}/console/digest?employee=*")
        # Then it offers the uploaded item, and nothing was sent yet
        expect(page.frame_locator("iframe.preview").get_by_text(TITLE).first).to_be_visible()
        assert wait_for_mail(cloud, EMAIL, timeout=0) == []
        check_page(page, "story-digest-preview")

        # When she sends this week's digest now
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_label("Yes, send this week's digest to every active employee now").check()
        page.get_by_role("button", name="Send now").click()
        page.wait_for_url(f"{cloud.api_url}/console/digest?*done=*")
        page.get_by_role("status").wait_for()
        check_page(page, "story-digest-sent")
        advance_clock(cloud, timedelta(seconds=1))  # the queued batches are sent before it answers

        # Then the employee has one digest, with her magic link and her page's link
        [digest] = wait_for_mail(cloud, EMAIL)
        [magic] = [link for link in digest["links"] if "/a/" in link]
        [me_link] = [link for link in digest["links"] if "/me?t=" in link]

        # When she opens the magic link, rewrites the text and approves it
        employee = employee_context.new_page()
        employee.goto(magic)
        employee.fill("#text_sandbox", WORDS)
        shots_at_both_widths(employee, "story-employee-edits")
        advance_clock(cloud, HUMAN_PAUSE)
        employee.click("button[value=approve]")
        employee.wait_for_load_state()
        # Then her page says it waits for review
        expect(employee.locator(".post[data-network=sandbox] [data-in-review]")).to_have_text("Waiting for review")
        shots_at_both_widths(employee, "story-employee-waiting")

        # And the admin sees it arrive in the consent ledger, her exact text, waiting for review
        ledger = ledger_of(page, cloud, EMAIL)
        assert WORDS in ledger and "Waiting for review" in ledger
        check_page(page, "story-consent-arrived")

        # When the admin reviews the edited post and approves it
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("link", name="Review").click()
        page.wait_for_url(f"{cloud.api_url}/console/review")
        card = page.locator("article.review", has_text=TITLE)
        assert card.get_by_role("region", name="Employee's text").inner_text().endswith(WORDS)
        check_page(page, "story-review")
        page.set_viewport_size({"width": 1280, "height": 900})
        card.get_by_role("button", name="Approve and schedule").click()
        page.wait_for_url(f"{cloud.api_url}/console/review?done=review-approved")
        check_page(page, "story-review-approved")

        # And the clock passes the post's time ("now" waits for the end of quiet hours, <= 9 h)
        advance_clock(cloud, timedelta(hours=10))
        # Then the sandbox network got exactly her text, once
        posts = requests.get(f"{cloud.api_url}/_local/feed.json", timeout=30).json()["posts"]
        assert [post["text"] for post in posts if RUN in post["text"]] == [WORDS]
        employee.goto(f"{cloud.api_url}/_local/feed")
        shots_at_both_widths(employee, "story-sandbox-feed")
        # And the Overview counts the approval and the publication (ten hours on, the console
        # session has expired: the admin signs in again)
        page.set_viewport_size({"width": 1280, "height": 900})
        sign_in(page, cloud)
        this_week = page.get_by_role("table", name=re.compile("Company figures per week")).locator("tbody tr").first
        cells = this_week.locator("td").all_inner_texts()
        assert cells[0] == "1" and cells[3] == "1", cells  # approvals, publications
        check_page(page, "story-overview-after")

        # When the admin adds a reward and the employee redeems it with her points (10 + 10)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("link", name="Rewards").click()
        page.get_by_label("Name", exact=True).fill(f"Mug {RUN}")
        page.get_by_label("Points it costs").fill("15")
        page.get_by_label("Items in stock").fill("1")
        page.get_by_role("button", name="Add the reward").click()
        page.get_by_role("status").wait_for()
        employee.goto(me_link)
        assert "20 points to spend" in employee.locator("body").inner_text()
        advance_clock(cloud, HUMAN_PAUSE)
        employee.locator("form.reward", has_text=f"Mug {RUN}").get_by_role("button").click()
        employee.wait_for_load_state()
        expect(employee.locator("body")).to_contain_text("5 points to spend")
        shots_at_both_widths(employee, "story-employee-redeemed")

        # Then the admin sees the redemption with her name and address, and fulfils it
        page.goto(f"{cloud.api_url}/console/rewards")
        row = page.get_by_role("row").filter(has_text=NAME)
        assert EMAIL in row.inner_text() and f"Mug {RUN}" in row.inner_text()
        check_page(page, "story-rewards")
        page.set_viewport_size({"width": 1280, "height": 900})
        row.get_by_role("button", name="Fulfil").click()
        page.wait_for_url(f"{cloud.api_url}/console/rewards?done=redemption-fulfilled")
        assert page.get_by_role("row").filter(has_text=NAME).count() == 0
        check_page(page, "story-rewards-fulfilled")

        # And the consent ledger shows her approval, published, with the SHA-256 of her text
        page.set_viewport_size({"width": 1280, "height": 900})
        ledger = ledger_of(page, cloud, EMAIL)
        assert WORDS in ledger and hashlib.sha256(WORDS.encode()).hexdigest() in ledger
        assert "Published" in ledger and "Reviewed" in ledger
        check_page(page, "story-consent-published")

        # When the admin exports her approvals for an auditor (produced in the background: the
        # clock's tick answers once the report queue is drained)
        page.get_by_role("button", name="Export every approval of this search").click()
        page.wait_for_url(re.compile(r"/console/exports/[0-9a-f]{32}\?done=export-requested$"))
        advance_clock(cloud, timedelta(seconds=1))
        page.get_by_role("link", name="Refresh this page").click()
        page.wait_for_load_state()
        check_page(page, "story-ledger-export")
        # Then both files hold her exact text with its SHA-256 as recorded
        page.set_viewport_size({"width": 1280, "height": 900})
        with page.expect_download() as csv_download:
            page.get_by_role("link", name=re.compile(r"\.csv$")).click()
        rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
        assert [(row["text"], row["text_sha256"]) for row in rows] == [
            (WORDS, hashlib.sha256(WORDS.encode()).hexdigest())
        ]
        with page.expect_download() as json_download:
            page.get_by_role("link", name=re.compile(r"\.jsonl$")).click()
        [line] = Path(json_download.value.path()).read_text(encoding="utf-8").splitlines()
        assert json.loads(line)["text"] == WORDS
    finally:
        employee_context.close()
        admin_context.close()
