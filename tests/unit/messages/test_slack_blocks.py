"""The Slack channel's Block Kit, read as the JSON that leaves for chat.postMessage: Slack's
limits kept, every text escaped for mrkdwn, each network's exact text shown whole."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.domain.content import Content, Network
from chorus.domain.networks import networks, profile_of
from chorus.domain.slack import POST_AS_SHOWN, DigestChannel
from chorus.messages.channel import Addressee, Digest, DigestItem
from chorus.messages.slack import (
    MAX_BLOCKS,
    MAX_BUTTON_LABEL,
    MAX_BUTTON_VALUE,
    MAX_SECTION_TEXT,
    SlackChannel,
    SlackOffer,
    escape,
    item_blocks,
)

SENT_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
EDIT = "https://chorus.example.com/a/k1.abc.def"
CONTENT = Content(content_id="c-1", title="Q3 <report> & more", url="https://example.com/q3?a=1&b=2", text="x")


def sections(blocks: Sequence[dict[str, Any]]) -> list[str]:
    return [block["text"]["text"] for block in blocks if block["type"] == "section"]


def shown_text(blocks: Sequence[dict[str, Any]], network_label: str) -> str:
    """What Slack displays for one network: its sections after its label, unescaped, joined."""
    texts: list[str] = []
    current = None
    for block in blocks:
        if block["type"] == "context":
            current = block["elements"][0]["text"]
        elif block["type"] == "section" and current == network_label:
            texts.append(block["text"]["text"])
        elif block["type"] == "actions":
            current = None
    return html.unescape("".join(texts))


class FakeSlack:
    def __init__(self) -> None:
        self.posted: list[tuple[str, str, list[dict[str, Any]]]] = []

    def open_direct_message(self, slack_user_id: str) -> str:
        return f"D-{slack_user_id}"

    def post_message(self, channel_id: str, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        # Through JSON, as slack_sdk sends it: what Slack receives, not our objects.
        self.posted.append((channel_id, text, json.loads(json.dumps(list(blocks)))))


class FixedOffers:
    def __init__(self, offer: SlackOffer) -> None:
        self._offer = offer

    def offer(self, employee_id: str, content: Content, locale: str) -> SlackOffer:
        return self._offer


def test_mrkdwn_control_characters_are_escaped_and_nothing_else():
    assert escape("a & b <c> *d* _e_ `f` <@U123> <!channel>") == (
        "a &amp; b &lt;c&gt; *d* _e_ `f` &lt;@U123&gt; &lt;!channel&gt;"
    )


def test_an_item_shows_each_network_text_escaped_and_the_two_buttons():
    offer = SlackOffer(texts={Network.LINKEDIN: "Proud <of> us & you", Network.X: "<!channel> ping"}, token="k1.t.s")
    blocks = item_blocks(CONTENT, offer, EDIT, "en")
    assert sections(blocks)[0] == "Q3 &lt;report&gt; &amp; more\nhttps://example.com/q3?a=1&amp;b=2"
    assert shown_text(blocks, "LinkedIn") == "Proud <of> us & you"
    assert "&lt;!channel&gt; ping" in sections(blocks)
    (actions,) = [block for block in blocks if block["type"] == "actions"]
    post, edit = actions["elements"]
    assert (post["action_id"], post["value"], post["style"], post["text"]["text"]) == (
        POST_AS_SHOWN,
        "k1.t.s",
        "primary",
        "Post as shown",
    )
    assert (edit["text"]["text"], edit["url"]) == ("Edit first", EDIT)


def test_post_texts_and_titles_are_plain_text_so_slack_formats_nothing_in_them():
    text = "*Not bold* _not italic_ ~kept~ `code` :smile: > no quote"
    blocks = item_blocks(CONTENT, SlackOffer(texts={Network.X: text}, token="k1.t.s"), EDIT, "en")
    shown = [block["text"] for block in blocks if block["type"] == "section"]
    assert all(part["type"] == "plain_text" and part["emoji"] is False for part in shown)
    assert shown[1]["text"] == "*Not bold* _not italic_ ~kept~ `code` :smile: &gt; no quote"


def test_without_a_connected_network_the_button_is_connect_first_and_carries_no_token():
    offer = SlackOffer(texts={Network.LINKEDIN: "Hello"}, token=None)
    (actions,) = [block for block in item_blocks(CONTENT, offer, EDIT, "fr-FR") if block["type"] == "actions"]
    (button,) = actions["elements"]
    assert button["text"]["text"] == "Connecter d'abord" and button["url"] == EDIT and "value" not in button


@settings(max_examples=60, deadline=None)
@given(
    texts=st.dictionaries(
        st.sampled_from(networks()),
        st.text(alphabet=st.sampled_from("&<>a é🎉\n*"), min_size=1, max_size=9000),
        min_size=1,
    )
)
def test_any_text_is_shown_whole_within_slacks_limits(texts):
    blocks = item_blocks(CONTENT, SlackOffer(texts=texts, token="k1." + "t" * 1900 + ".s"), EDIT, "en")
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(text) <= MAX_SECTION_TEXT for text in sections(blocks))
    for block in blocks:
        if block["type"] == "actions":
            assert all(len(button["text"]["text"]) <= MAX_BUTTON_LABEL for button in block["elements"])
    for network, text in texts.items():
        assert shown_text(blocks, profile_of(network).label) == text


def test_a_token_longer_than_a_button_value_is_refused_not_cut():
    offer = SlackOffer(texts={Network.X: "Hi"}, token="t" * (MAX_BUTTON_VALUE + 1))
    with pytest.raises(ValueError, match="2,000"):
        item_blocks(CONTENT, offer, EDIT, "en")


def test_the_digest_is_a_dm_with_an_intro_then_one_message_per_item():
    slack = FakeSlack()
    channel = SlackChannel(slack, FixedOffers(SlackOffer(texts={Network.X: "Hi"}, token="k1.t.s")))
    to = Addressee("e-1", "ada@example.com", "Ada <Admin>", "en", "Europe/Paris", DigestChannel.SLACK, "U1")
    items = [DigestItem(CONTENT, EDIT), DigestItem(CONTENT.model_copy(update={"title": "Two"}), EDIT + "2")]
    channel.send_digest(Digest(to, items, "https://chorus.example.com/me?t=m", "https://u", SENT_AT))
    assert [channel_id for channel_id, _, _ in slack.posted] == ["D-U1"] * 3
    intro = sections(slack.posted[0][2])[0]
    assert "Ada &lt;Admin&gt;" in intro and "<https://chorus.example.com/me?t=m|" in intro
    assert [text for _, text, _ in slack.posted[1:]] == ["Q3 &lt;report&gt; &amp; more", "Two"]
