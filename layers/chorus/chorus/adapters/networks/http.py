"""What the network adapters share: credentials, one guarded way to send, and error translation.

Every failure leaves these modules as a `PublishFailed` with a kind the publisher can act on.
No message built here ever carries an access token: `redact` runs on everything a network
says back, since an employee-chosen Mastodon instance can echo anything.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from chorus.domain.publishing import FailureKind, PublishFailed, Quota

if TYPE_CHECKING:
    import requests

Timeout = float | tuple[float, float]
# (connect, read) seconds: a Lambda invocation must not hang on a slow network.
DEFAULT_TIMEOUT: Timeout = (3.05, 10.0)
Clock = Callable[[], float]

_MAX_REASON = 300
_MAX_RETRY_AFTER = 24 * 60 * 60
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOP_LEVEL = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".arpa")


@dataclass(frozen=True)
class NetworkCredentials:
    """One employee's connection to one network. The token never shows in repr()."""

    access_token: str = field(repr=False)
    member_id: str | None = None
    instance_url: str | None = None
    dpop_key: str | None = field(default=None, repr=False)


class CredentialsLike(Protocol):
    """What a publisher reads from a connection; `NetworkCredentials` and the domain's
    `chorus.domain.connection.Credentials` both fit."""

    @property
    def access_token(self) -> str: ...
    @property
    def member_id(self) -> str | None: ...
    @property
    def instance_url(self) -> str | None: ...
    @property
    def dpop_key(self) -> str | None: ...


def require_token(credentials: CredentialsLike | None, network: str) -> str:
    """The access token, or UNAUTHORIZED (ask the employee to reconnect) before any request."""
    if credentials is None or not credentials.access_token:
        raise PublishFailed(FailureKind.UNAUTHORIZED, f"{network}: not connected, reconnect")
    return credentials.access_token


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def one_line(text: str) -> str:
    """A network's message made safe for a log line: single line, bounded length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_REASON else flat[: _MAX_REASON - 1] + "…"


def json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def network_message(response: requests.Response) -> str:
    """The human-readable part of an error body, whatever shape the network uses."""
    body = json_body(response)
    if isinstance(body, Mapping):
        for key in ("detail", "message", "error_description", "error", "title"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            value = errors[0].get("message")
            if isinstance(value, str) and value.strip():
                return value
    return f"HTTP {response.status_code}"


def failure(
    kind: FailureKind,
    network: str,
    message: str,
    token: str,
    retry_after: int | None = None,
    *,
    quotas: tuple[Quota, ...] = (),
) -> PublishFailed:
    reason = one_line(redact(f"{network}: {message}", (token,)))
    return PublishFailed(kind, reason, retry_after_seconds=retry_after, quotas=quotas)


def encode_json(payload: Mapping[str, Any], network: str) -> bytes:
    """UTF-8 JSON, non-ASCII kept as is: the bytes on the wire are the approved text's bytes."""
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PublishFailed(FailureKind.REJECTED, f"{network}: the text is not valid Unicode") from exc


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    network: str,
    timeout: Timeout,
    headers: Mapping[str, str],
    body: bytes | None = None,
) -> requests.Response:
    """One request, never following redirects (a redirect could lead anywhere, token attached)."""
    # Imported here: a page that only validates an instance URL never loads requests (about
    # 50 ms of the employee page's cold start, bench/cold_start.py).
    import requests

    from chorus.adapters.networks.egress import AddressRefused, HostNotFound

    try:
        return session.request(method, url, headers=dict(headers), data=body, timeout=timeout, allow_redirects=False)
    except AddressRefused as exc:  # an employee-chosen host that leads to a private address
        raise PublishFailed(FailureKind.REJECTED, f"{network}: {exc}; nothing was sent") from exc
    except HostNotFound as exc:
        raise PublishFailed(FailureKind.TRANSIENT, f"{network}: {exc}") from exc
    except requests.Timeout as exc:
        raise PublishFailed(FailureKind.TRANSIENT, f"{network}: no answer in time") from exc
    except requests.ConnectionError as exc:
        raise PublishFailed(FailureKind.TRANSIENT, f"{network}: could not connect") from exc
    except requests.RequestException as exc:
        raise PublishFailed(FailureKind.TRANSIENT, f"{network}: request failed ({type(exc).__name__})") from exc


def classify(
    response: requests.Response,
    *,
    network: str,
    token: str,
    retry_after: int | None,
    unauthorized: frozenset[int] = frozenset({401}),
    quotas: tuple[Quota, ...] = (),
) -> PublishFailed:
    """The generic mapping of a non-2xx answer; adapters check their special cases first.

    A 429 keeps whatever the network said of when to retry (``retry_after``, ``quotas``), and
    nothing when it said nothing: the publisher then backs off with jitter (a fixed wait would
    send every post that was refused together back together)."""
    status = response.status_code
    message = network_message(response)
    if status in unauthorized:
        return failure(FailureKind.UNAUTHORIZED, network, message, token)
    if status == 429:
        return failure(FailureKind.RATE_LIMITED, network, message, token, retry_after, quotas=quotas)
    if status >= 500 or status in (408, 425):
        return failure(FailureKind.TRANSIENT, network, message, token)
    if 300 <= status < 400:
        return failure(FailureKind.REJECTED, network, f"unexpected redirect (HTTP {status})", token)
    return failure(FailureKind.REJECTED, network, message, token)


def _bounded(seconds: float) -> int:
    return int(min(max(1, math.ceil(seconds)), _MAX_RETRY_AFTER))


def seconds_from_retry_after(value: str | None, now: float) -> int | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return _bounded(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _bounded(when.timestamp() - now)


def seconds_until_epoch(value: str | None, now: float) -> int | None:
    if not value or not value.strip().isdigit():
        return None
    return _bounded(int(value) - now)


def seconds_until_iso(value: str | None, now: float) -> int | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _bounded(when.timestamp() - now)


def validate_instance_url(url: str | None, network: str = "mastodon") -> str:
    """An employee-supplied server (a Mastodon instance, a Bluesky PDS), reduced to
    `https://host`, or REJECTED.

    SSRF guard, first half: https only; a public DNS name (no IP literal, no localhost or
    internal suffix, no single-label host, ASCII/punycode only); no userinfo; port absent or 443;
    no path beyond "/", no query, no fragment. The second half is `egress.PublicSession`: every
    request resolves the name, refuses private addresses and connects to the checked one.
    """
    rejected = PublishFailed(FailureKind.REJECTED, f"{network}: the server address is not an allowed https host")
    if not url or len(url) > 300 or not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise rejected
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise rejected from exc
    host = (parts.hostname or "").lower()
    if (
        parts.scheme.lower() != "https"
        or parts.username is not None
        or parts.password is not None
        or "@" in parts.netloc
        or port not in (None, 443)
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.netloc.lower() not in (host, f"{host}:443")
    ):
        raise rejected
    if not _is_public_hostname(host):
        raise rejected
    return f"https://{host}"


def _is_public_hostname(host: str) -> bool:
    if not host or len(host) > 253:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return False
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return False
    if not _TOP_LEVEL.match(labels[-1]):  # also rules out numeric forms like 127.1 or 0x7f.1
        return False
    return host != "localhost" and not host.endswith(_BLOCKED_SUFFIXES)
