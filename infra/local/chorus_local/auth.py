"""A local OIDC issuer and the HTTP API JWT authorizer that trusts it.

The RSA key is kept in the state directory (``jwt-key.pem``, mode 0600) so tokens minted
before a restart stay valid. Verification follows what the API Gateway JWT authorizer checks:
RS256 signature from a key in the JWKS (matched by ``kid``), ``exp``/``nbf``, ``iss`` and ``aud``
(or ``client_id`` for access tokens). Claims reach the handler rendered as API Gateway renders
them: every value a string, arrays as ``[a b]``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from chorus import clock

AUDIENCE: Final = "chorus-local-admin"
TOKEN_TTL_SECONDS: Final = 3600


class Unauthorized(Exception):
    """Missing or invalid token (the reason is logged, never returned)."""


def render_claim(value: Any) -> str:
    """Render one claim like API Gateway does (Go ``%v`` formatting)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(render_claim(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{render_claim(value[key])}" for key in sorted(value)) + "]"
    if value is None:
        return ""
    return str(value)


def render_claims(claims: dict[str, Any]) -> dict[str, str]:
    return {key: render_claim(value) for key, value in claims.items()}


def authorizer_context(claims: dict[str, Any]) -> dict[str, Any]:
    scope = claims.get("scope")
    scopes = str(scope).split() if scope else None
    return {"jwt": {"claims": render_claims(claims), "scopes": scopes}}


class LocalIssuer:
    def __init__(self, key_path: Path, issuer: str, audience: str = AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self._key = self._load_or_create(key_path)
        public_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = hashlib.sha256(public_der).hexdigest()[:16]

    @staticmethod
    def _load_or_create(path: Path) -> rsa.RSAPrivateKey:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError(f"{path} is not an RSA private key")
            return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
        return key

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def openid_configuration(self) -> dict[str, Any]:
        # /token (JSON) mints admin API tokens for scripts; the console's code flow uses the rest.
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/token",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def issue(self, claims: dict[str, Any], ttl_seconds: int = TOKEN_TTL_SECONDS) -> str:
        now = int(clock.timestamp())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": str(uuid.uuid4()),
            "token_use": "id",
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, authorization: str | None) -> dict[str, Any]:
        if not authorization:
            raise Unauthorized("missing token")
        token = authorization.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        if header.get("kid") != self.kid or header.get("alg") != "RS256":
            raise Unauthorized("unknown key or algorithm")
        try:
            # Times are checked against the local cloud's clock below (PyJWT reads the system's).
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                issuer=self.issuer,
                options={
                    "require": ["exp", "iss"],
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(type(exc).__name__) from exc
        now = clock.timestamp()
        try:
            expires, not_before = float(claims["exp"]), float(claims.get("nbf", 0))
        except (TypeError, ValueError) as exc:
            raise Unauthorized("bad time claims") from exc
        if expires <= now:
            raise Unauthorized("ExpiredSignatureError")
        if not_before > now:
            raise Unauthorized("ImmatureSignatureError")
        audiences = claims.get("aud")
        audience_list = audiences if isinstance(audiences, list) else [audiences]
        if self.audience not in audience_list and claims.get("client_id") != self.audience:
            raise Unauthorized("audience mismatch")
        return claims
