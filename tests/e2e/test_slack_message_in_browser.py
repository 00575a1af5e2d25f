"""The Slack digest message as Slack would show it: the Block Kit JSON our channel sends to
chat.postMessage, rendered to a simple HTML approximation of Slack's layout and screenshotted in
headless Chromium (test-artifacts/slack-digest.png, with the JSON beside it as slack-digest.json)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment

from chorus.domain.content import Content, Network
from chorus.domain.disclosure import Disclosure
from chorus.domain.magic_links import KeyRing
from chorus.domain.slack import DigestChannel
from chorus.messages.channel import Addressee, Digest, DigestItem
from chorus.messages.slack import SlackChannel
from chorus.services.slack import OneClickOffers
from tests.e2e.conftest import ARTIFACTS, shot

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
RING = KeyRing(current="k1", keys={"k1": b"screenshot-key-0123456789abcdef0123"})
CONTENTS = [
    Content(
        content_id="c-3f1a9b0c2d4e5f6a7b8c",
        title="We opened in Lyon <3",
        url="https://example.com/news/lyon?utm_source=chorus&utm_medium=employee",
        text="Proud to share: we opened our Lyon office! 🎉 Come & say hi — we're <hiring>.",
        texts={Network.X: "Our Lyon office is open 🎉 We're hiring!"},
        version=2,
        ends_at=NOW + timedelta(days=10),
    ),
    Content(
        content_id="c-9e8d7c6b5a4f3e2d1c0b",
        title="Q3 report: *record* quarter",
        url="https://example.com/q3",
        text="Our Q3 numbers are out. Thank you to every team that made it happen.",
        version=1,
    ),
]

PAGE = Environment(autoescape=True).from_string(
    """<!doctype html><html><head><meta charset="utf-8"><style>
body { font: 15px/1.46 -apple-system, 'Segoe UI', Roboto, sans-serif; background: #fff; margin: 0; width: 720px; }
.message { display: flex; gap: 8px; padding: 8px 20px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #1d4ed8; color: #fff;
  font-weight: 700; display: flex; align-items: center; justify-content: center; flex: none; }
.name { font-weight: 900; } .app { font-size: 10px; background: #e8e8e8; padding: 1px 3px; border-radius: 3px; }
.section { margin: 4px 0; white-space: pre-wrap; } .context { color: #616061; font-size: 12px; margin-top: 8px; }
.actions { display: flex; gap: 8px; margin: 8px 0 12px; }
.button { border: 1px solid #bbb; border-radius: 4px; padding: 3px 12px; font-weight: 700; font-size: 13px; }
.primary { background: #007a5a; color: #fff; border-color: #007a5a; } a { color: #1264a3; }
</style></head><body>
{% for message in messages %}<div class="message"><div class="avatar">C</div><div>
<div><span class="name">Chorus</span> <span class="app">APP</span></div>
{% for block in message.blocks %}
{% if block.type == "section" %}<div class="section">{{ block.html }}</div>
{% elif block.type == "context" %}<div class="context">{{ block.html }}</div>
{% elif block.type == "actions" %}<div class="actions">{% for button in block.buttons %}
<span class="button {{ button.style }}" data-action="{{ button.action_id }}">{{ button.label }}</span>{% endfor %}</div>
{% endif %}{% endfor %}</div></div>{% endfor %}
</body></html>"""
)


def shown_html(text_object: dict[str, Any]) -> Any:
    """A text object as Slack shows it: plain_text verbatim (its three escapes decoded), mrkdwn
    approximately (<url|label> links, *bold*)."""
    from markupsafe import escape

    if text_object["type"] == "plain_text":
        return escape(html.unescape(text_object["text"]))
    return mrkdwn_html(text_object["text"])


def mrkdwn_html(text: str) -> Any:
    """Slack's mrkdwn, approximately: <url|label> links, *bold*, &amp; &lt; &gt; shown as & < >."""
    from markupsafe import Markup, escape

    parts = re.split(r"(<[^<>|]+\|[^<>]+>)", text)
    out = Markup()
    for part in parts:
        link = re.fullmatch(r"<([^<>|]+)\|([^<>]+)>", part)
        if link:
            out += Markup('<a href="{}">{}</a>').format(html.unescape(link[1]), html.unescape(link[2]))
            continue
        escaped = str(escape(html.unescape(part)))
        out += Markup(re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", escaped))
    return out


def view(messages: list[dict[str, Any]]) -> str:
    shown = []
    for message in messages:
        blocks = []
        for block in message["blocks"]:
            if block["type"] == "section":
                blocks.append({"type": "section", "html": shown_html(block["text"])})
            elif block["type"] == "context":
                blocks.append({"type": "context", "html": shown_html(block["elements"][0])})
            else:
                buttons = [
                    {"label": b["text"]["text"], "style": b.get("style", ""), "action_id": b["action_id"]}
                    for b in block["elements"]
                ]
                blocks.append({"type": "actions", "buttons": buttons})
        shown.append({"blocks": blocks})
    return PAGE.render(messages=shown)


class RecordingSlack:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def open_direct_message(self, slack_user_id: str) -> str:
        return "D0ADA"

    def post_message(self, channel_id: str, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        # As slack_sdk sends it: JSON.
        self.messages.append(json.loads(json.dumps({"channel": channel_id, "text": text, "blocks": list(blocks)})))


class Records:
    def activity(self, employee_id: str, content_id: str) -> Any:
        return SimpleNamespace(connections={})


class Keys:
    def key_ring(self) -> KeyRing:
        return RING


def test_the_slack_digest_renders_with_each_text_and_the_buttons(browser):
    slack = RecordingSlack()
    offers = OneClickOffers(
        Records(),
        Keys(),
        networks=[Network.LINKEDIN, Network.X],
        disclosure=Disclosure({"en": "#employee"}),
        always_connected=frozenset({Network.LINKEDIN, Network.X}),
        now=lambda: NOW,
    )
    to = Addressee("e-1", "ada@example.com", "Ada Lovelace", "en", "Europe/Paris", DigestChannel.SLACK, "U0ADA")
    items = [DigestItem(content, f"https://chorus.example.com/a/k1.{i}.sig") for i, content in enumerate(CONTENTS)]
    digest = Digest(to, items, "https://chorus.example.com/me?t=k1.me.sig", "https://u", NOW, 120, 34)
    SlackChannel(slack, offers).send_digest(digest)

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "slack-digest.json").write_text(json.dumps(slack.messages, indent=2, ensure_ascii=False))
    page = browser.new_page(viewport={"width": 720, "height": 600})
    try:
        page.set_content(view(slack.messages))
        shown = page.inner_text("body")
        assert "Proud to share: we opened our Lyon office! 🎉 Come & say hi — we're <hiring>." in shown
        assert "Our Lyon office is open 🎉 We're hiring!" in shown
        assert "Q3 report: *record* quarter" in shown
        assert "We opened in Lyon <3" in shown and "Last week your posts earned 120 points" in shown
        assert page.locator("[data-action=post_as_shown]").count() == 2
        assert page.locator("[data-action=edit_first]").count() == 2
        shot(page, "slack-digest")
    finally:
        page.close()
    assert (ARTIFACTS / "slack-digest.png").stat().st_size > 10_000
