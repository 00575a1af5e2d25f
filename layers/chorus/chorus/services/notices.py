"""Emails that tell an employee something needs them: reconnect, a post that did not go out,
a connection about to end. Each carries a magic link to act on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from chorus import clock
from chorus.domain.content import Network
from chorus.domain.employee import Employee
from chorus.domain.magic_links import ME_LIFETIME, ME_SCOPE, KeyRing, activity_scope, sign_link
from chorus.observability import logger
from chorus.web.i18n import language_of, translator
from chorus.web.mime import display_name, new_message
from chorus.web.rendering import render, render_text

NETWORK_NAMES = {Network.LINKEDIN: "LinkedIn", Network.X: "X", Network.MASTODON: "Mastodon", Network.SANDBOX: "Sandbox"}
NOTICE_LINK_LIFETIME = timedelta(days=7)


class NoticeKind(StrEnum):
    RECONNECT = "reconnect"
    FAILED = "failed"
    EXPIRING = "expiring"


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    network: Network
    content_id: str | None = None
    text: str | None = None
    reason: str = ""
    until: datetime | None = None


class Profiles(Protocol):
    def get_employee(self, employee_id: str) -> Employee: ...


class EmailSender(Protocol):
    def send_raw(self, sender: str, recipient: str, message: bytes) -> str: ...


class KeyRingSource(Protocol):
    def key_ring(self) -> KeyRing: ...


class Notifier:
    def __init__(
        self,
        profiles: Profiles,
        mailer: EmailSender,
        keys: KeyRingSource,
        *,
        base_url: str,
        sender: str,
        sender_name: str,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._profiles = profiles
        self._mailer = mailer
        self._keys = keys
        self._base_url = base_url
        self._sender = sender
        self._sender_name = sender_name
        self._now = now

    def notify(self, employee_id: str, notice: Notice) -> None:
        employee = self._profiles.get_employee(employee_id)
        if not employee.can_be_emailed():
            logger.info("notice not sent: the address bounces", employee_id=employee_id, kind=notice.kind.value)
            return
        self._mailer.send_raw(self._sender, employee.email, self._compose(employee, notice))
        logger.info("notice sent", employee_id=employee_id, kind=notice.kind.value, network=notice.network.value)

    def _compose(self, employee: Employee, notice: Notice) -> bytes:
        t = translator(employee.locale)
        network = NETWORK_NAMES[notice.network]
        now = self._now()
        ring = self._keys.key_ring()
        if notice.content_id:
            token = sign_link(ring, employee.employee_id, activity_scope(notice.content_id), now + NOTICE_LINK_LIFETIME)
            link = f"{self._base_url}/a/{token}"
        else:
            token = sign_link(ring, employee.employee_id, ME_SCOPE, now + ME_LIFETIME)
            link = f"{self._base_url}/me?t={token}"
        date = notice.until.strftime("%Y-%m-%d") if notice.until else ""
        subject = t[f"notice_{notice.kind.value}_subject"].format(network=network, date=date)
        context = {
            "lang": language_of(employee.locale),
            "subject": subject,
            "greeting": t["greeting"].format(name=display_name(employee.name)),
            "body": t[f"notice_{notice.kind.value}_body"].format(network=network, reason=notice.reason, date=date),
            "quote": notice.text,
            "action": t["notice_action_review" if notice.kind is NoticeKind.FAILED else "notice_action_reconnect"],
            "link": link,
        }
        # A notice is about the employee's own posts, not a subscription: it carries no
        # List-Unsubscribe (unsubscribing stops the digest, and a failed post must still be told).
        message = new_message(
            sender=self._sender,
            sender_name=self._sender_name,
            recipient=employee.email,
            recipient_name=employee.name,
            subject=subject,
            sent_at=now,
        )
        message.set_content(render_text("email/notice.txt.j2", **context))
        message.add_alternative(render("email/notice.html.j2", **context), subtype="html")
        return message.as_bytes()
