"""MIME messages as mail providers read them: CRLF line endings, header values that cannot inject
headers, and the RFC 2369 / RFC 8058 list headers unencoded.

Python's default email policy ends lines with a bare LF, and folds a header value that has no
space to fold at (a long unsubscribe URL) into RFC 2047 encoded-words. RFC 2369 §2 wants the
angle-bracketed URL itself, and Gmail and Yahoo show no unsubscribe button for an encoded one.
Here every line ends with CRLF (RFC 5322 §2.1) and the list headers are written verbatim, which
is legal as long as the line stays under RFC 5322's 998-character limit (checked).
"""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid

LIST_UNSUBSCRIBE = "List-Unsubscribe"
LIST_UNSUBSCRIBE_POST = "List-Unsubscribe-Post"
# RFC 5322 §2.1.1: a line is at most 998 characters before its CRLF.
MAX_LINE = 998
_VERBATIM = frozenset({LIST_UNSUBSCRIBE.lower(), LIST_UNSUBSCRIBE_POST.lower()})
# A URL we mint ourselves: no space, no angle bracket, no control character. (RFC 8058 wants
# https; the local cloud serves http on 127.0.0.1.)
_HEADER_URL = re.compile(r"^https?://[!#-;=?-~]+$")
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class _MailPolicy(EmailPolicy):
    """SMTP line endings; the list headers folded nowhere and never encoded."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() in _VERBATIM:
            return f"{name}: {value}{self.linesep}"
        folded: str = super().fold(name, value)
        return folded

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in _VERBATIM:
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy(linesep="\r\n")


def display_name(name: str) -> str:
    """A name as it may appear in a header: stored data can hold CR/LF (an old import, a bug
    elsewhere), which must neither inject a header nor make composing the message fail."""
    return " ".join(_CONTROLS.sub(" ", name).split())


def new_message(
    *, sender: str, sender_name: str, recipient: str, recipient_name: str, subject: str, sent_at: datetime
) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    # Address objects, not formataddr(): formataddr() encodes a non-ASCII name but leaves the
    # specials around the encoded-word unquoted ("=?utf-8?q?=C3=89mile?= Bcc: x@y <a@b>").
    message["From"] = Address(display_name=display_name(sender_name), addr_spec=sender)
    message["To"] = Address(display_name=display_name(recipient_name), addr_spec=recipient)
    message["Subject"] = display_name(subject)
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"
    return message


def add_one_click_unsubscribe(message: EmailMessage, url: str) -> None:
    """RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs to `url`."""
    if not _HEADER_URL.match(url) or len(LIST_UNSUBSCRIBE) + len(url) + 4 > MAX_LINE:
        raise ValueError("the unsubscribe link cannot be carried in a List-Unsubscribe header")
    message[LIST_UNSUBSCRIBE] = f"<{url}>"
    message[LIST_UNSUBSCRIBE_POST] = "List-Unsubscribe=One-Click"
