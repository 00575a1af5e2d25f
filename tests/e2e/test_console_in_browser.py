"""The admin console in headless Chromium on the local cloud: sign in through the local issuer
(code + PKCE), see the Overview, sign out. Screenshots at 1280 px and 390 px go to
test-artifacts/; axe-core (tools/axe, `make axe`) must find no serious or critical violation on
any console page, and no page may scroll sideways at phone width."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT, LocalCloudProcess, shot

pytestmark = pytest.mark.e2e

AXE = ROOT / "tools/axe/node_modules/axe-core/axe.min.js"
WIDTHS = {"desktop": 1280, "phone": 390}


def axe_violations(page: Any, name: str) -> list[dict[str, Any]]:
    """Serious and critical violations axe-core finds on the page (all results kept as an artifact)."""
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}: run `make axe` (npm ci in tools/axe)", pytrace=False)
    # Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') allows.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(results["violations"], indent=2), encoding="utf-8")
    return [
        {"id": found["id"], "impact": found["impact"], "nodes": [node["target"] for node in found["nodes"]]}
        for found in results["violations"]
        if found["impact"] in {"serious", "critical"}
    ]


def check_page(page: Any, name: str) -> None:
    """Accessible, no sideways scrolling at either width, and a screenshot at each."""
    assert axe_violations(page, name) == []
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        shot(page, f"console-{name}-{label}")


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
        assert page.get_by_role("table").count() == 1
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


def signed_in_console(cloud: LocalCloudProcess, browser: Any) -> tuple[Any, Any, dict[str, str]]:
    """A browser context signed in to the console as the local demo admin, on the Overview."""
    admin = json.loads((cloud.state_dir / "console-admin.json").read_text(encoding="utf-8"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{cloud.api_url}/console")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Email").fill(admin["username"])
    page.get_by_label("Password").fill(admin["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{cloud.api_url}/console")
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
        assert page.get_by_text("1 contenu à partager cette semaine").is_visible()
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
        assert mail["subject"] == "[TEST] 1 contenu à partager cette semaine"
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
