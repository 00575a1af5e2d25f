"""The Slack channel: the week's items as direct messages in Block Kit, one message per item so
that a click replaces only its own item.

Each item shows, per network, the exact text the employee would post (the approval page's
proposal) as ``plain_text``, so that Slack shows every character as it will be posted (in
``mrkdwn``, ``*word*`` would show as a bold word without its asterisks), escaped as Slack asks
for every text object (``&``, ``<``, ``>``: a text cannot mention ``@channel`` or link
elsewhere); then a "Post as shown" button whose value is a signed token binding those texts, and
an "Edit first" link to the approval page. Slack's limits
(https://api.slack.com/reference/block-kit) are kept: at most 50 blocks a message, 3,000
characters of section text (a longer text is split over several sections, never cut), 2,000
characters of button value, 75 of button label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chorus.domain.content import Content, Network
from chorus.domain.employee import Employee
from chorus.domain.networks import profile_of
from chorus.domain.slack import POST_AS_SHOWN
from chorus.messages.channel import Addressee, Digest, NoticeMessage
from chorus.messages.i18n import counted, local_datetime, notice_words, translator
from chorus.messages.mime import display_name

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_LABEL = 75
MAX_FALLBACK_TEXT = 3000

Block = dict[str, Any]


class SlackApi(Protocol):
    def open_direct_message(self, slack_user_id: str) -> str: ...
    def post_message(self, channel_id: str, text: str, blocks: Sequence[Block]) -> None: ...


@dataclass(frozen=True)
class SlackOffer:
    """What one item offers an employee in Slack: the exact text per network they would post,
    and the "Post as shown" token (None when no network is connected: "Connect first")."""

    texts: dict[Network, str]
    token: str | None


class SlackOffers(Protocol):
    def offer(self, employee_id: str, content: Content, locale: str) -> SlackOffer: ...


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pieces(escaped: str, size: int = MAX_SECTION_TEXT) -> list[str]:
    """``escaped`` in pieces of at most ``size`` characters, never splitting an entity (&amp;)."""
    pieces = []
    while len(escaped) > size:
        cut = size
        entity = escaped.rfind("&", cut - 5, cut)
        if entity != -1 and ";" not in escaped[entity:cut]:
            cut = entity
        pieces.append(escaped[:cut])
        escaped = escaped[cut:]
    pieces.append(escaped)
    return pieces


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _plain_section(text: str) -> Block:
    """Shown exactly: no formatting, and ``:smile:`` stays those characters (emoji false)."""
    return {"type": "section", "text": {"type": "plain_text", "text": text, "emoji": False}}


def _button(label: str, action_id: str, **extra: Any) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label[:MAX_BUTTON_LABEL], "emoji": False},
        "action_id": action_id,
        **extra,
    }


def _title_block(content: Content) -> Block:
    # Plain text too: the title and link are the post's link card, shown as they will be posted.
    return _plain_section(f"{escape(content.title)}\n{escape(content.url)}")


def item_blocks(content: Content, offer: SlackOffer, edit_link: str, locale: str) -> list[Block]:
    """One item: its title and link, the text per network, and the buttons."""
    t = translator(locale)
    blocks: list[Block] = [_title_block(content)]
    for network, text in offer.texts.items():
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(profile_of(network).label)}]})
        blocks.extend(_plain_section(piece) for piece in _pieces(escape(text)))
    if offer.token is not None:
        if len(offer.token) > MAX_BUTTON_VALUE:
            raise ValueError("a Post as shown token is longer than Slack's 2,000-character button value")
        primary = _button(t["slack_post_as_shown"], POST_AS_SHOWN, value=offer.token, style="primary")
        edit = _button(t["slack_edit_first"], "edit_first", url=edit_link)
        buttons = [primary, edit]
    else:
        buttons = [_button(t["slack_connect_first"], "connect_first", url=edit_link, style="primary")]
    blocks.append({"type": "actions", "elements": buttons})
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks for one item; Slack takes {MAX_BLOCKS}")
    return blocks


def intro_blocks(digest: Digest) -> list[Block]:
    t = translator(digest.to.locale)
    lines = [escape(t["digest_intro"].format(name=display_name(digest.to.name)))]
    if digest.last_week_points or digest.last_week_clicks:
        locale = digest.to.locale
        impact = t["digest_impact"].format(
            points=counted(locale, "points", digest.last_week_points),
            visits=counted(locale, "visits", digest.last_week_clicks),
        )
        lines.append(escape(impact))
    lines.append(f"<{digest.me_link}|{escape(t['digest_me'])}>")
    return [_section("\n".join(lines))]


def outcome_blocks(content: Content, message: str, link: str, link_label: str) -> list[Block]:
    """What replaces an item's message after a click: what happened, and the page."""
    return [
        _title_block(content),
        _section(escape(message)),
        {"type": "actions", "elements": [_button(link_label, "edit_first", url=link)]},
    ]


def fallback_text(text: str) -> str:
    """The notification text (shown where blocks are not): plain, within Slack's limit."""
    return escape(text)[:MAX_FALLBACK_TEXT]


def local_time(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M")


class SlackChannel:
    """Direct messages to employees matched to a Slack user."""

    def __init__(self, api: SlackApi, offers: SlackOffers) -> None:
        self._api = api
        self._offers = offers

    def reaches(self, employee: Employee) -> bool:
        return employee.slack_user_id is not None and employee.erased_at is None

    def send_digest(self, digest: Digest) -> None:
        user = _slack_user(digest.to)
        channel_id = self._api.open_direct_message(user)
        t = translator(digest.to.locale)
        subject = t["digest_subject"].format(posts=counted(digest.to.locale, "posts", len(digest.items)))
        self._api.post_message(channel_id, fallback_text(subject), intro_blocks(digest))
        for item in digest.items:
            offer = self._offers.offer(digest.to.employee_id, item.content, digest.to.locale)
            blocks = item_blocks(item.content, offer, item.link, digest.to.locale)
            self._api.post_message(channel_id, fallback_text(item.content.title), blocks)

    def send_notice(self, message: NoticeMessage) -> None:
        user = _slack_user(message.to)
        t = translator(message.to.locale)
        notice = message.notice
        network = profile_of(notice.network).label
        date = notice.until.strftime("%Y-%m-%d") if notice.until else ""
        moment = local_datetime(notice.until, message.to.timezone, message.to.locale) if notice.until else ""
        subject, body = notice_words(
            t, notice.kind.value, network=network, reason=notice.reason, date=date, time=moment
        )
        blocks = [_section(f"*{escape(subject)}*\n{escape(body)}\n<{message.link}|{escape(t['slack_open_page'])}>")]
        self._api.post_message(self._api.open_direct_message(user), fallback_text(subject), blocks)


def _slack_user(to: Addressee) -> str:
    if to.slack_user_id is None:
        raise ValueError("this employee has no Slack user")
    return to.slack_user_id
