"""The local issuer's console sign-in: only our client and callback, PKCE S256 checked at the
token endpoint, codes used once, the demo admin's credentials kept per state directory (0600)."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from chorus_local.auth import LocalIssuer
from chorus_local.console_login import CONSOLE_CLIENT_ID, ConsoleLogins, LoginRefused, demo_admin

ISSUER = "http://127.0.0.1:3000/_local"
CALLBACK = "http://127.0.0.1:3000/console/callback"
VERIFIER = "v" * 43


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[ConsoleLogins, LocalIssuer]:
    issuer = LocalIssuer(tmp_path / "key.pem", ISSUER)
    logins = ConsoleLogins(
        demo_admin(tmp_path),
        redirect_uri=CALLBACK,
        claims=lambda: {"sub": "admin", "cognito:groups": ["chorus-admins"]},
        issue=issuer.issue,
    )
    return logins, issuer


def request(**changes: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": CONSOLE_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
        **changes,
    }


def code_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def test_the_demo_admin_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = demo_admin(tmp_path)

    assert demo_admin(tmp_path) == first
    assert len(first.password) >= 16
    assert stat.S_IMODE((tmp_path / "console-admin.json").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": "other"},
        {"redirect_uri": "https://attacker.example/console/callback"},
        {"code_challenge_method": "plain"},
        {"response_type": "token"},
        {"nonce": ""},
    ],
)
def test_requests_not_from_the_console_are_refused(setup, changes: dict[str, str]) -> None:
    logins, _ = setup

    with pytest.raises(LoginRefused):
        logins.check(request(**changes))


def test_wrong_credentials_give_no_code(setup) -> None:
    logins, _ = setup

    assert logins.log_in(request(), logins.admin.username, "wrong") is None


def test_the_code_gives_an_id_token_once_and_only_with_the_verifier(setup) -> None:
    logins, issuer = setup
    location = logins.log_in(request(), logins.admin.username, logins.admin.password)
    assert location is not None and location.startswith(f"{CALLBACK}?") and "state=s" in location
    form = {"grant_type": "authorization_code", "client_id": CONSOLE_CLIENT_ID, "redirect_uri": CALLBACK}

    assert logins.token({**form, "code": code_of(location), "code_verifier": "w" * 43})[0] == 400
    location = logins.log_in(request(), logins.admin.username, logins.admin.password)
    assert location is not None
    status, answer = logins.token({**form, "code": code_of(location), "code_verifier": VERIFIER})
    replayed, _ = logins.token({**form, "code": code_of(location), "code_verifier": VERIFIER})

    assert status == 200 and replayed == 400
    claims = jwt.decode(
        answer["id_token"],
        jwt.PyJWKSet.from_dict(issuer.jwks()).keys[0].key,
        algorithms=["RS256"],
        audience=CONSOLE_CLIENT_ID,
    )
    assert claims["nonce"] == "n" and claims["iss"] == ISSUER and claims["cognito:groups"] == ["chorus-admins"]
