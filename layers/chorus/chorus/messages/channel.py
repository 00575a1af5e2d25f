"""What is sent to an employee, whatever the channel, and the ``Channel`` that delivers it.

Services build these messages (links already signed) and hand them to a channel; email is one
channel (``chorus.messages.email``), and another (Slack) implements the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chorus.domain.content import Content, Network
from chorus.domain.employee import Employee
from chorus.domain.slack import DigestChannel


@dataclass(frozen=True)
class Addressee:
    """Who a message is for, and how they read it."""

    employee_id: str
    email: str
    name: str
    locale: str
    timezone: str
    # Where the employee wants the digest, and their Slack user when they were matched.
    digest_channel: DigestChannel = DigestChannel.EMAIL
    slack_user_id: str | None = None
    slack_checked_at: datetime | None = None


@dataclass(frozen=True)
class DigestItem:
    content: Content
    link: str
    # What the message quotes: the content's text with the disclosure the employee's posts carry
    # (None: the content's text as uploaded).
    text: str | None = None

    @property
    def shown_text(self) -> str:
        return self.content.text if self.text is None else self.text


@dataclass(frozen=True)
class Digest:
    """The week's things to share, with a link to each, to the employee's page and to unsubscribe."""

    to: Addressee
    items: list[DigestItem]
    me_link: str
    unsubscribe_link: str
    sent_at: datetime
    last_week_points: int = 0
    last_week_clicks: int = 0
    # The ISO week of a weekly digest; None for a digest that is not one (a preview, a test).
    week_id: str | None = None


class NoticeKind(StrEnum):
    RECONNECT = "reconnect"
    FAILED = "failed"
    EXPIRING = "expiring"
    # The network may or may not have the post: the employee checks their profile.
    UNCONFIRMED = "unconfirmed"
    # The compliance review of a post the employee edited (ReviewEditedPosts): ``until`` is when
    # an approved one goes out, ``reason`` the reviewer's note or why it lapsed.
    REVIEW_APPROVED = "review_approved"
    REVIEW_REJECTED = "review_rejected"
    REVIEW_LAPSED = "review_lapsed"


@dataclass(frozen=True)
class Notice:
    """Something about the employee's own posts or connections that needs them."""

    kind: NoticeKind
    network: Network
    content_id: str | None = None
    text: str | None = None
    reason: str = ""
    until: datetime | None = None


@dataclass(frozen=True)
class NoticeMessage:
    to: Addressee
    notice: Notice
    # Where the employee acts on it: the post's page, or their own page.
    link: str
    sent_at: datetime


class Channel(Protocol):
    """A way to reach employees."""

    def reaches(self, employee: Employee) -> bool:
        """Whether a message sent now would reach the employee (an address that bounces does not)."""
        ...

    def send_digest(self, digest: Digest) -> None: ...

    def send_notice(self, message: NoticeMessage) -> None: ...
