"""DPoP (RFC 9449): proofs of possession of a per-session key, sent with each request made with
a DPoP-bound token (AT Protocol OAuth requires them, for the authorization server and the PDS).

A proof is an ES256 JWT whose header carries the public key, and whose claims name the request
(``htm``, ``htu`` without query or fragment), its time (``iat``), a unique ``jti``, the server's
latest ``nonce`` and, with an access token, its hash (``ath``). Servers issue nonces and rotate
them: an answer ``use_dpop_nonce`` (400 from an authorization server, 401 with
``WWW-Authenticate: DPoP error="use_dpop_nonce"`` from a resource server) is sent again once with
the nonce it carried. ``cryptography`` is imported on first use (cold start).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from chorus.adapters.networks.http import Timeout, json_body, send

if TYPE_CHECKING:
    import requests
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the access token (RFC 9449 §4.2)."""
    return _b64(hashlib.sha256(access_token.encode("ascii")).digest())


@dataclass(frozen=True)
class DpopKey:
    """An ES256 (P-256) key of one employee's session; ``jwk`` is the private JWK, sealed with
    the tokens, never logged."""

    jwk: str = field(repr=False)

    @classmethod
    def generate(cls) -> DpopKey:
        from cryptography.hazmat.primitives.asymmetric import ec

        numbers = ec.generate_private_key(ec.SECP256R1()).private_numbers()
        public = numbers.public_numbers
        return cls(
            json.dumps(
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": _b64(public.x.to_bytes(32, "big")),
                    "y": _b64(public.y.to_bytes(32, "big")),
                    "d": _b64(numbers.private_value.to_bytes(32, "big")),
                },
                separators=(",", ":"),
            )
        )

    @property
    def public_jwk(self) -> dict[str, str]:
        private = json.loads(self.jwk)
        return {"kty": "EC", "crv": "P-256", "x": private["x"], "y": private["y"]}

    def _private_key(self) -> EllipticCurvePrivateKey:
        from cryptography.hazmat.primitives.asymmetric import ec

        private = json.loads(self.jwk)
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(_unb64(private["x"]), "big"), int.from_bytes(_unb64(private["y"]), "big"), ec.SECP256R1()
        )
        return ec.EllipticCurvePrivateNumbers(int.from_bytes(_unb64(private["d"]), "big"), public).private_key()

    def proof(self, method: str, url: str, *, now: datetime, nonce: str | None, access_token: str | None = None) -> str:
        """A DPoP proof JWT for one request: ``htu`` is the URL without query or fragment."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        parts = urlsplit(url)
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public_jwk}
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            "iat": int(now.timestamp()),
        }
        if nonce:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}".encode("ascii")
        r, s = decode_dss_signature(self._private_key().sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return f"{signing_input.decode('ascii')}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def asks_for_nonce(response: requests.Response) -> bool:
    """The server wants a (fresh) nonce: 400 ``{"error": "use_dpop_nonce"}`` from an authorization
    server, or 401 with ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` from a PDS."""
    if not response.headers.get("DPoP-Nonce"):
        return False
    if response.status_code == 401:
        return 'error="use_dpop_nonce"' in response.headers.get("WWW-Authenticate", "")
    body = json_body(response) if response.status_code == 400 else None
    return isinstance(body, Mapping) and body.get("error") == "use_dpop_nonce"


class DpopNonces:
    """The latest nonce each server (origin) gave; shared by the requests of one process."""

    def __init__(self) -> None:
        self._by_origin: dict[str, str] = {}

    @staticmethod
    def _origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def get(self, url: str) -> str | None:
        return self._by_origin.get(self._origin(url))

    def remember(self, url: str, response: requests.Response) -> None:
        nonce = response.headers.get("DPoP-Nonce")
        if nonce and len(nonce) <= 256:
            self._by_origin[self._origin(url)] = nonce


def send_with_dpop(
    session: requests.Session,
    nonces: DpopNonces,
    key: DpopKey,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    network: str,
    timeout: Timeout,
    now: Callable[[], datetime],
    access_token: str | None = None,
) -> requests.Response:
    """One request with a DPoP proof, sent again once with the server's nonce if it asks."""
    response = None
    for _ in range(2):
        proof = key.proof(method, url, now=now(), nonce=nonces.get(url), access_token=access_token)
        response = send(
            session,
            method,
            url,
            network=network,
            timeout=timeout,
            headers={**headers, "DPoP": proof},
            body=body,
        )
        nonces.remember(url, response)
        if not asks_for_nonce(response):
            return response
    assert response is not None
    return response
