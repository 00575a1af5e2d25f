"""The admin console in headless Chromium on the local cloud: sign in through the local issuer
(code + PKCE), see the Overview, sign out. Screenshots at 1280 px and 390 px go to
test-artifacts/; axe-core (tools/axe, `make axe`) must find no serious or critical violation on
any console page, and no page may scroll sideways at phone width."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LocalCloudProcess, upload
from tests.e2e.console import advance_clock, check_page, sign_in

pytestmark = pytest.mark.e2e


def test_an_admin_signs_in_sees_the_overview_and_signs_out(
    local_cloud_process: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    cloud = local_cloud_process
    admin = json.loads((cloud.state_dir / "console-admin.json").read_text(encoding="utf-8"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        # Given no session, the console sends the browser to its sign-in page
        page.goto(f"{cloud.api_url}/console")
        assert page.url == f"{cloud.api_url}/console/signin"
        check_page(page, "signin")

        # When the admin signs in on the local issuer's page
        page.get_by_role("button", name="Sign in").click()
        assert page.url.startswith(f"{cloud.api_url}/_local/authorize?")
        assert "code_challenge_method=S256" in page.url
        page.get_by_label("Email").fill(admin["username"])
        page.get_by_label("Password").fill(admin["password"])
        page.get_by_role("button", name="Sign in").click()

        # Then the Overview shows, with the session in an HttpOnly cookie no script can read
        page.wait_for_url(f"{cloud.api_url}/console")
        assert page.get_by_role("heading", name="Overview", level=1).is_visible()
        assert page.get_by_role("img", name="Approvals per month").count() == 1
        assert page.get_by_role("img", name="Approvals per week").count() == 1
        assert page.get_by_role("table").count() == 2  # weeks and months (nothing published yet)
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert cookies["__Host-chorus-console"]["httpOnly"] is True
        assert cookies["__Host-chorus-console"]["sameSite"] == "Lax"
        assert "chorus-console" not in page.evaluate("() => document.cookie")
        check_page(page, "overview")

        # And the chart's figures download as CSV
        with page.expect_download() as download:
            page.get_by_role("link", name="Download these figures (CSV)").click()
        assert download.value.suggested_filename == "chorus-overview.csv"
        assert Path(download.value.path()).read_text(encoding="utf-8").startswith("month,approvals,participants")

        # When the admin signs out (keyboard only)
        page.get_by_role("button", name="Sign out").focus()
        page.keyboard.press("Enter")

        # Then the session is gone: back on the sign-in page, and the console asks to sign in again
        page.wait_for_url(f"{cloud.api_url}/console/signed-out")
        assert page.get_by_role("status").inner_text() == "You are signed out."
        assert "__Host-chorus-console" not in {cookie["name"] for cookie in context.cookies()}
        page.goto(f"{cloud.api_url}/console")
        assert page.url == f"{cloud.api_url}/console/signin"
    finally:
        context.close()


# ---------------------------------------------------------------------------------- Rewards, Consent ledger
def _table(cloud: LocalCloudProcess) -> tuple[Any, str]:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=cloud.aws_url,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    [table] = [name for name in client.list_tables()["TableNames"] if "idempotency" not in name.lower()]
    return client, table


def test_an_admin_fulfils_a_redemption_and_reads_the_consent_ledger(
    local_cloud_process: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    import hashlib
    import uuid
    from datetime import UTC, datetime

    from chorus.domain.employee import employee_id_for
    from chorus.store.rewards import RewardStore

    cloud = local_cloud_process
    run = uuid.uuid4().hex[:8]
    email = f"rewards-{run}@example.com"
    upload(cloud, tmp_path, "employees", "roster.csv", f"email,name,timezone\n{email},Rae Reward {run},Europe/Paris\n")
    employee = employee_id_for(email)
    client, table = _table(cloud)
    client.put_item(
        TableName=table,
        Item={"PK": {"S": f"EMP#{employee}"}, "SK": {"S": "BALANCE"}, "balance": {"N": "50"}, "lifetime": {"N": "50"}},
    )
    # Given a reward the employee redeemed (the employee page's transaction), and an approval
    # recorded in the ledger as the approval page records it
    from chorus.domain.rewards import RewardInput
    from chorus.services.rewards import RewardService

    reward = RewardService(RewardStore(client, table)).create_reward(RewardInput(name=f"Mug {run}", cost=20, stock=2))
    RewardStore(client, table).redeem(employee, reward.reward_id, f"press-{run}", datetime.now(UTC))
    text = f"Proud of our team ({run}) ✓"
    content = f"c-{hashlib.sha256(run.encode()).hexdigest()[:20]}"
    approved_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    approval = {
        "PK": f"EMP#{employee}",
        "SK": f"APPROVAL#{content}#sandbox",
        "GSI1PK": f"APPROVALS#{content}",
        "GSI1SK": f"{employee}#sandbox",
        "entity": "approval",
        "approval_id": f"ap-{run}",
        "employee_id": employee,
        "content_id": content,
        "network": "sandbox",
        "text": text,
        "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "publish_at": approved_at,
        "timezone": "Europe/Paris",
        "when": "now",
        "status": "PUBLISHED",
        "schedule_name": f"s-{run}",
        "approved_at": approved_at,
        "channel": "page",
        "external_post_id": f"post-{run}",
        "external_post_url": f"{cloud.api_url}/_local/feed#post-{run}",
    }
    client.put_item(TableName=table, Item={name: {"S": value} for name, value in approval.items()})

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, cloud)
        # When the admin opens Rewards from the navigation
        page.get_by_role("link", name="Rewards").click()
        page.wait_for_url(f"{cloud.api_url}/console/rewards")
        row = page.get_by_role("row").filter(has_text=f"Rae Reward {run}")
        assert email in row.inner_text() and f"Mug {run}" in row.inner_text()
        check_page(page, "rewards")

        # And fulfils the redemption with the keyboard
        row.get_by_role("button", name="Fulfil").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{cloud.api_url}/console/rewards?done=redemption-fulfilled")
        assert page.get_by_role("status").inner_text() == "The redemption is marked fulfilled."
        assert page.get_by_role("row").filter(has_text=f"Rae Reward {run}").count() == 0
        page.get_by_role("link", name="Fulfilled").click()
        assert page.get_by_role("row").filter(has_text=f"Rae Reward {run}").count() == 1
        check_page(page, "rewards-fulfilled")

        # When a bad reward is added, each field says why, and nothing is created
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{cloud.api_url}/console/rewards")
        page.get_by_label("Points it costs").fill("free")
        page.get_by_role("button", name="Add the reward").click()
        assert page.get_by_text("Name is required").is_visible()
        assert page.get_by_text("Points it costs must be a whole number").is_visible()
        check_page(page, "rewards-errors")

        # When the admin searches the consent ledger by the employee's address
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("link", name="Consent ledger").click()
        page.get_by_label("Email address or id").fill(email)
        page.get_by_role("button", name="Search").click()
        # Then the approval shows its exact text and recorded hash, times and outcome
        body = page.locator("main").inner_text()
        assert text in body and approval["text_sha256"] in body
        assert "Europe/Paris" in body and "Published" in body and f"post-{run}" in body
        check_page(page, "consent")
    finally:
        context.close()


def test_an_admin_reads_the_reports_with_the_keyboard(
    local_cloud_process: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    cloud = local_cloud_process
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, cloud)

        # When the admin follows the nav's Reports link (keyboard only)
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Reports").focus()
        page.keyboard.press("Enter")

        # Then the reports show, the content funnels one link away
        page.wait_for_url(f"{cloud.api_url}/console/reports")
        assert page.get_by_role("heading", name="Reports", level=1).is_visible()
        assert page.get_by_role("heading", name="Participation by group, last 12 months").is_visible()
        assert page.get_by_role("heading", name="Top advocates").is_visible()
        content_link = page.get_by_role("main").get_by_role("link", name="Content")
        assert content_link.get_attribute("href") == "/console/content"
        check_page(page, "reports")

        # When the admin picks all time for the top advocates
        page.get_by_label("Period").select_option("all")
        page.get_by_label("Period").press("Tab")
        page.keyboard.press("Enter")

        # Then the board of all time shows, and the participation CSV downloads
        page.wait_for_url(f"{cloud.api_url}/console/reports?period=all")
        assert page.get_by_label("Period").input_value() == "all"
        check_page(page, "reports-all-time")
        page.goto(f"{cloud.api_url}/console")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the weekly figures (CSV)").click()
        assert download.value.suggested_filename == "chorus-overview-weeks.csv"
        lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("week,approvals,participants") and len(lines) == 13
    finally:
        context.close()


# ---------------------------------------------------------------------------------- Content
CONTENT_ROWS = [
    {
        "id": "e2e-spring",
        "title": "E2E spring launch",
        "url": "https://example.com/spring",
        "text": "Spring is here",
        "campaign": "e2e-launch",
        "text_linkedin": "Spring is here, on LinkedIn",
    },
    {
        "id": "e2e-hiring",
        "title": "E2E we are hiring",
        "url": "https://example.com/jobs",
        "text": "Join us",
        "campaign": "e2e-hiring",
    },
]


def test_an_admin_finds_edits_and_retracts_content(
    local_cloud_process: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    cloud = local_cloud_process
    upload(cloud, tmp_path, "content", "e2e-content.jsonl", "\n".join(json.dumps(row) for row in CONTENT_ROWS))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, cloud)
        # Given the library, searched by title and filtered by campaign
        page.get_by_role("link", name="Content", exact=True).click()
        page.wait_for_url(f"{cloud.api_url}/console/content")
        check_page(page, "content-library")
        page.get_by_label("Title contains").fill("e2e spring")
        page.get_by_label("Campaign").fill("e2e-launch")
        page.get_by_role("button", name="Search").click()
        rows = page.get_by_role("table").get_by_role("row")
        assert rows.count() == 2  # the header and the one item
        # When the admin opens the item
        page.get_by_role("link", name="E2E spring launch").click()
        assert page.get_by_role("heading", name="E2E spring launch", level=1).is_visible()
        assert page.get_by_role("img", name="Funnel of E2E spring launch").count() == 1
        check_page(page, "content-detail")
        # And edits it with a mistake: the form says which field and why, and keeps the text
        page.get_by_role("link", name="Edit", exact=True).click()
        check_page(page, "content-edit")
        page.get_by_label("Title", exact=True).fill("E2E spring launch, day one")
        page.get_by_label("Points for an approval").fill("lots")
        page.get_by_role("button", name="Save").click()
        assert page.get_by_role("alert").filter(has_text="Nothing was saved").is_visible()
        assert page.get_by_label("Title", exact=True).input_value() == "E2E spring launch, day one"
        check_page(page, "content-edit-errors")
        page.get_by_label("Points for an approval").fill("25")
        page.get_by_role("button", name="Save").click()
        # Then the detail shows the saved version
        assert page.get_by_role("status").filter(has_text="The item is saved").is_visible()
        assert page.get_by_role("heading", name="E2E spring launch, day one", level=1).is_visible()
        # When the admin retracts it, confirming with the keyboard
        page.get_by_role("link", name="Retract…").click()
        check_page(page, "content-retract")
        page.get_by_role("button", name="Retract this item").focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/console/content/*?done=content-retracted")
        assert page.get_by_text("Retracted", exact=True).first.is_visible()
        # Then it is listed with the retracted items only
        page.goto(f"{cloud.api_url}/console/content?state=retracted&q=e2e")
        assert page.get_by_role("link", name="E2E spring launch, day one").count() == 1
        page.goto(f"{cloud.api_url}/console/content?q=e2e")
        assert page.get_by_role("link", name="E2E spring launch, day one").count() == 0
    finally:
        context.close()


# ---------------------------------------------------------------------------------- Digest
def signed_in_console(cloud: LocalCloudProcess, browser: Any) -> tuple[Any, Any, dict[str, str]]:
    """A browser context signed in to the console as the local demo admin, on the Overview."""
    admin = json.loads((cloud.state_dir / "console-admin.json").read_text(encoding="utf-8"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, cloud)
    return context, page, admin


def test_an_admin_previews_a_digest_and_sends_a_test_to_themself(
    local_cloud_process: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    from tests.e2e.conftest import upload, wait_for_mail

    cloud = local_cloud_process
    # Given an employee who reads French and something to share this week
    upload(
        cloud,
        tmp_path,
        "employees",
        "digest-roster.csv",
        "email,name,groups,timezone,locale\nnoemie.digest@example.com,Noémie Digest,digest-e2e,Europe/Paris,fr\n",
    )
    upload(
        cloud,
        tmp_path,
        "content",
        "digest-news.csv",
        "id,title,url,text,groups\ndigest-e2e,Notre lancement,https://example.com/digest-e2e,Lisez ceci,digest-e2e\n",
    )
    context, page, admin = signed_in_console(cloud, browser)
    try:
        # When the admin opens the Digest page from the navigation and previews her digest by address
        page.get_by_role("link", name="Digest").click()
        page.wait_for_url(f"{cloud.api_url}/console/digest")
        page.get_by_label("Employee's email address or id").fill("noemie.digest@example.com")
        page.get_by_role("button", name="Preview").click()
        page.wait_for_url(f"{cloud.api_url}/console/digest?employee=*")
        # Then the page shows her digest in French, its HTML framed, its links inert
        assert "@" not in page.url
        # (other tests share this cloud: content they uploaded for everyone is in her digest too)
        assert page.get_by_text(re.compile(r"^\d+ contenus? à partager cette semaine$")).first.is_visible()
        frame = page.frame_locator("iframe.preview")
        assert frame.get_by_text("Notre lancement").first.is_visible()
        hrefs = frame.locator("a").evaluate_all("links => links.map(link => link.href)")
        assert hrefs and all(not href.startswith(cloud.api_url) for href in hrefs)
        page.get_by_text("The plain-text part").click()
        assert "https://preview.invalid/a/preview-only" in page.locator("pre.text-part").inner_text()
        check_page(page, "digest-preview")

        # When the admin sends a test to themself (keyboard only)
        page.get_by_role("button", name="Send a test to myself").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{cloud.api_url}/console/digest?*done=digest-test-sent*")
        assert "used up nobody" in page.get_by_role("status").inner_text()

        # Then the local SES sink has it, to the admin, marked as a test; Noémie has nothing yet
        [mail] = wait_for_mail(cloud, admin["username"])
        assert re.fullmatch(r"\[TEST\] \d+ contenus? à partager cette semaine", mail["subject"])
        assert "https://preview.invalid/a/preview-only" in mail["links"]
        assert not [link for link in mail["links"] if link.startswith(cloud.api_url)]
        assert wait_for_mail(cloud, "noemie.digest@example.com", timeout=2) == []

        # And the history and the leaderboards are readable at both widths
        page.goto(f"{cloud.api_url}/console/digest")
        assert "Digest runs of the last 12 weeks" in page.locator("table caption").inner_text()
        check_page(page, "digest")
        page.get_by_role("link", name="Leaderboards").first.click()
        page.wait_for_url(f"{cloud.api_url}/console/leaderboards")
        page.get_by_label("Period").select_option("all")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"{cloud.api_url}/console/leaderboards?*period=all*")
        check_page(page, "leaderboards")
        page.get_by_role("link", name="Team board").click()
        page.wait_for_url(f"{cloud.api_url}/console/leaderboards/teams*")
        check_page(page, "leaderboards-teams")
    finally:
        context.close()


# ---------------------------------------------------------------------------------- Roll-up
def test_an_admin_reads_the_funnel_per_campaign_and_the_top_content_after_the_rollup(
    local_cloud_process: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    import uuid
    from datetime import datetime, timedelta

    import requests

    from chorus.domain.content import content_id_for
    from chorus.store.funnel import FunnelStore, funnel_add

    cloud = local_cloud_process
    run = uuid.uuid4().hex[:8]
    campaign = f"rollup-{run}"
    rows = "\n".join(
        json.dumps(
            {
                "id": f"{campaign}-{n}",
                "title": f"Rolled up {n} ({run})",
                "url": f"https://example.com/{run}/{n}",
                "text": "Share me",
                "campaign": campaign,
            }
        )
        for n in range(2)
    )
    upload(cloud, tmp_path, "content", "rollup.jsonl", rows)
    # Given digests sent of both items and, on the first, many approvals and visits (the scorer's
    # own funnel update: more than any other item in this cloud has)
    client, table = _table(cloud)
    first, second = (content_id_for(f"{campaign}-{n}", "", "") for n in range(2))
    FunnelStore(client, table).add_sent({first: 40, second: 10}, f"digest:{run}")
    counted = funnel_add(table, first, f"approvals:{run}", {"opened": 30, "approvals": 900, "visits": 5000})
    client.update_item(**counted["Update"])

    # When the clock passes a quarter hour, the report function's roll-up schedule fires
    now = datetime.fromisoformat(requests.get(f"{cloud.api_url}/_local/clock", timeout=30).json()["now"])
    ticked = requests.post(
        f"{cloud.api_url}/_local/clock", json={"to": (now + timedelta(minutes=16)).isoformat()}, timeout=600
    ).json()
    assert [fired["ok"] for fired in ticked["fired"] if fired["schedule"].endswith("ReportFunction.Rollup")] == [True]

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, cloud)
        page.goto(f"{cloud.api_url}/console/reports")

        # When the admin picks the campaign (keyboard only)
        page.get_by_label("Campaign", exact=True).select_option(campaign)
        page.get_by_label("Campaign", exact=True).press("Tab")
        page.keyboard.press("Enter")

        # Then its funnel is a chart named for it and a row of the table
        page.wait_for_url(re.compile(r".*/console/reports\?.*campaign=" + campaign))
        assert page.get_by_role("img", name=f"Funnel of {campaign}, all time").count() == 1
        row = page.get_by_role("row").filter(has_text=campaign).first
        assert row.inner_text().split() == [campaign, "2", "50", "30", "900", "0", "5000", "0"]
        assert "Figures as of" in page.locator("main").inner_text()
        check_page(page, "reports-campaign-funnel")

        # And the top content leads with the first item, linked to its detail, its CSV beside it
        page.set_viewport_size({"width": 1280, "height": 900})
        top = page.get_by_role("table", name="Top content by approvals, all time")
        assert top.get_by_role("row").nth(1).get_by_role("link").inner_text() == f"Rolled up 0 ({run})"
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the top content by approvals (CSV)").click()
        lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("rank,content_id,title,campaign,sent") and first in lines[1]
        top.get_by_role("row").nth(1).get_by_role("link").click()
        page.wait_for_url(f"{cloud.api_url}/console/content/{first}")
        assert page.get_by_role("heading", name=f"Rolled up 0 ({run})").is_visible()

        # And the team board says its figures are the roll-up's, as of its time
        page.goto(f"{cloud.api_url}/console/leaderboards/teams")
        assert "Points and participants as of" in page.locator("main").inner_text()
        check_page(page, "teams-rollup")
    finally:
        context.close()


# ---------------------------------------------------------------------------------- Exports
def test_an_admin_exports_the_consent_ledger_for_an_auditor(
    local_cloud_process: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    """The local cloud delivers ReportQueue messages to the report function as Lambda's SQS
    mapping does: the export is produced in the background and the status page links it."""
    import csv
    import hashlib
    import io
    import uuid
    from datetime import UTC, datetime, timedelta

    from chorus.domain.employee import employee_id_for

    cloud = local_cloud_process
    run = uuid.uuid4().hex[:8]
    email = f"auditor-{run}@example.com"
    upload(cloud, tmp_path, "employees", "audit-roster.csv", f"email,name,timezone\n{email},Ines Audit,Europe/Paris\n")
    employee = employee_id_for(email)
    client, table = _table(cloud)
    # Given an approval recorded in the ledger, whose text a spreadsheet would run as a formula
    text = f"=SUM(1+1) is how we count at Chorus ({run}) ✓"
    content = f"c-{hashlib.sha256(('audit' + run).encode()).hexdigest()[:20]}"
    approved_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    recorded_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    approval = {
        "PK": f"EMP#{employee}",
        "SK": f"APPROVAL#{content}#sandbox",
        "GSI1PK": f"APPROVALS#{content}",
        "GSI1SK": f"{employee}#sandbox",
        "entity": "approval",
        "approval_id": f"ap-{run}",
        "employee_id": employee,
        "content_id": content,
        "network": "sandbox",
        "text": text,
        "text_sha256": recorded_hash,
        "publish_at": approved_at,
        "timezone": "Europe/Paris",
        "when": "now",
        "status": "PUBLISHED",
        "schedule_name": f"s-{run}",
        "approved_at": approved_at,
        "channel": "slack",
    }
    client.put_item(TableName=table, Item={name: {"S": value} for name, value in approval.items()})

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, cloud)
        page.get_by_role("link", name="Consent ledger").click()
        page.get_by_label("Email address or id").fill(email)
        page.get_by_role("button", name="Search").click()
        check_page(page, "consent-export")
        # When the admin asks for the export of this search
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("button", name="Export every approval of this search").click()
        page.wait_for_url(re.compile(r"/console/exports/[0-9a-f]{32}\?done=export-requested$"))
        assert "being produced in the background" in page.get_by_role("status").inner_text()
        # Then, once the report function has produced it (a clock tick answers only when every
        # queue it sets off, the report queue included, is drained), a refresh shows the links
        advance_clock(cloud, timedelta(seconds=1))
        page.get_by_role("link", name="Refresh this page").click()
        page.wait_for_load_state()
        body = page.locator("main").inner_text()
        assert "Ready" in body and f"approvals of employee {employee}" in body and "15 minutes" in body
        check_page(page, "export-ready")
        page.set_viewport_size({"width": 1280, "height": 900})
        # And the files download with the exact text and the hash as recorded
        with page.expect_download() as csv_download:
            page.get_by_role("link", name=re.compile(r"\.csv$")).click()
        assert csv_download.value.suggested_filename.startswith("chorus-ledger-employee-")
        raw = Path(csv_download.value.path()).read_bytes()
        [row] = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
        assert row["text"] == "'" + text and row["text_sha256"] == recorded_hash
        assert row["employee_id"] == employee and row["channel"] == "slack" and row["outcome"] == "published"
        assert email.encode() not in raw and b"Ines" not in raw
        with page.expect_download() as json_download:
            page.get_by_role("link", name=re.compile(r"\.jsonl$")).click()
        [line] = Path(json_download.value.path()).read_text(encoding="utf-8").splitlines()
        document = json.loads(line)
        assert document["text"] == text
        assert hashlib.sha256(document["text"].encode("utf-8")).hexdigest() == document["text_sha256"]
    finally:
        context.close()
