"""Rules of the admin console's sign-in and sessions (OpenID Connect code flow with PKCE).

Secrets the browser holds (the session id, the sign-in binding) are stored only as SHA-256
hashes: a read of the table cannot be replayed as a cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

# The issuer's login page has this long to send the browser back.
SIGN_IN_LIFETIME = timedelta(minutes=10)
# A session ends after this long without a request, and in any case this long after sign-in.
SESSION_IDLE = timedelta(minutes=30)
SESSION_ABSOLUTE = timedelta(hours=8)
# last_seen is written at most this often (one write per page would double a page's calls).
TOUCH_EVERY = timedelta(minutes=1)


def random_secret() -> str:
    """256 random bits, URL-safe (RFC 7636 allows 43 characters for a verifier)."""
    return secrets.token_urlsafe(32)


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(ASCII(verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def same_secret(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest((given or "").encode("utf-8"), expected.encode("utf-8"))


class SignInFailed(Exception):
    """The answer from the issuer cannot be trusted or is not for this browser; nothing was stored."""


@dataclass(frozen=True)
class SignInAttempt:
    """What the sign-in POST stores under the hash of ``state`` and the callback takes back once."""

    state_hash: str
    browser_hash: str
    nonce: str
    verifier: str
    redirect_uri: str
    started_at: datetime

    def expired(self, now: datetime) -> bool:
        return now - self.started_at > SIGN_IN_LIFETIME

    def expires_at(self) -> datetime:
        return self.started_at + SIGN_IN_LIFETIME


@dataclass(frozen=True)
class ConsoleSession:
    session_hash: str
    subject: str
    # Shown in the shell ("signed in as"); never logged.
    display_name: str
    csrf_token: str
    created_at: datetime
    last_seen: datetime
    # The ID token's verified email claim ("" without one): where the admin's test emails go.
    email: str = ""

    def expired(self, now: datetime) -> bool:
        return now - self.last_seen > SESSION_IDLE or now - self.created_at > SESSION_ABSOLUTE

    def needs_touch(self, now: datetime) -> bool:
        return now - self.last_seen >= TOUCH_EVERY

    def expires_at(self) -> datetime:
        """When the table may drop it (TTL): the absolute end; idle ends are checked on read."""
        return self.created_at + SESSION_ABSOLUTE

    def accepts(self, csrf_token: str | None) -> bool:
        return same_secret(csrf_token, self.csrf_token)
