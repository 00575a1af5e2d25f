"""An OpenID Connect issuer on `responses`: discovery, JWKS, and a token endpoint that checks what
a real one checks (the code once, its client, redirect URI and PKCE verifier). ``authorize``
stands for the person signing in on the issuer's page: it answers a code for the parameters our
redirect carried."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jwt
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://issuer.example.com"
CLIENT_ID = "chorus-console"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class FakeIssuer:
    issuer: str = ISSUER
    client_id: str = CLIENT_ID
    end_session: bool = True
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = "key-1"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # Changes to the next ID token's claims (a wrong nonce, another audience...).
    tamper: dict[str, Any] = field(default_factory=dict)
    # Signs with another key than the one the JWKS publishes (under the same key id).
    key_for_signing: Any = None

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add(responses.GET, f"{self.issuer}/.well-known/openid-configuration", json=self.discovery())
        mock.add(responses.GET, f"{self.issuer}/jwks", json=self.jwks())
        mock.add_callback(responses.POST, f"{self.issuer}/token", callback=self._token)

    def discovery(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
        }
        if self.end_session:
            document["end_session_endpoint"] = f"{self.issuer}/logout"
        return document

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def authorize(self, authorization_url: str, claims: dict[str, Any]) -> dict[str, str]:
        """The person signs in: the callback query the issuer redirects the browser with."""
        params = {name: values[0] for name, values in parse_qs(urlsplit(authorization_url).query).items()}
        assert params["response_type"] == "code"
        assert params["code_challenge_method"] == "S256"
        assert set(params["scope"].split()) >= {"openid", "email", "profile"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**params, "claims": claims}
        return {"code": code, "state": params["state"]}

    def id_token(self, claims: dict[str, Any], nonce: str, *, key: Any = None, kid: str | None = None) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 3600, "nonce": nonce, **claims}
        payload.update(self.tamper)
        signing_key = key or self.key_for_signing or self.key
        return jwt.encode(payload, signing_key, algorithm="RS256", headers={"kid": kid or self.kid})

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = dict(parse_qsl(request.body if isinstance(request.body, str) else request.body.decode()))
        self.token_requests.append(form)
        grant = self.codes.pop(form.get("code", ""), None)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != grant["client_id"]
            or form.get("redirect_uri") != grant["redirect_uri"]
            or _challenge(form.get("code_verifier", "")) != grant["code_challenge"]
        ):
            return 400, {}, json.dumps({"error": "invalid_grant"})
        body = {"id_token": self.id_token(grant["claims"], grant["nonce"]), "token_type": "Bearer"}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)
