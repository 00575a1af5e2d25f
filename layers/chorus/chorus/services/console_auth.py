"""Sign-in to the admin console (OIDC code + PKCE) and its server-side sessions.

``begin`` stores state, nonce and PKCE verifier under the hash of ``state``, with the hash of a
secret handed to the browser in an HttpOnly cookie; ``complete`` takes that record back once,
checks it is the same browser, exchanges the code, verifies the ID token and the admin group,
and opens a session. Only then is anything written besides the one-use sign-in record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from chorus import clock
from chorus.domain.console import (
    ConsoleSession,
    SignInAttempt,
    SignInFailed,
    hashed,
    pkce_challenge,
    random_secret,
    same_secret,
)
from chorus.errors import ChorusError, NotAllowed
from chorus.observability import logger

SCOPES = "openid email profile"


class NotSignedIn(ChorusError):
    """No session, an ended one, or one past its idle or absolute end."""

    http_status = 401
    code = "not_signed_in"


class CsrfRefused(ChorusError):
    http_status = 403
    code = "csrf_refused"


class SignInRefused(ChorusError):
    http_status = 400
    code = "sign_in_failed"


class Sessions(Protocol):
    def save_attempt(self, attempt: SignInAttempt) -> None: ...
    def take_attempt(self, state_hash: str) -> SignInAttempt | None: ...
    def save_session(self, session: ConsoleSession) -> None: ...
    def session(self, session_hash: str) -> ConsoleSession | None: ...
    def touch(self, session_hash: str, seen_at: datetime) -> None: ...
    def end_session(self, session_hash: str) -> None: ...


class Endpoints(Protocol):
    @property
    def authorization(self) -> str: ...
    @property
    def end_session(self) -> str | None: ...


class Issuer(Protocol):
    client_id: str

    def endpoints(self) -> Endpoints: ...
    def exchange(self, code: str, verifier: str, redirect_uri: str) -> str: ...
    def verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class SignInStart:
    authorization_url: str
    # Goes to the browser only, in the binding cookie.
    browser_secret: str


@dataclass(frozen=True)
class OpenedSession:
    # Goes to the browser only, in the session cookie.
    session_id: str
    session: ConsoleSession


def verified_email(claims: dict[str, Any]) -> str:
    """The ID token's email claim, unless the issuer says it is not verified (OIDC Core 5.1:
    Cognito sends email_verified as a boolean, some issuers as the string "false")."""
    email = str(claims.get("email") or "")
    if str(claims.get("email_verified", True)).lower() == "false" or "@" not in email:
        return ""
    return email[:254]


class ConsoleAuth:
    def __init__(
        self,
        sessions: Sessions,
        issuer: Issuer,
        is_admin: Callable[[Mapping[str, Any]], bool],
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._sessions = sessions
        self._issuer = issuer
        self._is_admin = is_admin
        self._now = now

    def begin(self, redirect_uri: str) -> SignInStart:
        state, nonce, verifier, browser_secret = (random_secret() for _ in range(4))
        try:
            authorization = self._issuer.endpoints().authorization
        except SignInFailed as error:
            raise SignInRefused(str(error)) from None
        self._sessions.save_attempt(
            SignInAttempt(
                state_hash=hashed(state),
                browser_hash=hashed(browser_secret),
                nonce=nonce,
                verifier=verifier,
                redirect_uri=redirect_uri,
                started_at=self._now(),
            )
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._issuer.client_id,
                "redirect_uri": redirect_uri,
                "scope": SCOPES,
                "state": state,
                "nonce": nonce,
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in authorization else "?"
        return SignInStart(f"{authorization}{separator}{query}", browser_secret)

    def complete(self, *, code: str, state: str, browser_secret: str | None) -> OpenedSession:
        """A session for the admin the issuer vouches for. SignInRefused (400) for anything that
        is not the answer to a sign-in this browser started; NotAllowed (403) for non-admins."""
        attempt = self._sessions.take_attempt(hashed(state)) if state else None
        now = self._now()
        if attempt is None or attempt.expired(now):
            raise SignInRefused("this sign-in is unknown, used or too old; sign in again")
        if not browser_secret or not same_secret(hashed(browser_secret), attempt.browser_hash):
            logger.warning("console sign-in from another browser refused")
            raise SignInRefused("this sign-in was started in another browser; sign in again")
        try:
            id_token = self._issuer.exchange(code, attempt.verifier, attempt.redirect_uri)
            claims = self._issuer.verified_claims(id_token, attempt.nonce)
        except SignInFailed as error:
            logger.warning("console sign-in refused", reason=str(error))
            raise SignInRefused(f"the sign-in could not be completed: {error}") from None
        subject = str(claims["sub"])
        if not self._is_admin(claims):
            logger.warning("console sign-in by a non-admin refused", subject=subject)
            raise NotAllowed("your account is not in the Chorus administrators' group; ask an administrator")
        session_id = random_secret()
        session = ConsoleSession(
            session_hash=hashed(session_id),
            subject=subject,
            display_name=str(claims.get("name") or claims.get("email") or subject)[:200],
            csrf_token=random_secret(),
            created_at=now,
            last_seen=now,
            email=verified_email(claims),
        )
        self._sessions.save_session(session)
        logger.info("console signed in", subject=subject)
        return OpenedSession(session_id, session)

    def replace(self, old_session_id: str | None) -> None:
        """A new sign-in in a browser that had a session ends the old one (one session per cookie)."""
        if old_session_id:
            self._sessions.end_session(hashed(old_session_id))

    def current(self, session_id: str | None) -> ConsoleSession:
        """The browser's live session (NotSignedIn otherwise), its idle end moved forward.

        Pages are GETs, and this writes: the session's own bookkeeping (its last use, at most once
        a minute, and the removal of an ended one), which the admin neither asks for nor sees, as
        RFC 9110 (9.2.1) allows of a safe method. No page's GET changes anything the console shows."""
        if not session_id:
            raise NotSignedIn("sign in to use the console")
        session = self._sessions.session(hashed(session_id))
        now = self._now()
        if session is None:
            raise NotSignedIn("sign in to use the console")
        if session.expired(now):
            self._sessions.end_session(session.session_hash)
            raise NotSignedIn("your session has ended; sign in again")
        if session.needs_touch(now):
            self._sessions.touch(session.session_hash, now)
        return session

    def check_form(self, session: ConsoleSession, csrf_token: str | None) -> None:
        if not session.accepts(csrf_token):
            logger.warning("console form without its CSRF token refused", subject=session.subject)
            raise CsrfRefused("this form was not sent from the console; nothing changed")

    def sign_out(self, session: ConsoleSession, csrf_token: str | None, *, return_to: str) -> str | None:
        """Ends the session; the issuer's end-session URL to go to next, when it has one."""
        self.check_form(session, csrf_token)
        self._sessions.end_session(session.session_hash)
        logger.info("console signed out", subject=session.subject)
        try:
            end_session = self._issuer.endpoints().end_session
        except SignInFailed:
            return None
        if not end_session:
            return None
        # post_logout_redirect_uri is OpenID's; Cognito's /logout reads logout_uri instead.
        query = urlencode(
            {"client_id": self._issuer.client_id, "post_logout_redirect_uri": return_to, "logout_uri": return_to}
        )
        return f"{end_session}{'&' if '?' in end_session else '?'}{query}"
