"""The console's Upload and People pages in headless Chromium on the local cloud: a content file
with refused rows goes from the browser straight to the uploads bucket (the presigned POST form),
the report page waits for the ingest and lists every refused row; a roster file dropped on the
roster form (the progressive script) adds employees, found by address on People, whose page
deactivates them. axe-core finds no serious or critical violation; screenshots at 1280/390 px."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LocalCloudProcess
from tests.e2e.console import check_page, sign_in

pytestmark = pytest.mark.e2e

CONTENT_CSV = (
    "id,title,url,text\n"
    "e2e-1,Our Lyon office,https://example.com/lyon,We opened in Lyon\n"
    "e2e-2,A bad link,ftp://example.com/nope,This one is refused\n"
    "e2e-3,Our Paris office,https://example.com/paris,We opened in Paris\n"
    "e2e-4,,https://example.com/untitled,No title is refused too\n"
)
ROSTER_CSV = "email,name,timezone\ngrace@example.com,Grace Hopper,Europe/Paris\nnot-an-address,Nobody,Europe/Paris\n"


def test_an_admin_uploads_a_file_with_bad_rows_and_reads_the_report(
    local_cloud_process: LocalCloudProcess, browser: Any, tmp_path: Path
) -> None:
    cloud = local_cloud_process
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, cloud)
        page.get_by_role("link", name="Upload").click()
        page.wait_for_url(f"{cloud.api_url}/console/upload")
        check_page(page, "upload")

        # When the admin chooses a content file with two bad rows and sends it
        page.set_viewport_size({"width": 1280, "height": 900})
        content = tmp_path / "spring posts.csv"
        content.write_text(CONTENT_CSV, encoding="utf-8")
        page.get_by_label("Content file").set_input_files(str(content))
        assert page.get_by_text("Chosen: spring posts.csv").is_visible()
        page.get_by_role("button", name="Upload content").click()

        # Then the browser comes back from the bucket to the file's report
        page.wait_for_url(
            re.compile(r".*/console/upload/uploads/content/\d{4}/\d{2}/\d{2}/[0-9a-f]{8}-spring-posts\.csv$")
        )
        # which refreshes itself until the ingest has read the file
        page.get_by_role("heading", name="Refused rows").wait_for(timeout=30_000)
        terms, values = page.locator(".figures dt").all_inner_texts(), page.locator(".figures dd").all_inner_texts()
        figures = dict(zip(terms, values, strict=True))
        assert figures["Accepted"] == "2" and figures["Created"] == "2" and figures["Rejected"] == "2"
        table = page.get_by_role("table", name=re.compile("Refused rows"))
        rows = table.locator("tbody tr")
        assert rows.count() == 2
        refused = [(row.locator("th").inner_text(), row.locator("td").first.inner_text()) for row in rows.all()]
        assert refused == [("3", "url"), ("5", "title")]
        check_page(page, "upload-report")

        # And the report downloads as the JSON file the ingest wrote
        page.set_viewport_size({"width": 1280, "height": 900})
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the report (JSON)").click()
        report = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert report["counts"]["rejected"] == 2 and [error["line"] for error in report["errors"]] == [3, 5]
    finally:
        context.close()


def test_a_dropped_roster_adds_an_employee_the_admin_finds_and_deactivates(
    local_cloud_process: LocalCloudProcess, browser: Any
) -> None:
    cloud = local_cloud_process
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, cloud)
        page.goto(f"{cloud.api_url}/console/upload")
        # When the admin drops a roster file on the roster form (the progressive script)
        dropped = page.evaluate_handle(
            """csv => { const data = new DataTransfer();
                data.items.add(new File([csv], "team roster.csv", {type: "text/csv"})); return data; }""",
            ROSTER_CSV,
        )
        page.dispatch_event("#employees-file", "dragover", {"dataTransfer": dropped})
        page.locator("form.upload .drop").nth(1).dispatch_event("drop", {"dataTransfer": dropped})
        assert page.get_by_text("Chosen: team roster.csv").is_visible()
        page.get_by_role("button", name="Upload roster").click()
        page.wait_for_url(re.compile(r".*/console/upload/uploads/employees/.*-team-roster\.csv$"))
        page.get_by_role("heading", name="Refused rows").wait_for(timeout=30_000)
        assert page.get_by_role("table", name=re.compile("Refused rows")).locator("tbody tr").count() == 1

        # Then People lists Grace, and her address finds her page
        page.get_by_role("link", name="People").click()
        assert page.get_by_role("link", name="Grace Hopper").is_visible()
        check_page(page, "people")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_label("Email address").fill("grace@example.com")
        page.get_by_role("button", name="Find").click()
        page.get_by_role("heading", name="Grace Hopper", level=1).wait_for()
        assert "grace@example.com" not in page.url
        check_page(page, "person")

        # When the admin confirms the deactivation (keyboard only)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_label("I want to deactivate Grace Hopper").focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Deactivate").focus()
        page.keyboard.press("Enter")

        # Then her page says so, and she is no longer on the active roster
        page.get_by_role("status").wait_for()
        assert "their scheduled posts are cancelled" in page.get_by_role("status").inner_text()
        assert page.get_by_text("Inactive").is_visible()
        page.goto(f"{cloud.api_url}/console/people")
        assert page.get_by_role("link", name="Grace Hopper").count() == 0
    finally:
        context.close()
