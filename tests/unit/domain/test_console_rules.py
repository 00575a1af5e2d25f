"""The console's sign-in and session rules, and the sign-in service against in-memory stand-ins:
every refusal leaves nothing written."""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.console import (
    SESSION_ABSOLUTE,
    SESSION_IDLE,
    SIGN_IN_LIFETIME,
    ConsoleSession,
    SignInAttempt,
    SignInFailed,
    hashed,
    pkce_challenge,
)
from chorus.errors import NotAllowed
from chorus.services.console_auth import ConsoleAuth, CsrfRefused, NotSignedIn, SignInRefused

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=43, max_size=128)
)
def test_the_pkce_challenge_is_the_unpadded_base64url_sha256_of_the_verifier(verifier: str):
    challenge = pkce_challenge(verifier)

    assert len(challenge) == 43 and "=" not in challenge
    assert set(challenge) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    padded = challenge.replace("-", "+").replace("_", "/") + "="
    assert binascii.a2b_base64(padded) == hashlib.sha256(verifier.encode("ascii")).digest()


def session(created: datetime = T0, seen: datetime = T0) -> ConsoleSession:
    return ConsoleSession("h", "sub", "Ada", "csrf-token", created, seen)


@given(st.integers(min_value=0, max_value=int(SESSION_ABSOLUTE.total_seconds()) * 2))
def test_a_session_lives_while_used_within_the_idle_time_and_never_past_its_absolute_end(seconds: int):
    now = T0 + timedelta(seconds=seconds)
    recently_used = session(seen=now - SESSION_IDLE + timedelta(seconds=1))

    assert recently_used.expired(now) == (now - T0 > SESSION_ABSOLUTE)
    assert session().expired(now) == (now - T0 > SESSION_IDLE)


def test_a_session_accepts_only_its_own_csrf_token():
    assert session().accepts("csrf-token")
    assert not session().accepts("csrf-token2")
    assert not session().accepts("")
    assert not session().accepts(None)


@dataclass
class Sessions:
    attempts: dict[str, SignInAttempt] = field(default_factory=dict)
    sessions: dict[str, ConsoleSession] = field(default_factory=dict)
    touched: list[datetime] = field(default_factory=list)

    def save_attempt(self, attempt: SignInAttempt) -> None:
        self.attempts[attempt.state_hash] = attempt

    def take_attempt(self, state_hash: str) -> SignInAttempt | None:
        return self.attempts.pop(state_hash, None)

    def save_session(self, opened: ConsoleSession) -> None:
        self.sessions[opened.session_hash] = opened

    def session(self, session_hash: str) -> ConsoleSession | None:
        return self.sessions.get(session_hash)

    def touch(self, session_hash: str, seen_at: datetime) -> None:
        self.touched.append(seen_at)

    def end_session(self, session_hash: str) -> None:
        self.sessions.pop(session_hash, None)


@dataclass(frozen=True)
class Endpoints:
    authorization: str = "https://issuer.example.com/authorize"
    end_session: str | None = None


@dataclass
class Issuer:
    claims: dict[str, Any]
    client_id: str = "console"
    exchanged: list[tuple[str, str, str]] = field(default_factory=list)

    def endpoints(self) -> Endpoints:
        return Endpoints()

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        self.exchanged.append((code, verifier, redirect_uri))
        return "id-token"

    def verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        if self.claims.get("nonce", nonce) != nonce:
            raise SignInFailed("the ID token is not the answer to this sign-in")
        return self.claims


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def service(claims: dict[str, Any] | None = None) -> tuple[ConsoleAuth, Sessions, Issuer, Clock]:
    sessions, issuer, now = Sessions(), Issuer(claims or {"sub": "ada", "groups": ["admins"]}), Clock()
    auth = ConsoleAuth(sessions, issuer, lambda c: "admins" in c.get("groups", []), now=now)
    return auth, sessions, issuer, now


def state_of(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["state"][0]


def test_an_admin_gets_a_session_stored_only_as_hashes():
    auth, sessions, issuer, _ = service()
    start = auth.begin("https://chorus.example.com/console/callback")

    opened = auth.complete(code="c", state=state_of(start.authorization_url), browser_secret=start.browser_secret)

    assert list(sessions.sessions) == [hashed(opened.session_id)]
    assert issuer.exchanged[0][2] == "https://chorus.example.com/console/callback"
    assert sessions.attempts == {}


def test_an_attempt_older_than_its_lifetime_is_refused():
    auth, sessions, issuer, now = service()
    start = auth.begin("https://x/console/callback")
    now.now = T0 + SIGN_IN_LIFETIME + timedelta(seconds=1)

    with pytest.raises(SignInRefused):
        auth.complete(code="c", state=state_of(start.authorization_url), browser_secret=start.browser_secret)
    assert sessions.sessions == {} and issuer.exchanged == []


def test_a_wrong_nonce_opens_no_session():
    auth, sessions, _, _ = service({"sub": "ada", "groups": ["admins"], "nonce": "other"})
    start = auth.begin("https://x/console/callback")

    with pytest.raises(SignInRefused):
        auth.complete(code="c", state=state_of(start.authorization_url), browser_secret=start.browser_secret)
    assert sessions.sessions == {}


def test_a_non_admin_opens_no_session():
    auth, sessions, _, _ = service({"sub": "bob", "groups": ["marketing"]})
    start = auth.begin("https://x/console/callback")

    with pytest.raises(NotAllowed):
        auth.complete(code="c", state=state_of(start.authorization_url), browser_secret=start.browser_secret)
    assert sessions.sessions == {}


def test_an_expired_session_is_refused_and_deleted():
    auth, sessions, _, now = service()
    start = auth.begin("https://x/console/callback")
    opened = auth.complete(code="c", state=state_of(start.authorization_url), browser_secret=start.browser_secret)
    now.now = T0 + SESSION_IDLE + timedelta(seconds=1)

    with pytest.raises(NotSignedIn):
        auth.current(opened.session_id)
    assert sessions.sessions == {}


def test_a_session_is_touched_at_most_once_a_minute():
    auth, sessions, _, now = service()
    start = auth.begin("https://x/console/callback")
    opened = auth.complete(code="c", state=state_of(start.authorization_url), browser_secret=start.browser_secret)

    for seconds in (10, 30, 59):
        now.now = T0 + timedelta(seconds=seconds)
        auth.current(opened.session_id)
    now.now = T0 + timedelta(seconds=61)
    auth.current(opened.session_id)

    assert sessions.touched == [T0 + timedelta(seconds=61)]


def test_sign_out_without_the_csrf_token_changes_nothing():
    auth, sessions, _, _ = service()
    start = auth.begin("https://x/console/callback")
    opened = auth.complete(code="c", state=state_of(start.authorization_url), browser_secret=start.browser_secret)

    with pytest.raises(CsrfRefused):
        auth.sign_out(opened.session, None, return_to="https://x/console/signin")
    assert list(sessions.sessions) == [hashed(opened.session_id)]
    assert auth.sign_out(opened.session, opened.session.csrf_token, return_to="https://x/console/signin") is None
    assert sessions.sessions == {}
