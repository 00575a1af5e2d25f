"""What leaves for the mail provider, read as raw bytes (never through the parser that wrote them).

RFC 5322 §2.1: every line ends with CRLF. RFC 2369 §2 / RFC 8058: `List-Unsubscribe` carries the
angle-bracketed URL itself (Gmail and Yahoo show no button for RFC 2047 encoded-words).
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.domain.content import Content, Network
from chorus.domain.employee import Employee
from chorus.domain.magic_links import KeyRing
from chorus.messages.channel import Addressee, Digest, DigestItem, Notice, NoticeKind
from chorus.messages.email import EmailChannel, digest_email
from chorus.messages.mime import display_name
from chorus.services.notices import Notifier

SENT_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
# A real-length token: the URL is far longer than the 78 characters a header line is folded at.
UNSUBSCRIBE = "https://chorus.example.com/unsubscribe?t=k1." + "eyJlIjoiZS0xMjMiLCJzIjoidW5zdWJzY3JpYmUifQ" * 4 + ".s-x"
MESSAGE_HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type"}
DIGEST_HEADERS = MESSAGE_HEADERS | {"List-Unsubscribe", "List-Unsubscribe-Post"}
BARE_LF = re.compile(rb"(?<!\r)\n")
BARE_CR = re.compile(rb"\r(?!\n)")
INJECTED_NAME = "Émilie\r\nBcc: attacker@example.net\nX-Evil: 1\u2028Reply-To: a@b.c"


def digest_bytes(name: str = "Émilie Dupont", unsubscribe: str = UNSUBSCRIBE) -> bytes:
    content = Content(
        content_id="c-1", title="Q3 report", url="https://example.com/q3", text="Proud of the team\nsecond line"
    )
    return digest_email(
        Digest(
            to=Addressee(
                employee_id="e-1", email="emilie@example.com", name=name, locale="fr", timezone="Europe/Paris"
            ),
            items=[DigestItem(content=content, link="https://chorus.example.com/a/tok")],
            me_link="https://chorus.example.com/me?t=tok",
            unsubscribe_link=unsubscribe,
            sent_at=SENT_AT,
        ),
        sender="news@example.com",
        sender_name="Chorus",
    )


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"


def header_names(raw: bytes) -> list[str]:
    """Top-level header names, from the bytes: each line that does not start with white space."""
    lines = header_block(raw).split(b"\r\n")[:-1]
    return [line.split(b":", 1)[0].decode() for line in lines if line[:1] not in (b" ", b"\t")]


def recipients(raw: bytes) -> list[str]:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    return [address.addr_spec for address in parsed["To"].addresses]


class TestDigestBytes:
    def test_every_line_ends_with_crlf(self) -> None:
        raw = digest_bytes()
        assert BARE_LF.search(raw) is None
        assert BARE_CR.search(raw) is None
        assert raw.count(b"\r\n") > 20

    def test_list_unsubscribe_is_the_bare_url_on_one_line(self) -> None:
        # Given an unsubscribe URL longer than a folded header line
        assert len(UNSUBSCRIBE) > 78
        # When the digest is built
        raw = digest_bytes()
        # Then the header is exactly "<url>", unfolded, not an RFC 2047 encoded-word
        assert f"\r\nList-Unsubscribe: <{UNSUBSCRIBE}>\r\n".encode() in raw
        assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
        line = next(line for line in header_block(raw).split(b"\r\n") if line.startswith(b"List-Unsubscribe:"))
        assert b"=?" not in line and len(line) <= 998

    def test_other_headers_still_fold_and_encode_as_rfc_5322_and_2047_want(self) -> None:
        raw = digest_bytes(name="Émilie " + "Dupont-" * 20)
        assert all(len(line) <= 78 for line in header_block(raw).split(b"\r\n") if not line.startswith(b"List-"))
        assert b"To: =?utf-8?" in raw
        assert recipients(raw) == ["emilie@example.com"]

    @pytest.mark.parametrize("url", ["https://chorus.example.com/unsubscribe?t=a b", "https://x/<y>", "mailto:x@y"])
    def test_an_unsafe_unsubscribe_url_is_refused_rather_than_sent(self, url: str) -> None:
        with pytest.raises(ValueError, match="List-Unsubscribe"):
            digest_bytes(unsubscribe=url)

    def test_a_stored_name_with_line_breaks_neither_injects_headers_nor_fails(self) -> None:
        # Given a name in the table with CR, LF and a Unicode line separator
        # When the digest is built
        raw = digest_bytes(name=INJECTED_NAME)
        # Then the message has exactly its own headers, once each, and goes to the employee only
        names = header_names(raw)
        assert set(names) == DIGEST_HEADERS and len(names) == len(DIGEST_HEADERS)
        assert recipients(raw) == ["emilie@example.com"]
        assert b"\nBcc:" not in raw and b"\nX-Evil:" not in raw and b"\nReply-To:" not in raw

    @settings(max_examples=100, deadline=None)
    @given(name=st.text(max_size=120))
    def test_any_name_gives_a_well_formed_message(self, name: str) -> None:
        raw = digest_bytes(name=name)
        assert BARE_LF.search(raw) is None and BARE_CR.search(raw) is None
        assert sorted(header_names(raw)) == sorted(DIGEST_HEADERS)
        assert recipients(raw) == ["emilie@example.com"]


class TestDisplayName:
    @pytest.mark.parametrize(
        ("stored", "shown"),
        [
            ("Ada Lovelace", "Ada Lovelace"),
            ("Ada\r\nLovelace", "Ada Lovelace"),
            ("  Ada \t Lovelace\x00\x85 ", "Ada Lovelace"),
            ("Ada\u2028Lovelace\u2029", "Ada Lovelace"),
        ],
    )
    def test_control_characters_become_single_spaces(self, stored: str, shown: str) -> None:
        assert display_name(stored) == shown


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send_raw(self, sender: str, recipient: str, message: bytes) -> str:
        self.sent.append(message)
        return "m-1"


class OneEmployee:
    def __init__(self, employee: Employee) -> None:
        self.employee = employee

    def get_employee(self, employee_id: str) -> Employee:
        return self.employee


class FixedKeys:
    def key_ring(self) -> KeyRing:
        return KeyRing(current="k1", keys={"k1": b"0" * 32})


def notice_bytes(name: str) -> bytes:
    employee: Any = Employee.model_validate(
        {"employee_id": "e-1", "email": "emilie@example.com", "name": name, "locale": "fr", "timezone": "Europe/Paris"}
    )
    mailer = RecordingMailer()
    notifier = Notifier(
        OneEmployee(employee),
        EmailChannel(mailer, sender="news@example.com", sender_name="Chorus"),
        FixedKeys(),
        base_url="https://chorus.example.com",
        now=lambda: SENT_AT,
    )
    notifier.notify("e-1", Notice(NoticeKind.FAILED, Network.X, content_id="c-1", text="hi", reason="x: refused"))
    (raw,) = mailer.sent
    return raw


class TestNoticeBytes:
    def test_every_line_ends_with_crlf(self) -> None:
        raw = notice_bytes("Émilie Dupont")
        assert BARE_LF.search(raw) is None and BARE_CR.search(raw) is None

    def test_a_stored_name_with_line_breaks_neither_injects_headers_nor_fails(self) -> None:
        raw = notice_bytes(INJECTED_NAME)
        names = header_names(raw)
        assert set(names) == MESSAGE_HEADERS and len(names) == len(MESSAGE_HEADERS)
        assert recipients(raw) == ["emilie@example.com"]

    def test_a_notice_is_not_a_subscription(self) -> None:
        # Unsubscribing stops the digest; a post that did not go out must still be told.
        assert b"List-Unsubscribe" not in notice_bytes("Ada")
