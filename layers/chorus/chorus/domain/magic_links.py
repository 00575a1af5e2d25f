"""Magic-link tokens: signed, expiring, bound to one employee and one purpose.

Format: ``<kid>.<payload>.<signature>`` (base64url, no padding). The payload is compact JSON
``{"e": employee id, "s": scope, "x": expiry (unix seconds), "n": 16 random bytes}``; the
signature is HMAC-SHA256 over ``<kid>.<payload>`` with the key named by ``kid``. Keys rotate by
adding a new current key: links signed with an older key stay valid until they expire, as long
as that key is still in the key ring.

Scopes: ``c:<content id>`` (one activity), ``me`` (the employee's own page), ``unsub`` (the
digest's unsubscribe link).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chorus.errors import ChorusError

NONCE_BYTES = 16  # 128 bits of randomness per link
MAX_ACTIVITY_LIFETIME = timedelta(days=14)
ME_LIFETIME = timedelta(days=14)
UNSUBSCRIBE_LIFETIME = timedelta(days=60)
ME_SCOPE = "me"
UNSUBSCRIBE_SCOPE = "unsub"


class LinkRejected(ChorusError):
    """A magic link that is tampered with, expired, unknown or used for something else."""

    http_status = 403
    code = "link_rejected"


class LinkExpired(LinkRejected):
    http_status = 410
    code = "link_expired"


@dataclass(frozen=True)
class KeyRing:
    """HMAC keys by id; ``current`` signs, every key verifies."""

    current: str
    keys: dict[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current key id must be one of the keys")
        for kid, key in self.keys.items():
            if len(key) < 32:
                raise ValueError(f"key {kid} is shorter than 256 bits")
            if not kid.isalnum():
                raise ValueError("key ids must be alphanumeric")


@dataclass(frozen=True)
class LinkClaims:
    employee_id: str
    scope: str
    expires_at: datetime

    @property
    def content_id(self) -> str | None:
        return self.scope[2:] if self.scope.startswith("c:") else None


def activity_scope(content_id: str) -> str:
    return f"c:{content_id}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_link(ring: KeyRing, employee_id: str, scope: str, expires_at: datetime) -> str:
    payload = {
        "e": employee_id,
        "s": scope,
        "x": int(expires_at.timestamp()),
        "n": _b64(secrets.token_bytes(NONCE_BYTES)),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signed = f"{ring.current}.{body}"
    signature = hmac.new(ring.keys[ring.current], signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{_b64(signature)}"


def verify_link(ring: KeyRing, token: str, now: datetime) -> LinkClaims:
    parts = token.split(".")
    if len(parts) != 3:
        raise LinkRejected("this link is not valid")
    kid, body, signature = parts
    key = ring.keys.get(kid)
    if key is None:
        raise LinkRejected("this link is not valid (unknown key)")
    expected = hmac.new(key, f"{kid}.{body}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
        payload = json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError):
        raise LinkRejected("this link is not valid") from None
    if not hmac.compare_digest(expected, given):
        raise LinkRejected("this link is not valid")
    try:
        claims = LinkClaims(
            employee_id=str(payload["e"]),
            scope=str(payload["s"]),
            expires_at=datetime.fromtimestamp(int(payload["x"]), UTC),
        )
    except (KeyError, TypeError, ValueError):
        raise LinkRejected("this link is not valid") from None
    if claims.expires_at <= now:
        raise LinkExpired("this link has expired")
    return claims


def activity_link_expiry(now: datetime, content_ends_at: datetime | None) -> datetime:
    """A link to an activity lives until the content window ends, and at most 14 days."""
    latest = now + MAX_ACTIVITY_LIFETIME
    return min(content_ends_at, latest) if content_ends_at else latest


# Mail scanners fetch links and sometimes submit the forms they find, at once. A form carries a
# signed render time, and a POST sooner than this after the page was shown is refused.
FORM_MIN_AGE = timedelta(seconds=2)
FORM_MAX_AGE = timedelta(hours=12)


class FormTooFast(LinkRejected):
    http_status = 429
    code = "form_too_fast"


def sign_form(ring: KeyRing, subject: str, issued_at: datetime) -> str:
    issued = str(int(issued_at.timestamp()))
    signed = f"{ring.current}.{issued}"
    mac = hmac.new(ring.keys[ring.current], f"form\x00{subject}\x00{signed}".encode(), hashlib.sha256).digest()
    return f"{signed}.{_b64(mac)}"


def check_form(ring: KeyRing, token: str, subject: str, now: datetime) -> None:
    """Refuses a form not rendered by us for this subject, too old, or submitted too fast."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] not in ring.keys or not parts[1].isdigit():
        raise LinkRejected("this form is not valid; open the link again")
    kid, issued, mac = parts
    expected = hmac.new(ring.keys[kid], f"form\x00{subject}\x00{kid}.{issued}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(mac)
    except ValueError:
        raise LinkRejected("this form is not valid; open the link again") from None
    if not hmac.compare_digest(expected, given):
        raise LinkRejected("this form is not valid; open the link again")
    age = now - datetime.fromtimestamp(int(issued), UTC)
    if age < FORM_MIN_AGE:
        raise FormTooFast("please review the page before you confirm")
    if age > FORM_MAX_AGE:
        raise LinkRejected("this page is too old; open the link again")
