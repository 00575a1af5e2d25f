"""DPoP proofs (RFC 9449) and the authorization server metadata checks of AT Protocol OAuth,
without any network: proofs are verified with PyJWT, as a server would."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import requests

from chorus.adapters.networks.bluesky_oauth import validated_metadata
from chorus.adapters.networks.dpop import DpopKey, asks_for_nonce
from chorus.domain.connection import ConnectFailed

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ISSUER = "https://auth.example.net"


def verify(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header = jwt.get_unverified_header(proof)
    key = jwt.PyJWK(header["jwk"], algorithm="ES256").key
    # iat is checked against NOW below, not against the machine clock.
    return header, jwt.decode(proof, key=key, algorithms=["ES256"], options={"verify_iat": False})


def test_a_proof_is_signed_by_the_key_in_its_header_and_names_the_request():
    key = DpopKey.generate()
    proof = key.proof("post", "https://pds.example.net/xrpc/com.atproto.repo.createRecord?x=1#f", now=NOW, nonce="n1")
    header, claims = verify(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert header["jwk"] == key.public_jwk and "d" not in header["jwk"]
    assert claims["htm"] == "POST"
    assert claims["htu"] == "https://pds.example.net/xrpc/com.atproto.repo.createRecord"
    assert claims["iat"] == int(NOW.timestamp()) and claims["nonce"] == "n1"
    assert "ath" not in claims


def test_a_proof_with_an_access_token_carries_its_hash_and_each_proof_is_unique():
    key = DpopKey.generate()
    first = verify(key.proof("GET", "https://pds.example.net/x", now=NOW, nonce=None, access_token="tok"))[1]
    second = verify(key.proof("GET", "https://pds.example.net/x", now=NOW, nonce=None, access_token="tok"))[1]
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"tok").digest()).rstrip(b"=").decode()
    assert first["ath"] == expected and "nonce" not in first
    assert first["jti"] != second["jti"]


def test_a_key_survives_sealing_as_its_jwk_and_never_shows_in_repr():
    key = DpopKey.generate()
    again = DpopKey(key.jwk)
    header, _ = verify(again.proof("GET", "https://a.example/b", now=NOW, nonce=None))
    assert header["jwk"] == key.public_jwk
    assert json.loads(key.jwk)["d"] not in repr(key)


def answer(status: int, headers: dict[str, str], body: dict[str, Any] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    response._content = json.dumps(body).encode() if body is not None else b""
    return response


@pytest.mark.parametrize(
    ("response", "asks"),
    [
        (answer(400, {"DPoP-Nonce": "n"}, {"error": "use_dpop_nonce"}), True),
        (answer(401, {"DPoP-Nonce": "n", "WWW-Authenticate": 'DPoP error="use_dpop_nonce"'}), True),
        (answer(400, {"DPoP-Nonce": "n"}, {"error": "invalid_grant"}), False),
        (answer(401, {"DPoP-Nonce": "n", "WWW-Authenticate": 'DPoP error="invalid_token"'}), False),
        (answer(400, {}, {"error": "use_dpop_nonce"}), False),  # no nonce to use: no retry
    ],
)
def test_only_a_use_dpop_nonce_answer_with_a_nonce_is_retried(response: requests.Response, asks: bool):
    assert asks_for_nonce(response) is asks


def metadata(**changes: Any) -> dict[str, Any]:
    base = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/oauth/authorize",
        "token_endpoint": f"{ISSUER}/oauth/token",
        "pushed_authorization_request_endpoint": f"{ISSUER}/oauth/par",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "scopes_supported": ["atproto", "transition:generic"],
        "dpop_signing_alg_values_supported": ["ES256"],
        "authorization_response_iss_parameter_supported": True,
        "require_pushed_authorization_requests": True,
        "client_id_metadata_document_supported": True,
    }
    return {**base, **changes}


def test_metadata_as_the_profile_requires_is_accepted():
    server = validated_metadata(metadata(), ISSUER)
    assert server.par_endpoint == f"{ISSUER}/oauth/par" and server.token_endpoint == f"{ISSUER}/oauth/token"


@pytest.mark.parametrize(
    "changes",
    [
        {"issuer": "https://auth.other.example.org"},
        {"require_pushed_authorization_requests": False},
        {"code_challenge_methods_supported": ["plain"]},
        {"dpop_signing_alg_values_supported": ["RS256"]},
        {"authorization_response_iss_parameter_supported": False},
        {"scopes_supported": ["openid"]},
        {"token_endpoint": "https://elsewhere.example.org/token"},
        {"pushed_authorization_request_endpoint": "http://auth.example.net/oauth/par"},
    ],
)
def test_metadata_that_misses_a_requirement_or_points_elsewhere_is_refused(changes: dict[str, Any]):
    with pytest.raises(ConnectFailed):
        validated_metadata(metadata(**changes), ISSUER)
