"""The local issuer's sign-in for the admin console: the authorization endpoint (a small login
form for the demo admin), the token endpoint of the code flow (PKCE S256 checked), end-session.

The demo admin's password is generated once per state directory and kept there (mode 0600):
these are local-only credentials, printed by `make demo`. Codes live in memory for five minutes
of the local clock and are used once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from chorus import clock

CONSOLE_CLIENT_ID: Final = "chorus-local-console"
DEMO_ADMIN_FILE: Final = "console-admin.json"
DEMO_ADMIN_USERNAME: Final = "admin@chorus.local"
CODE_TTL_SECONDS: Final = 300
ID_TOKEN_TTL_SECONDS: Final = 3600


@dataclass(frozen=True)
class DemoAdmin:
    username: str
    password: str


def demo_admin(state_dir: Path) -> DemoAdmin:
    """The local console's admin: created on first use, the same after a restart."""
    path = state_dir / DEMO_ADMIN_FILE
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return DemoAdmin(str(stored["username"]), str(stored["password"]))
    admin = DemoAdmin(DEMO_ADMIN_USERNAME, secrets.token_urlsafe(12))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"username": admin.username, "password": admin.password}), encoding="utf-8")
    return admin


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class LoginRefused(Exception):
    """An authorization request this issuer does not answer (shown on the page, never redirected)."""


@dataclass(frozen=True)
class _Grant:
    redirect_uri: str
    challenge: str
    nonce: str
    expires_at: float


class ConsoleLogins:
    def __init__(
        self,
        admin: DemoAdmin,
        *,
        redirect_uri: str,
        claims: Callable[[], dict[str, Any]],
        issue: Callable[[dict[str, Any], int], str],
    ) -> None:
        self.admin = admin
        self._redirect_uri = redirect_uri
        self._claims = claims
        self._issue = issue
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def check(self, params: Mapping[str, str]) -> None:
        """The authorization request is ours: our client, our callback, a code with PKCE S256."""
        if params.get("client_id") != CONSOLE_CLIENT_ID:
            raise LoginRefused("unknown client_id")
        if params.get("redirect_uri") != self._redirect_uri:
            raise LoginRefused("redirect_uri is not the console's callback")
        if params.get("response_type") != "code":
            raise LoginRefused("only response_type=code is supported")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise LoginRefused("PKCE with code_challenge_method=S256 is required")
        if "openid" not in (params.get("scope") or "").split() or not params.get("nonce") or not params.get("state"):
            raise LoginRefused("scope openid, state and nonce are required")

    def log_in(self, params: Mapping[str, str], username: str, password: str) -> str | None:
        """Where to send the browser (the callback with a code), or None for wrong credentials."""
        self.check(params)
        good_name = hmac.compare_digest(username.strip().encode(), self.admin.username.encode())
        good_password = hmac.compare_digest(password.encode(), self.admin.password.encode())
        if not (good_name and good_password):
            return None
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                redirect_uri=params["redirect_uri"],
                challenge=params["code_challenge"],
                nonce=params["nonce"],
                expires_at=clock.timestamp() + CODE_TTL_SECONDS,
            )
        return f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}"

    def token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if (
            grant is None
            or grant.expires_at < clock.timestamp()
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != CONSOLE_CLIENT_ID
            or form.get("redirect_uri") != grant.redirect_uri
            or not hmac.compare_digest(_challenge(form.get("code_verifier", "")), grant.challenge)
        ):
            return 400, {"error": "invalid_grant"}
        claims = {
            **self._claims(),
            "aud": CONSOLE_CLIENT_ID,
            "nonce": grant.nonce,
            "email": self.admin.username,
            "name": "Demo Admin",
        }
        return 200, {"id_token": self._issue(claims, ID_TOKEN_TTL_SECONDS), "token_type": "Bearer"}
