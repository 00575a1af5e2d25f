"""Emails carry the company's brand: "Acme via Chorus" as the sender's display name (in the
header bytes) and the heading, the logo with alt text, the accent made readable; counts agree."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

from chorus.domain.branding import Brand
from chorus.domain.content import Content
from chorus.domain.networks import Network
from chorus.messages.channel import Addressee, Digest, DigestItem, Notice, NoticeKind, NoticeMessage
from chorus.messages.email import EmailChannel
from tests.unit.messages.test_email import RecordingMailer, header_block

SENT_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
BRAND = Brand("Acme", "https://cdn.acme.example/logo.png", "#ffcc00")


def sent_digest(brand: Brand, locale: str = "en", points: int = 1, clicks: int = 1) -> bytes:
    mailer = RecordingMailer()
    content = Content(content_id="c-1", title="Q3", url="https://example.com/q3", text="Proud of the team")
    EmailChannel(mailer, sender="news@example.com", sender_name="Chorus", brand=brand).send_digest(
        Digest(
            to=Addressee(employee_id="e-1", email="ada@example.com", name="Ada", locale=locale, timezone="UTC"),
            items=[DigestItem(content=content, link="https://chorus.example.com/a/tok")],
            me_link="https://chorus.example.com/me?t=tok",
            unsubscribe_link="https://chorus.example.com/unsubscribe?t=tok",
            sent_at=SENT_AT,
            last_week_points=points,
            last_week_clicks=clicks,
        )
    )
    (raw,) = mailer.sent
    return raw


def parts(raw: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return text, html


def test_the_sender_is_the_company_via_chorus_in_the_header_bytes():
    assert header_block(sent_digest(BRAND)).startswith(b"From: Acme via Chorus <news@example.com>\r\n")
    assert header_block(sent_digest(Brand())).startswith(b"From: Chorus <news@example.com>\r\n")


def test_the_heading_logo_and_accent():
    text, html = parts(sent_digest(BRAND))
    assert text.startswith("Acme via Chorus\r\n\r\n")
    assert '<img src="https://cdn.acme.example/logo.png" alt="Acme logo"' in html
    assert BRAND.accent_readable in html and "#ffcc00" not in html and "#3b5bdb" not in html


def test_counts_agree_in_both_languages():
    english, _ = parts(sent_digest(BRAND, "en", points=1, clicks=1))
    assert "earned 1 point and brought 1 visit." in english
    french, _ = parts(sent_digest(BRAND, "fr", points=0, clicks=0))
    # no impact line for an empty week; one point, no visit reads in the singular in French
    assert "rapporté" not in french
    french, _ = parts(sent_digest(BRAND, "fr", points=1, clicks=0))
    assert "rapporté 1 point et 0 visite." in french
    assert email.message_from_bytes(sent_digest(BRAND, "fr"), policy=email.policy.default)["Subject"] == (
        "1 contenu à partager cette semaine"
    )


def test_a_notices_date_is_in_the_employees_zone_and_language():
    mailer = RecordingMailer()
    until = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # already 2 December in Paris
    EmailChannel(mailer, sender="news@example.com", sender_name="Chorus", brand=BRAND).send_notice(
        NoticeMessage(
            to=Addressee(employee_id="e-1", email="c@example.com", name="C", locale="fr-FR", timezone="Europe/Paris"),
            notice=Notice(NoticeKind.EXPIRING, Network.LINKEDIN, until=until),
            link="https://chorus.example.com/me?t=tok",
            sent_at=SENT_AT,
        )
    )
    (raw,) = mailer.sent
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Votre connexion LinkedIn se termine le 2 déc. 2026"
    assert header_block(raw).startswith(b"From: Acme via Chorus <news@example.com>\r\n")
