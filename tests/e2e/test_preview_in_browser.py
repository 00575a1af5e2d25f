"""The approval page's previews in headless Chromium, at a phone's width (390 px) and a laptop's
(1280 px): the post as each network will show it, kept in step while the employee types; the
company's brand under the page's own CSP; the disclosure, which RequireDisclosure makes the
server insist on. Screenshots of the previews are kept in test-artifacts/.

As in test_length_counter_in_browser, the page is the real one: the web handler answers
Chromium's requests in-process on moto (GET and the form's POST), and the logo and the content's
image are served from their own https origins, so the CSP Chromium enforces is the page's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

import web_handler
from chorus import bootstrap, clock
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import activity_scope, sign_link
from tests.conftest import MAGIC_LINK_SECRET
from tests.e2e.conftest import shot
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

pytestmark = pytest.mark.e2e

ORIGIN = "http://chorus.test"
LOGO = "https://brand.example.net/acme.svg"
IMAGE = "https://images.example.org/lyon.svg"
ADA = "ada@example.com"
CONTENT = {
    "id": "lyon",
    "title": "Our new Lyon office <opens>",
    "url": "https://www.example.com/news/lyon-office-opening?utm_source=chorus",
    "text": "We opened in Lyon!",
    "image_url": IMAGE,
}
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}"><rect width="100%" height="100%" '
    'fill="{fill}"/></svg>'
)
BRANDING = {
    "COMPANY_NAME": "Acme",
    "LOGO_URL": LOGO,
    "ACCENT_COLOR": "#ffcc00",  # too light on white: darkened to 4.5:1
    "DISCLOSURE": '{"en": "#employee", "fr": "#collaborateur"}',
}


def serve(route: Any) -> None:
    """Answers Chromium's request with the web handler, as API Gateway would."""
    request = route.request
    parts = urlsplit(request.url)
    if parts.netloc == "brand.example.net":
        route.fulfill(status=200, content_type="image/svg+xml", body=SVG.format(w=120, h=40, fill="#222"))
        return
    if parts.netloc == "images.example.org":
        route.fulfill(status=200, content_type="image/svg+xml", body=SVG.format(w=1200, h=630, fill="#8ab"))
        return
    headers = {name: value for name, value in request.headers.items() if name in {"content-type", "sec-fetch-site"}}
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    event = http_event(
        request.method,
        parts.path,
        route="/a/{token}" if parts.path.startswith("/a/") else parts.path,
        body=request.post_data,
        headers=headers,
        query=query or None,
        claims=None,
    )
    response = web_handler.lambda_handler(event, FakeLambdaContext())
    route.fulfill(status=response["statusCode"], headers=response.get("headers", {}), body=response.get("body", ""))


def open_page(browser: Any, token: str, width: int) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # A CSP violation is a console error ("Refused to load ..."): none may happen.
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.route("**/*", serve)
    page.goto(f"{ORIGIN}/a/{token}")
    return page, problems


@pytest.fixture
def token(aws: Any, function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in BRANDING.items():
        monkeypatch.setenv(name, value)
    bootstrap.web_app.cache_clear()  # wired to this test's moto backend and settings
    seed(aws, [CONTENT], [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris", "locale": "en"}])
    expires = clock.now() + timedelta(days=2)
    yield sign_link(parse_key_ring(MAGIC_LINK_SECRET), employee_id(ADA), activity_scope(content_id("lyon")), expires)
    bootstrap.web_app.cache_clear()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_preview_shows_the_post_and_follows_the_typing(browser: Any, token: str, width: int) -> None:
    page, problems = open_page(browser, token, width)
    sandbox = page.locator('[data-preview="sandbox"]')
    # Given the page as served: the proposed text with the disclosure, the link card
    assert page.input_value("#text_sandbox") == "We opened in Lyon!\n\n#employee"
    assert sandbox.locator("[data-preview-text]").text_content() == "We opened in Lyon!\n\n#employee"
    assert sandbox.locator(".link-card-title").text_content() == "Our new Lyon office <opens>"
    assert sandbox.locator(".link-card-domain").text_content() == "example.com"
    assert sandbox.locator(".link-card-image").evaluate("image => image.naturalWidth") == 1200
    # and the brand: the logo (loaded, with alt text), the name, the accent made readable
    logo = page.locator("header img.logo")
    assert logo.get_attribute("alt") == "Acme logo" and logo.evaluate("image => image.naturalWidth") == 120
    assert page.text_content("header .brand") == "Acme via Chorus"
    accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
    assert accent not in {"", "#ffcc00"}
    # Only chosen networks show an editor (sandbox is connected, so chosen; X is not)
    assert page.is_visible("#text_sandbox") and not page.is_visible("#text_x")
    page.check('input[name="network"][value="x"]')
    assert page.is_visible("#text_x")
    # X puts the link in the text after a space: its preview shows where
    assert page.locator('[data-preview="x"] .preview-link').text_content().startswith("chorus.example.com/r/")
    shot(page, f"preview-{width}px")
    # When the employee types (markup stays text)
    page.fill("#text_sandbox", "  Lyon, here we come <b>now</b> 🎉\r\n#employee  ")
    # Then the preview follows, as the server will store it
    assert sandbox.locator("[data-preview-text]").text_content() == "Lyon, here we come <b>now</b> 🎉\n#employee"
    assert sandbox.locator("b").count() == 0
    shot(page, f"preview-{width}px-edited")
    assert problems == []
    page.close()


def test_approving_shows_a_clear_success_state(browser: Any, token: str) -> None:
    page, problems = open_page(browser, token, 390)
    page.fill("#text_sandbox", "Lyon! #employee")
    page.wait_for_timeout(2100)  # forms younger than 2 s are refused (mail scanners)
    page.click("button[value=approve]")
    page.wait_for_selector("[data-approved]")
    assert "Done: your post is scheduled" in page.text_content("[data-approved]")
    assert page.locator('.post [data-preview="sandbox"] [data-preview-text]').text_content() == "Lyon! #employee"
    shot(page, "preview-approved-390px")
    assert problems == []
    page.close()


def test_a_required_disclosure_cannot_be_removed(browser: Any, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUIRE_DISCLOSURE", "true")
    bootstrap.web_app.cache_clear()
    page, problems = open_page(browser, token, 390)
    assert "must stay in your text" in page.text_content(".disclosure.required")
    # The editor refuses the text without it (the browser does not send the form)
    page.fill("#text_sandbox", "Lyon without the tag")
    assert page.evaluate("document.querySelector('#text_sandbox').validationMessage").startswith("Keep #employee")
    # and the server refuses it too, recording nothing (a form sent without the script's check)
    page.evaluate("document.querySelector('#text_sandbox').setCustomValidity('')")
    page.wait_for_timeout(2100)
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.evaluate(
            "document.querySelector('form.approve').requestSubmit(document.querySelector('button[value=approve]'))"
        )
    assert answer.value.status == 400
    page.wait_for_load_state()
    assert "must keep the disclosure #collaborateur or #employee" in page.text_content(".errors")
    assert page.locator("[data-approved]").count() == 0 and page.locator(".post").count() == 0
    shot(page, "preview-disclosure-refused-390px")
    problems = [problem for problem in problems if "400" not in problem]  # the refused POST itself
    assert problems == []
    page.close()
