"""Mail sent through moto SES / SESv2, parsed for the outbox page.

moto keeps every accepted message in its SES backend (SESv2 delegates to it):
``ses_backends[account][region].sent_messages`` holds ``Message`` (simple), ``RawMessage``
(MIME, what our digest sender uses) and template messages. This reads them in-process (the moto
server runs in the same process) and never mutates them.
"""

from __future__ import annotations

import email
import re
from dataclasses import asdict, dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@dataclass
class OutboxMessage:
    index: int
    message_id: str
    sender: str
    to: list[str]
    subject: str
    date: str
    text: str
    html: str
    links: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("sender")
        return data

    def text_segments(self) -> list[tuple[str, str]]:
        """The text body split into ("text", ...) and ("link", url) parts for safe linkifying."""
        segments: list[tuple[str, str]] = []
        position = 0
        for match in _URL.finditer(self.text):
            if match.start() > position:
                segments.append(("text", self.text[position : match.start()]))
            segments.append(("link", match.group(0)))
            position = match.end()
        if position < len(self.text):
            segments.append(("text", self.text[position:]))
        return segments


def _links(text: str, html: str) -> list[str]:
    found: list[str] = []
    for candidate in [*_HREF.findall(html), *_URL.findall(text)]:
        url = candidate.replace("&amp;", "&")
        if url.startswith(("http://", "https://")) and url not in found:
            found.append(url)
    return found


def parse_raw(index: int, message_id: str, raw: str | bytes, destinations: list[str]) -> OutboxMessage:
    parsed = (
        email.message_from_bytes(raw, policy=policy.default)
        if isinstance(raw, bytes)
        else email.message_from_string(raw, policy=policy.default)
    )
    assert isinstance(parsed, EmailMessage)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    text = text_part.get_content() if isinstance(text_part, EmailMessage) else ""
    html = html_part.get_content() if isinstance(html_part, EmailMessage) else ""
    to = [str(addr) for addr in (parsed.get_all("to") or [])] or list(destinations)
    return OutboxMessage(
        index=index,
        message_id=message_id,
        sender=str(parsed.get("from", "")),
        to=to,
        subject=str(parsed.get("subject", "")),
        date=str(parsed.get("date", "")),
        text=str(text),
        html=str(html),
        links=_links(str(text), str(html)),
        headers={key.lower(): str(value) for key, value in parsed.items()},
    )


def _from_moto(index: int, message: Any) -> OutboxMessage:
    if hasattr(message, "raw_data"):
        return parse_raw(index, str(message.id), message.raw_data, list(message.destinations or []))
    if hasattr(message, "subject") and hasattr(message, "body"):
        destinations = message.destinations or {}
        to = list(destinations.get("ToAddresses", [])) if isinstance(destinations, dict) else list(destinations)
        body = str(message.body or "")
        is_html = "<html" in body.lower() or "</" in body
        return OutboxMessage(
            index=index,
            message_id=str(message.id),
            sender=str(message.source),
            to=to,
            subject=str(message.subject or ""),
            date="",
            text="" if is_html else body,
            html=body if is_html else "",
            links=_links("" if is_html else body, body if is_html else ""),
        )
    return OutboxMessage(
        index=index,
        message_id=str(getattr(message, "id", index)),
        sender=str(getattr(message, "source", "")),
        to=[],
        subject=f"(template {getattr(message, 'template', '?')})",
        date="",
        text=str(getattr(message, "template_data", "")),
        html="",
    )


def sent_messages(account_id: str, region: str) -> list[OutboxMessage]:
    from moto.ses.models import ses_backends

    backend = ses_backends[account_id][region]
    return [_from_moto(index, message) for index, message in enumerate(list(backend.sent_messages))]
