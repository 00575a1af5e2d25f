"""Magic-link tokens: signed, expiring, bound to one employee and one purpose.

Format: ``<kid>.<payload>.<signature>`` (base64url, no padding). The payload is compact JSON
``{"e": employee id, "s": scope, "x": expiry (unix seconds), "n": 16 random bytes}``; the
signature is HMAC-SHA256 over ``<kid>.<payload>`` with the key named by ``kid``. Keys rotate by
adding a new current key: links signed with an older key stay valid until they expire, as long
as that key is still in the key ring.

The scope says what the link may do (its purpose), and every page names the purposes it accepts:

- ``c:<content id>``: one activity page and the decisions on it (ACTIVITY);
- ``me``: the employee's own page and its actions (ME);
- ``unsub``: the digest's unsubscribe link, which mail providers' machines handle (UNSUBSCRIBE);
  it only unsubscribes;
- ``k:<content id>`` or ``k:`` (from /me): connecting or disconnecting a network, minted on the
  page that shows the link, and leading back only to that page (CONNECT);
- ``s:<content id>|<version>|<network>=<sha256>,...``: a Slack "Post as shown" button
  (SLACK_APPROVE): the employee, the content version and the SHA-256 of each network's exact text
  the message showed. It approves only those texts, and only if the content is still that version.

Forms carry their own token (``sign_form``), bound to the page, the employee and the action.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from chorus.errors import ChorusError

NONCE_BYTES = 16  # 128 bits of randomness per link
MAX_ACTIVITY_LIFETIME = timedelta(days=14)
ME_LIFETIME = timedelta(days=14)
UNSUBSCRIBE_LIFETIME = timedelta(days=60)
ME_SCOPE = "me"
UNSUBSCRIBE_SCOPE = "unsub"
_ACTIVITY_PREFIX = "c:"
_CONNECT_PREFIX = "k:"
_SLACK_APPROVE_PREFIX = "s:"


class Purpose(StrEnum):
    ACTIVITY = "activity"
    ME = "me"
    UNSUBSCRIBE = "unsubscribe"
    CONNECT = "connect"
    SLACK_APPROVE = "slack_approve"


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
    def purpose(self) -> Purpose:
        purpose = purpose_of(self.scope)
        if purpose is None:
            raise LinkRejected("this link is not valid")
        return purpose

    @property
    def content_id(self) -> str | None:
        """The activity an ACTIVITY link opens."""
        return self.scope.removeprefix(_ACTIVITY_PREFIX) if self.purpose is Purpose.ACTIVITY else None

    @property
    def origin_scope(self) -> str | None:
        """The page a CONNECT link was minted on: an activity's scope, or ``me``."""
        if self.purpose is not Purpose.CONNECT:
            return None
        content_id = self.scope.removeprefix(_CONNECT_PREFIX)
        return activity_scope(content_id) if content_id else ME_SCOPE

    @property
    def shown(self) -> ShownPosts:
        """What a SLACK_APPROVE button showed (LinkRejected for any other link)."""
        if self.purpose is not Purpose.SLACK_APPROVE:
            raise LinkRejected("this link is meant for another page")
        return ShownPosts.from_scope(self.scope)


@dataclass(frozen=True)
class ShownPosts:
    """One content version and the SHA-256 of each network's text exactly as a message showed it."""

    content_id: str
    version: int
    text_sha256: dict[str, str]

    def scope(self) -> str:
        hashes = ",".join(f"{network}={digest}" for network, digest in sorted(self.text_sha256.items()))
        return f"{_SLACK_APPROVE_PREFIX}{self.content_id}|{self.version}|{hashes}"

    @classmethod
    def from_scope(cls, scope: str) -> ShownPosts:
        # The content id is an uploaded id and may hold "|": the two last fields are ours.
        content_id, _, rest = scope.removeprefix(_SLACK_APPROVE_PREFIX).rpartition("|")
        content_id, _, version = content_id.rpartition("|")
        try:
            hashes = dict(pair.split("=", 1) for pair in rest.split(","))
            shown = cls(content_id=content_id, version=int(version), text_sha256=hashes)
        except ValueError:
            raise LinkRejected("this link is not valid") from None
        if not content_id or not hashes or not all(_is_sha256(digest) for digest in hashes.values()):
            raise LinkRejected("this link is not valid")
        return shown


def _is_sha256(digest: str) -> bool:
    return len(digest) == 64 and all(char in "0123456789abcdef" for char in digest)


def activity_scope(content_id: str) -> str:
    return f"{_ACTIVITY_PREFIX}{content_id}"


def connect_scope(origin_scope: str) -> str:
    """The scope of a connect link minted on the page ``origin_scope`` opens. As long as the
    activity scope it replaces, so a connect link is no longer than the page's own link."""
    if origin_scope == ME_SCOPE:
        return _CONNECT_PREFIX
    if purpose_of(origin_scope) is Purpose.ACTIVITY:
        return _CONNECT_PREFIX + origin_scope.removeprefix(_ACTIVITY_PREFIX)
    raise ValueError("connect links are minted on the activity page and /me only")


def purpose_of(scope: str) -> Purpose | None:
    if scope == ME_SCOPE:
        return Purpose.ME
    if scope == UNSUBSCRIBE_SCOPE:
        return Purpose.UNSUBSCRIBE
    if scope.startswith(_ACTIVITY_PREFIX) and len(scope) > len(_ACTIVITY_PREFIX):
        return Purpose.ACTIVITY
    if scope.startswith(_CONNECT_PREFIX):
        return Purpose.CONNECT
    if scope.startswith(_SLACK_APPROVE_PREFIX) and len(scope) > len(_SLACK_APPROVE_PREFIX):
        return Purpose.SLACK_APPROVE
    return None


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


def verify_link(ring: KeyRing, token: str, now: datetime, purposes: Collection[Purpose]) -> LinkClaims:
    """The claims of a genuine, unexpired link made for one of ``purposes``; LinkRejected otherwise
    (LinkExpired once it has expired). Every caller says what the link must be for."""
    if not purposes:
        raise ValueError("say which purposes the page accepts")
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
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        raise LinkRejected("this link is not valid") from None
    if claims.purpose not in purposes:
        raise LinkRejected("this link is meant for another page")
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


def form_subject(employee_id: str, scope: str, action: str) -> str:
    """What a form token is bound to: the employee, the page (its link's scope) and the action."""
    return f"{employee_id}|{scope}|{action}"


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
