"""The approval page's live counter in headless Chromium agrees with the server on every text.

The page is the real one (the web handler renders it in-process on moto; Chromium fetches it and
/assets/*.js through a route), so what is tested is the JavaScript an employee runs, fed the
rules and patterns the server sends. Each text is typed into X's, Mastodon's, LinkedIn's and
Bluesky's (graphemes, Intl.Segmenter) textareas and the shown count must equal
`LengthRule.length` of the text as the server would store it: twitter-text's conformance
texts, tricky strings, and seeded random mixes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

import web_handler
from chorus import bootstrap, clock
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import activity_scope, sign_link
from chorus.domain.networks import Network, profile_of
from chorus.services.consent import normalise_text
from tests.conftest import MAGIC_LINK_SECRET
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

pytestmark = pytest.mark.e2e

ORIGIN = "http://chorus.test"
CONFORMANCE = Path(__file__).resolve().parents[1] / "fixtures" / "twitter_text"
NETWORKS = (Network.X, Network.MASTODON, Network.LINKEDIN, Network.BLUESKY)
ADA = "ada@example.com"

TRICKY = [
    "漢" * 129,
    "Ünïcödé ✓ — “quoted” … 日本語のテキスト",
    "👩🏽‍💻👨‍👩‍👧‍👦🏳️‍🌈🇫🇷1️⃣#️⃣🙋🏽‍♀️",
    "e\u0301 vs é and A\u030a",  # NFC on both sides
    "Read https://example.com/a?b=c&d=e#f, then example.co.uk/x (and t.co/abcdef).",
    "http://foobar.پاکستان/ and http://日本語.jp/ and xn--bcher-kva.de",
    "randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com",
    "#launch @team [link](x) <b>*bold*</b> _under_ ~strike~ {brace} | pipe \\ slash",
    "  leading and trailing spaces and\r\nCRLF\r\n  ",
    "\u200d\ufe0f\u200b stray joiners",
]
PIECES = ["word", " ", "\n", "漢字", "é", "e\u0301", "🙋🏽", "👨‍👩‍👧‍👦", "🇫🇷", "1⃣", "#tag", "@team", "(x)", "a.b",
          "example.com", "https://example.org/path?q=1", "www.exämple.de/ü", "t.co/abc", "xn--bcher-kva.de", "\u200d",
          "…", "—", "\t", ".com", "https://", "ﬁ"]  # fmt: skip


def conformance_texts() -> list[str]:
    validate = yaml.safe_load((CONFORMANCE / "validate.yml").read_text(encoding="utf-8"))["tests"]
    extract = yaml.safe_load((CONFORMANCE / "extract.yml").read_text(encoding="utf-8"))["tests"]
    weighted = [case["text"] for case in validate["WeightedTweetsWithDiscountedEmojiCounterTest"]]
    urls = [case["text"] for section in ("urls", "urls_with_indices") for case in extract[section]]
    return weighted + urls


def random_texts(count: int) -> list[str]:
    rng = random.Random(20261129)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def serve(route: Any) -> None:
    """Answers Chromium's request with the web handler, as API Gateway would."""
    path = urlsplit(route.request.url).path
    event = http_event("GET", path, route="/a/{token}" if path.startswith("/a/") else path, claims=None)
    response = web_handler.lambda_handler(event, FakeLambdaContext())
    route.fulfill(status=response["statusCode"], headers=response.get("headers", {}), body=response.get("body", ""))


@pytest.fixture
def page(aws: Any, function_env: dict[str, str], browser: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("NETWORKS", ",".join(network.value for network in NETWORKS))
    bootstrap.web_app.cache_clear()  # wired to this test's moto backend
    content = {"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "We opened in Lyon"}
    seed(aws, [content], [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris", "locale": "en"}])
    expires = clock.now() + timedelta(days=2)
    token = sign_link(parse_key_ring(MAGIC_LINK_SECRET), employee_id(ADA), activity_scope(content_id("lyon")), expires)
    opened = browser.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.route(f"{ORIGIN}/**", serve)
    opened.goto(f"{ORIGIN}/a/{token}")
    # Only chosen networks show their editor: choose the ones typed into.
    for network in NETWORKS:
        opened.check(f'input[name="network"][value="{network.value}"]')
    yield opened
    assert errors == []
    opened.close()
    bootstrap.web_app.cache_clear()


def shown_count(page: Any, network: Network, text: str) -> int:
    page.fill(f"#text_{network.value}", text)
    return int(page.text_content(f'[data-count-for="text_{network.value}"]'))


def expected_count(network: Network, text: str) -> int:
    return profile_of(network).length_rule.length(normalise_text(text))


def test_the_page_shows_the_servers_rules(page: Any) -> None:
    for network in NETWORKS:
        limit = page.text_content(f'[data-limit-for="text_{network.value}"]')
        assert int(limit) == profile_of(network).length_rule.room


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(TRICKY, id="tricky"),
        pytest.param(conformance_texts(), id="twitter-text conformance"),
        pytest.param(random_texts(150), id="random mixes"),
    ],
)
def test_page_and_server_count_alike(page: Any, texts: list[str]) -> None:
    disagreements = []
    for text in texts:
        for network in NETWORKS:
            shown, expected = shown_count(page, network, text), expected_count(network, text)
            if shown != expected:
                disagreements.append((network.value, text[:80], shown, expected))
    assert disagreements == []


def test_over_the_limit_is_marked(page: Any) -> None:
    counter = page.locator('[data-count-for="text_x"]').locator("..")
    page.fill("#text_x", "漢" * 128)
    assert "over" not in (counter.get_attribute("class") or "")
    page.fill("#text_x", "漢" * 129)
    assert "over" in (counter.get_attribute("class") or "")
