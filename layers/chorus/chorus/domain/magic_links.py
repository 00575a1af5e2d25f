"""Magic-link tokens: signed, expiring, bound to one employee and one purpose.

Format: ``<kid>.<base64url of fields + MAC>``, short enough that every link in an email is at
most 100 characters (the text part of a digest stays readable). The fields are binary: one byte
saying the scope's kind (``me``, ``unsub``, an activity or a connect link) and which ids are in
their usual form, the expiry (4 bytes, unix seconds), the employee id and, for activity and
connect links, the content id (each 10 bytes when it is ours, ``e-``/``c-`` and 20 hex digits,
else its UTF-8 with a 2-byte length), 2 random bytes so that two links for the same thing
differ, then HMAC-SHA256 over ``link``, the key id and the fields, truncated to 96 bits with the
key named by ``kid``. 96 bits is above RFC 2104's 80-bit floor for truncated MACs, and forging
one means guessing it online, one request at a time (NIST SP 800-107r1, 5.3.4). An activity
link's token is then 55 characters with a two-character key id: with a base URL of up to 40
characters, ``<base>/a/<token>`` is at most 98.

Keys rotate by adding a new current key: links signed with an older key stay valid until they
expire, as long as that key is still in the key ring. Links sent before this format
(``<kid>.<JSON payload>.<full signature>``, three parts) are still verified until they expire.

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
import re
import secrets
import struct
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from chorus.errors import ChorusError

NONCE_BYTES = 2  # links for the same thing differ; guessing one is the MAC's job
MAC_BYTES = 12  # 96 bits
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


class _Kind:
    """The scope's kind, in the low 3 bits of the first byte; bits 3 and 4 say the employee id
    and the content id are stored as given (UTF-8) rather than in their usual form."""

    SCOPE = 0  # any other scope, stored as given (no page accepts it, but it must round-trip)
    ME = 1
    UNSUBSCRIBE = 2
    ACTIVITY = 3
    CONNECT = 4
    CONNECT_FROM_ME = 5


_AS_GIVEN_EMPLOYEE = 0x08
_AS_GIVEN_CONTENT = 0x10
_KNOWN_BITS = 0x07 | _AS_GIVEN_EMPLOYEE | _AS_GIVEN_CONTENT
_EXPIRY = struct.Struct(">I")
_OUR_ID = re.compile(r"[0-9a-f]{20}")
_EMPLOYEE_PREFIX = "e-"
_CONTENT_PREFIX = "c-"


def _pack_id(value: str, prefix: str | None) -> tuple[bool, bytes]:
    """(stored as given, bytes): 10 bytes for our own ids (``prefix`` and 20 hex digits), else a
    2-byte length and the UTF-8 (always, without a prefix)."""
    if prefix is not None and value.startswith(prefix) and _OUR_ID.fullmatch(value.removeprefix(prefix)):
        digits = value.removeprefix(prefix)
        return False, bytes.fromhex(digits)
    raw = value.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ValueError("an id in a link is at most 65535 bytes")
    return True, struct.pack(">H", len(raw)) + raw


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, size: int) -> bytes:
        if self._at + size > len(self._data):
            raise ValueError("too short")
        chunk = self._data[self._at : self._at + size]
        self._at += size
        return chunk

    def id(self, prefix: str | None, as_given: bool) -> str:
        if prefix is not None and not as_given:
            return prefix + self.take(10).hex()
        (size,) = struct.unpack(">H", self.take(2))
        return self.take(size).decode("utf-8")

    def finished(self) -> bool:
        return self._at == len(self._data)


def _scope_fields(scope: str) -> tuple[int, str | None]:
    """The kind of ``scope`` and the content id (or whole scope) it carries."""
    if scope == ME_SCOPE:
        return _Kind.ME, None
    if scope == UNSUBSCRIBE_SCOPE:
        return _Kind.UNSUBSCRIBE, None
    if scope == _CONNECT_PREFIX:
        return _Kind.CONNECT_FROM_ME, None
    if scope.startswith(_ACTIVITY_PREFIX) and len(scope) > len(_ACTIVITY_PREFIX):
        return _Kind.ACTIVITY, scope.removeprefix(_ACTIVITY_PREFIX)
    if scope.startswith(_CONNECT_PREFIX) and len(scope) > len(_CONNECT_PREFIX):
        return _Kind.CONNECT, scope.removeprefix(_CONNECT_PREFIX)
    return _Kind.SCOPE, scope


def _scope_of(kind: int, carried: str | None) -> str:
    fixed = {_Kind.ME: ME_SCOPE, _Kind.UNSUBSCRIBE: UNSUBSCRIBE_SCOPE, _Kind.CONNECT_FROM_ME: _CONNECT_PREFIX}
    if kind in fixed:
        return fixed[kind]
    if carried is None:
        raise ValueError("no scope")
    if kind == _Kind.ACTIVITY:
        return _ACTIVITY_PREFIX + carried
    if kind == _Kind.CONNECT:
        return _CONNECT_PREFIX + carried
    return carried


def _link_mac(key: bytes, kid: str, fields: bytes) -> bytes:
    return hmac.new(key, b"link\x00" + kid.encode() + b"\x00" + fields, hashlib.sha256).digest()[:MAC_BYTES]


def sign_link(ring: KeyRing, employee_id: str, scope: str, expires_at: datetime) -> str:
    kind, carried = _scope_fields(scope)
    employee_as_given, employee = _pack_id(employee_id, _EMPLOYEE_PREFIX)
    flags = kind | (_AS_GIVEN_EMPLOYEE if employee_as_given else 0)
    content = b""
    if carried is not None:
        # A scope of another kind is carried whole, as given.
        content_as_given, content = _pack_id(carried, _CONTENT_PREFIX if kind != _Kind.SCOPE else None)
        flags |= _AS_GIVEN_CONTENT if content_as_given else 0
    fields = (
        bytes([flags])
        + _EXPIRY.pack(max(0, min(int(expires_at.timestamp()), 0xFFFFFFFF)))
        + employee
        + content
        + secrets.token_bytes(NONCE_BYTES)
    )
    kid = ring.current
    return f"{kid}.{_b64(fields + _link_mac(ring.keys[kid], kid, fields))}"


def _compact_claims(ring: KeyRing, kid: str, encoded: str) -> LinkClaims:
    key = ring.keys.get(kid)
    if key is None:
        raise LinkRejected("this link is not valid (unknown key)")
    try:
        raw = _unb64(encoded)
    except ValueError:
        raise LinkRejected("this link is not valid") from None
    # One spelling per link: base64's unused low bits must be zero.
    if len(raw) <= MAC_BYTES or _b64(raw) != encoded:
        raise LinkRejected("this link is not valid")
    fields, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if not hmac.compare_digest(_link_mac(key, kid, fields), mac):
        raise LinkRejected("this link is not valid")
    try:
        reader = _Reader(fields)
        flags = reader.take(1)[0]
        kind = flags & 0x07
        if flags & ~_KNOWN_BITS or kind > _Kind.CONNECT_FROM_ME:
            raise ValueError("unknown kind")
        (expiry,) = _EXPIRY.unpack(reader.take(_EXPIRY.size))
        employee_id = reader.id(_EMPLOYEE_PREFIX, bool(flags & _AS_GIVEN_EMPLOYEE))
        carried = None
        if kind in {_Kind.SCOPE, _Kind.ACTIVITY, _Kind.CONNECT}:
            as_given = bool(flags & _AS_GIVEN_CONTENT) or kind == _Kind.SCOPE
            carried = reader.id(_CONTENT_PREFIX, as_given)
        reader.take(NONCE_BYTES)
        if not reader.finished():
            raise ValueError("trailing bytes")
        return LinkClaims(employee_id, _scope_of(kind, carried), datetime.fromtimestamp(expiry, UTC))
    except (ValueError, struct.error):
        # Signed by us, so only a bug of ours gets here; still, never a 500 for a link.
        raise LinkRejected("this link is not valid") from None


def _legacy_claims(ring: KeyRing, kid: str, body: str, signature: str) -> LinkClaims:
    """A link in the first format (JSON payload, full HMAC), as digests sent before hold."""
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
        return LinkClaims(
            employee_id=str(payload["e"]),
            scope=str(payload["s"]),
            expires_at=datetime.fromtimestamp(int(payload["x"]), UTC),
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        raise LinkRejected("this link is not valid") from None


def verify_link(ring: KeyRing, token: str, now: datetime, purposes: Collection[Purpose]) -> LinkClaims:
    """The claims of a genuine, unexpired link made for one of ``purposes``; LinkRejected otherwise
    (LinkExpired once it has expired). Every caller says what the link must be for."""
    if not purposes:
        raise ValueError("say which purposes the page accepts")
    parts = token.split(".")
    if len(parts) == 2:
        claims = _compact_claims(ring, parts[0], parts[1])
    elif len(parts) == 3:
        claims = _legacy_claims(ring, *parts)
    else:
        raise LinkRejected("this link is not valid")
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
