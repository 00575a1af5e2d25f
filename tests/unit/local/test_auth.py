"""Local issuer and the authorizer's claim rendering (no network: keys in tmp_path)."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from chorus_local.auth import LocalIssuer, Unauthorized, authorizer_context, render_claim

ISSUER = "http://127.0.0.1:3000/_local"


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        (["chorus-admins", "other"], "[chorus-admins other]"),
        (["one"], "[one]"),
        ([], "[]"),
        (1700000000, "1700000000"),
        (1.5, "1.5"),
        (2.0, "2"),
        (True, "true"),
        ("text", "text"),
        ({"b": 1, "a": "x"}, "map[a:x b:1]"),
    ],
)
def test_claims_render_like_api_gateway(value: object, rendered: str) -> None:
    assert render_claim(value) == rendered


def test_authorizer_context_shape() -> None:
    context = authorizer_context({"sub": "u", "cognito:groups": ["chorus-admins"], "exp": 5})
    assert context == {"jwt": {"claims": {"sub": "u", "cognito:groups": "[chorus-admins]", "exp": "5"}, "scopes": None}}
    assert authorizer_context({"scope": "a b"})["jwt"]["scopes"] == ["a", "b"]


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "key.pem", ISSUER)


def test_issued_token_verifies(issuer: LocalIssuer) -> None:
    token = issuer.issue({"sub": "u1", "cognito:groups": ["chorus-admins"]})
    claims = issuer.verify(f"Bearer {token}")
    assert claims["sub"] == "u1"
    assert claims["aud"] == "chorus-local-admin"
    assert issuer.verify(token)["sub"] == "u1"  # API Gateway also accepts a bare token


def test_key_survives_a_restart(tmp_path: Path) -> None:
    token = LocalIssuer(tmp_path / "key.pem", ISSUER).issue({"sub": "u"})
    assert LocalIssuer(tmp_path / "key.pem", ISSUER).verify(token)["sub"] == "u"
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer not-a-jwt", "Basic abc"])
def test_missing_or_garbage_is_unauthorized(issuer: LocalIssuer, header: str | None) -> None:
    with pytest.raises(Unauthorized):
        issuer.verify(header)


def test_expired_wrong_audience_wrong_issuer_and_foreign_key(issuer: LocalIssuer, tmp_path: Path) -> None:
    with pytest.raises(Unauthorized):
        issuer.verify(issuer.issue({"sub": "u"}, ttl_seconds=-10))
    with pytest.raises(Unauthorized):
        issuer.verify(issuer.issue({"aud": "someone-else"}))
    with pytest.raises(Unauthorized):
        issuer.verify(issuer.issue({"iss": "https://evil"}))
    other = LocalIssuer(tmp_path / "other.pem", ISSUER)
    with pytest.raises(Unauthorized):
        issuer.verify(other.issue({"sub": "u"}))
    forged = jwt.encode(
        {"iss": ISSUER, "aud": "chorus-local-admin", "exp": time.time() + 60}, "k" * 32, algorithm="HS256"
    )
    with pytest.raises(Unauthorized):
        issuer.verify(forged)


def test_jwks_and_discovery(issuer: LocalIssuer) -> None:
    jwks = issuer.jwks()
    assert jwks["keys"][0]["kid"] == issuer.kid
    assert jwks["keys"][0]["alg"] == "RS256"
    assert issuer.openid_configuration()["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
