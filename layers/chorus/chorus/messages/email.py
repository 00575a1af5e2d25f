"""The email channel: each message as a MIME message (HTML + plain text, headers and line endings
as ``chorus.messages.mime`` writes them), sent raw through the mail provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chorus.domain.branding import Brand
from chorus.domain.content import Content
from chorus.domain.employee import Employee
from chorus.domain.networks import profile_of
from chorus.messages.channel import Addressee, Digest, NoticeKind, NoticeMessage
from chorus.messages.i18n import counted, language_of, local_date, local_datetime, notice_words, translator
from chorus.messages.mime import MAIL_POLICY, add_one_click_unsubscribe, display_name, new_message
from chorus.messages.rendering import render, render_text


class RawMailer(Protocol):
    def send_raw(self, sender: str, recipient: str, message: bytes) -> str: ...


def _until(content: Content, zone: str, locale: str) -> str | None:
    if content.ends_at is None:
        return None
    return local_date(content.ends_at, zone, locale)


def _brand_context(brand: Brand) -> dict[str, Any]:
    return {"brand": brand, "accent": brand.accent_readable}


def digest_email(
    digest: Digest, *, sender: str, sender_name: str, brand: Brand | None = None, subject_tag: str = ""
) -> bytes:
    """The weekly digest, with RFC 8058 one-click unsubscribe. ``subject_tag`` goes before the
    subject (an admin's test copy says it is one)."""
    to = digest.to
    t = translator(to.locale)
    subject = t["digest_subject"].format(posts=counted(to.locale, "posts", len(digest.items)))
    if subject_tag:
        subject = f"{subject_tag} {subject}"
    context = {
        "t": t,
        "lang": language_of(to.locale),
        "subject": subject,
        "name": display_name(to.name),
        "activities": [
            {
                "title": item.content.title,
                "url": item.content.url,
                "text": item.shown_text,
                "image_url": item.content.image_url,
                "until": _until(item.content, to.timezone, to.locale),
                "link": item.link,
            }
            for item in digest.items
        ],
        "me_link": digest.me_link,
        "impact": (
            t["digest_impact"].format(
                points=counted(to.locale, "points", digest.last_week_points),
                visits=counted(to.locale, "visits", digest.last_week_clicks),
            )
            if digest.last_week_points or digest.last_week_clicks
            else ""
        ),
        "unsubscribe_link": digest.unsubscribe_link,
        **_brand_context(brand or Brand()),
    }
    return _compose(
        to,
        subject,
        digest.sent_at,
        "email/digest",
        context,
        sender=sender,
        sender_name=sender_name,
        unsubscribe=digest.unsubscribe_link,
    )


def notice_email(notice_message: NoticeMessage, *, sender: str, sender_name: str, brand: Brand | None = None) -> bytes:
    to, notice = notice_message.to, notice_message.notice
    t = translator(to.locale)
    network = profile_of(notice.network).label
    date = local_date(notice.until, to.timezone, to.locale) if notice.until else ""
    moment = local_datetime(notice.until, to.timezone, to.locale) if notice.until else ""
    subject, body = notice_words(t, notice.kind.value, network=network, reason=notice.reason, date=date, time=moment)
    context = {
        "t": t,
        "lang": language_of(to.locale),
        "subject": subject,
        "greeting": t["greeting"].format(name=display_name(to.name)),
        "body": body,
        "quote": notice.text,
        "action": t[
            "notice_action_review"
            if notice.kind not in {NoticeKind.RECONNECT, NoticeKind.EXPIRING}
            else "notice_action_reconnect"
        ],
        "link": notice_message.link,
        **_brand_context(brand or Brand()),
    }
    # A notice is about the employee's own posts, not a subscription: it carries no
    # List-Unsubscribe (unsubscribing stops the digest, and a failed post must still be told).
    return _compose(
        to, subject, notice_message.sent_at, "email/notice", context, sender=sender, sender_name=sender_name
    )


def _compose(
    to: Addressee,
    subject: str,
    sent_at: datetime,
    template: str,
    context: dict[str, Any],
    *,
    sender: str,
    sender_name: str,
    unsubscribe: str | None = None,
) -> bytes:
    """The message: its headers (one-click unsubscribe when there is a link for it), the plain-text
    body, then the HTML alternative, from ``<template>.txt.j2`` and ``<template>.html.j2``."""
    message = new_message(
        sender=sender,
        sender_name=sender_name,
        recipient=to.email,
        recipient_name=to.name,
        subject=subject,
        sent_at=sent_at,
    )
    if unsubscribe is not None:
        add_one_click_unsubscribe(message, unsubscribe)
    message.set_content(render_text(f"{template}.txt.j2", **context))
    message.add_alternative(render(f"{template}.html.j2", **context), subtype="html")
    return message.as_bytes()


class EmailChannel:
    def __init__(self, mailer: RawMailer, *, sender: str, sender_name: str, brand: Brand | None = None) -> None:
        self._mailer = mailer
        self._sender = sender
        self._brand = brand or Brand()
        # "Acme via Chorus" when the company is named.
        self._sender_name = self._brand.sender_name(sender_name)

    def reaches(self, employee: Employee) -> bool:
        return employee.can_be_emailed()

    def digest_message(self, digest: Digest, *, subject_tag: str = "") -> bytes:
        """The digest exactly as ``send_digest`` sends it (the console previews this)."""
        return digest_email(
            digest, sender=self._sender, sender_name=self._sender_name, brand=self._brand, subject_tag=subject_tag
        )

    def send_digest(self, digest: Digest) -> None:
        self._mailer.send_raw(self._sender, digest.to.email, self.digest_message(digest))

    def send_digest_copy(self, digest: Digest, *, subject_tag: str) -> None:
        """The digest to ``digest.to.email`` with a tagged subject: an admin's test copy."""
        self._mailer.send_raw(self._sender, digest.to.email, self.digest_message(digest, subject_tag=subject_tag))

    def send_notice(self, message: NoticeMessage) -> None:
        raw = notice_email(message, sender=self._sender, sender_name=self._sender_name, brand=self._brand)
        self._mailer.send_raw(self._sender, message.to.email, raw)


@dataclass(frozen=True)
class MessageParts:
    """What a reader sees of a composed message: its subject and its two bodies."""

    subject: str
    text: str
    html: str


def message_parts(raw: bytes) -> MessageParts:
    """The subject, plain-text and HTML parts of a message composed here, read back from its bytes."""
    from email.message import EmailMessage
    from email.parser import BytesParser

    message = BytesParser(policy=MAIL_POLICY).parsebytes(raw)
    if not isinstance(message, EmailMessage):
        raise TypeError("a message composed here parses as an EmailMessage")
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return MessageParts(
        subject=str(message["Subject"]),
        text=str(text.get_content()) if text is not None else "",
        html=str(html.get_content()) if html is not None else "",
    )
