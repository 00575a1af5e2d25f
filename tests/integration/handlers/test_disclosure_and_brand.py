"""The approval page as API Gateway invokes it, with a disclosure and the company's brand: the
disclosure is proposed in the employee's language, counted, approved in the snapshot (its hash
covers it), and with RequireDisclosure a text without it is refused (400, nothing recorded);
pages carry the brand under a CSP that names only the image origins they show."""

from __future__ import annotations

import hashlib
import re

import pytest

from chorus.domain.branding import contrast_with_white
from chorus.domain.magic_links import ME_SCOPE
from tests.integration.handlers.test_employee_pages import (
    approval_item,
    approve,
    get,
    items,
    schedules,
    token,
)
from tests.support.seed import seed

DISCLOSURE = '{"en": "#employee", "fr": "#collaborateur"}'
CONTENT = {
    "id": "lyon",
    "title": "Lyon <office>",
    "url": "https://example.com/lyon",
    "text": "We opened in Lyon",
    "text_x": "Lyon is open!",
    "image_url": "https://images.example.org/lyon.jpg",
}
EMPLOYEES = [
    {"email": "ada@example.com", "name": "Ada", "timezone": "Europe/Paris", "locale": "en"},
    {"email": "camille@example.com", "name": "Camille", "timezone": "Europe/Paris", "locale": "fr-FR"},
]


@pytest.fixture
def world(aws, monkeypatch):
    monkeypatch.setenv("DISCLOSURE", DISCLOSURE)
    monkeypatch.setenv("COMPANY_NAME", "Acme <Corp>")
    monkeypatch.setenv("LOGO_URL", "https://cdn.acme.example/logo.svg")
    monkeypatch.setenv("ACCENT_COLOR", "#ffcc00")
    seed(aws, [CONTENT], EMPLOYEES)
    return aws


def textarea(body: str, network: str) -> str:
    found = re.search(rf'<textarea id="text_{network}"[^>]*>(.*?)</textarea>', body, re.S)
    assert found, f"no editor for {network}"
    return found.group(1)


class TestDisclosure:
    def test_each_employee_is_offered_the_disclosure_of_their_language(self, world):
        camille = token(employee="camille@example.com")
        assert textarea(get(f"/a/{token()}")["body"], "x") == "Lyon is open!\n\n#employee"
        assert textarea(get(f"/a/{camille}")["body"], "linkedin") == "We opened in Lyon\n\n#collaborateur"

    def test_the_approved_snapshot_and_its_hash_cover_the_disclosure(self, world):
        text = "We opened in Lyon\n\n#employee"
        response = approve(token(), network=["sandbox"], text_sandbox=text)
        assert response["statusCode"] == 303
        item = approval_item(world, "sandbox")
        assert item["text"]["S"] == text
        assert item["text_sha256"]["S"] == hashlib.sha256(text.encode()).hexdigest()

    def test_without_require_disclosure_the_employee_may_remove_it(self, world):
        assert approve(token(), network=["sandbox"], text_sandbox="Lyon, in my words")["statusCode"] == 303
        assert approval_item(world, "sandbox")["text"]["S"] == "Lyon, in my words"

    def test_with_require_disclosure_a_text_without_it_is_refused_and_nothing_recorded(self, world, monkeypatch):
        monkeypatch.setenv("REQUIRE_DISCLOSURE", "true")
        before = items(world)
        response = approve(token(), network=["sandbox", "x"], text_sandbox="Lyon #employees", text_x="Lyon #employee")
        assert response["statusCode"] == 400
        assert "must keep the disclosure #collaborateur or #employee" in response["body"]
        assert "text_sandbox" in response["body"]
        assert items(world) == before and schedules(world) == []
        # Either language's disclosure is accepted (an employee may write in another language)
        ok = approve(token(), network=["sandbox"], text_sandbox="Lyon #collaborateur")
        assert ok["statusCode"] == 303 and approval_item(world, "sandbox") is not None

    def test_the_page_says_a_required_disclosure_stays(self, world, monkeypatch):
        monkeypatch.setenv("REQUIRE_DISCLOSURE", "true")
        body = get(f"/a/{token()}")["body"]
        assert "data-disclosure-required" in body and "must stay in your text" in body


class TestPreview:
    def test_the_page_previews_each_network_escaped_with_its_link_and_card(self, world):
        body = get(f"/a/{token()}")["body"]
        x = body[body.index('data-preview="x"') :]
        x = x[: x.index("</figure>")]
        assert "Lyon is open!\n\n#employee" in x
        # X puts the link in the text after a space: the short link the post will carry
        assert '<span data-preview-separator> </span><span class="preview-link">chorus.example.com/r/' in x
        assert "Lyon &lt;office&gt;" in x and "<office>" not in x
        assert ">example.com<" in x and 'src="https://images.example.org/lyon.jpg"' in x
        linkedin = body[body.index('data-preview="linkedin"') :]
        linkedin = linkedin[: linkedin.index("</figure>")]
        assert "preview-link" not in linkedin  # LinkedIn shows the link as the card only


class TestBrand:
    def test_pages_carry_the_brand_escaped(self, world):
        body = get(f"/a/{token()}")["body"]
        assert '<span class="brand">Acme &lt;Corp&gt; via Chorus</span>' in body
        assert 'src="https://cdn.acme.example/logo.svg" alt="Acme &lt;Corp&gt; logo"' in body
        assert '<link rel="stylesheet" href="/assets/brand.css">' in body

    def test_the_csp_names_only_the_logo_and_the_shown_images_origins(self, world):
        csp = get(f"/a/{token()}")["headers"]["Content-Security-Policy"]
        assert "img-src 'self' https://cdn.acme.example https://images.example.org;" in csp
        assert "https:;" not in csp and "'unsafe-inline'" not in csp
        assert "style-src 'self';" in csp and "script-src 'self';" in csp
        # a page without content images: the logo only; an error page too
        me = get("/me", query={"t": token(ME_SCOPE)})
        assert "img-src 'self' https://cdn.acme.example;" in me["headers"]["Content-Security-Policy"]
        refused = get("/a/not-a-token")
        assert "img-src 'self' https://cdn.acme.example;" in refused["headers"]["Content-Security-Policy"]

    def test_the_accent_is_served_as_a_custom_property_readable_on_white(self, world):
        css = get("/assets/brand.css")
        assert css["headers"]["Content-Type"].startswith("text/css")
        accent = re.fullmatch(r":root \{ --accent: (#[0-9a-f]{6}); \}\n", css["body"])
        assert accent and accent.group(1) != "#ffcc00"
        assert contrast_with_white(accent.group(1)) >= 4.5
