"""Builds the weekly digest as a MIME message: HTML + plain text, RFC 8058 one-click unsubscribe
(headers and line endings as `chorus.web.mime` writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chorus.domain.content import Content
from chorus.web.i18n import language_of, translator
from chorus.web.mime import add_one_click_unsubscribe, display_name, new_message
from chorus.web.rendering import render, render_text


@dataclass(frozen=True)
class DigestActivity:
    content: Content
    link: str


@dataclass(frozen=True)
class DigestEmail:
    sender: str
    sender_name: str
    recipient: str
    recipient_name: str
    locale: str
    timezone: str
    activities: list[DigestActivity]
    me_link: str
    unsubscribe_link: str
    sent_at: datetime
    last_week_points: int = 0
    last_week_clicks: int = 0


def _until(content: Content, zone: str) -> str | None:
    if content.ends_at is None:
        return None
    return content.ends_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d")


def build_digest(mail: DigestEmail) -> bytes:
    t = translator(mail.locale)
    subject = t["digest_subject"].format(count=len(mail.activities))
    context = {
        "t": t,
        "lang": language_of(mail.locale),
        "subject": subject,
        "name": display_name(mail.recipient_name),
        "activities": [
            {
                "title": activity.content.title,
                "url": activity.content.url,
                "text": activity.content.text,
                "image_url": activity.content.image_url,
                "until": _until(activity.content, mail.timezone),
                "link": activity.link,
            }
            for activity in mail.activities
        ],
        "me_link": mail.me_link,
        "impact": (
            t["digest_impact"].format(points=mail.last_week_points, clicks=mail.last_week_clicks)
            if mail.last_week_points or mail.last_week_clicks
            else ""
        ),
        "unsubscribe_link": mail.unsubscribe_link,
    }
    message = new_message(
        sender=mail.sender,
        sender_name=mail.sender_name,
        recipient=mail.recipient,
        recipient_name=mail.recipient_name,
        subject=subject,
        sent_at=mail.sent_at,
    )
    add_one_click_unsubscribe(message, mail.unsubscribe_link)
    message.set_content(render_text("email/digest.txt.j2", **context))
    message.add_alternative(render("email/digest.html.j2", **context), subtype="html")
    return message.as_bytes()
