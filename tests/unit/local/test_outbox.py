"""Parsing raw MIME mail for the outbox."""

from __future__ import annotations

from email.message import EmailMessage

from chorus_local.outbox import parse_raw


def _raw() -> str:
    message = EmailMessage()
    message["From"] = "Chorus <chorus@example.com>"
    message["To"] = "ada@example.com"
    message["Subject"] = "Your week"
    message["Date"] = "Mon, 02 Jun 2025 09:00:00 +0200"
    message.set_content("Share it: https://chorus.local/a/tok1?x=1&y=2 thanks")
    message.add_alternative(
        '<p><a href="https://chorus.local/a/tok1?x=1&amp;y=2">Share</a> <b>now</b></p>', subtype="html"
    )
    return message.as_string()


def test_parse_raw_mime() -> None:
    parsed = parse_raw(0, "id-1", _raw(), [])
    assert parsed.sender == "Chorus <chorus@example.com>"
    assert parsed.to == ["ada@example.com"]
    assert parsed.subject == "Your week"
    assert "Share it" in parsed.text
    assert "<b>now</b>" in parsed.html
    assert parsed.links == ["https://chorus.local/a/tok1?x=1&y=2"]
    assert parsed.to_dict()["from"] == "Chorus <chorus@example.com>"


def test_text_segments_split_links_for_safe_rendering() -> None:
    parsed = parse_raw(0, "id-1", _raw(), [])
    kinds = [kind for kind, _ in parsed.text_segments()]
    assert kinds == ["text", "link", "text"]
