"""The OpenID Connect issuer the console signs in with: discovery, code exchange, ID token checks.

Discovery (``/.well-known/openid-configuration``) and the JWKS are fetched once per warm
container; a token signed with a key id we have not seen refetches the JWKS once (key rotation).
The ID token is verified fully: RS256 signature by a key of the issuer's JWKS, ``iss`` equal to
the configured issuer, ``aud`` containing our client id (and ``azp`` when there are several),
``exp``/``iat``/``nbf`` with a small leeway, and the ``nonce`` of this sign-in. Errors carry no
token or code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
import requests

from chorus import clock
from chorus.domain.console import SignInFailed, same_secret

# (connect, read) seconds per call to the issuer; the callback makes at most two (token, JWKS).
TIMEOUT: tuple[float, float] = (3.05, 7.0)
LEEWAY_SECONDS = 60
ALGORITHMS = ["RS256"]


@dataclass(frozen=True)
class IssuerEndpoints:
    authorization: str
    token: str
    jwks: str
    end_session: str | None


class OidcIssuer:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._now = now
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._session = session or requests.Session()
        self._timeout = timeout
        self._endpoints: IssuerEndpoints | None = None
        self._keys: jwt.PyJWKSet | None = None

    def endpoints(self) -> IssuerEndpoints:
        if self._endpoints is None:
            document = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise SignInFailed("the issuer's discovery document names another issuer")
            try:
                self._endpoints = IssuerEndpoints(
                    authorization=_https(document["authorization_endpoint"]),
                    token=_https(document["token_endpoint"]),
                    jwks=_https(document["jwks_uri"]),
                    end_session=_https(document["end_session_endpoint"])
                    if document.get("end_session_endpoint")
                    else None,
                )
            except (KeyError, TypeError):
                raise SignInFailed("the issuer's discovery document is incomplete") from None
        return self._endpoints

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        """The ID token the token endpoint answers for ``code`` (public client, PKCE)."""
        try:
            response = self._session.post(
                self.endpoints().token,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": self.client_id,
                    "code_verifier": verifier,
                },
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException:
            raise SignInFailed("the issuer could not be reached") from None
        if response.status_code != 200:
            raise SignInFailed(f"the issuer refused the code (HTTP {response.status_code})")
        try:
            id_token = response.json().get("id_token")
        except (ValueError, AttributeError):
            raise SignInFailed("the issuer's token answer is not JSON") from None
        if not isinstance(id_token, str) or not id_token:
            raise SignInFailed("the issuer's answer holds no ID token")
        return id_token

    def verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            key = self._signing_key(jwt.get_unverified_header(id_token).get("kid"))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self.client_id,
                issuer=self.issuer,
                # Times are checked below against chorus.clock (the local cloud's is virtual).
                options={
                    "require": ["iss", "aud", "exp", "iat", "sub", "nonce"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise SignInFailed(f"the ID token is not valid ({type(exc).__name__})") from None
        self._check_times(claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SignInFailed("the ID token was issued to another client")
        if not same_secret(str(claims.get("nonce", "")), nonce):
            raise SignInFailed("the ID token is not the answer to this sign-in")
        return claims

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._now().timestamp()
        try:
            expires, issued, not_before = float(claims["exp"]), float(claims["iat"]), float(claims.get("nbf", 0))
        except (TypeError, ValueError):
            raise SignInFailed("the ID token's times are not numbers") from None
        if expires <= now - LEEWAY_SECONDS:
            raise SignInFailed("the ID token has expired")
        if issued > now + LEEWAY_SECONDS or not_before > now + LEEWAY_SECONDS:
            raise SignInFailed("the ID token is not valid yet")

    def _signing_key(self, kid: object) -> Any:
        for refreshed in (False, True):
            if self._keys is None or refreshed:
                try:
                    self._keys = jwt.PyJWKSet.from_dict(self._get_json(self.endpoints().jwks))
                except jwt.PyJWTError:
                    raise SignInFailed("the issuer's keys cannot be read") from None
            for key in self._keys.keys:
                if key.key_id == kid:
                    return key.key
        raise SignInFailed("the ID token is signed by a key the issuer does not publish")

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._session.get(url, headers={"Accept": "application/json"}, timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError):
            raise SignInFailed("the issuer could not be reached") from None
        if not isinstance(document, dict):
            raise SignInFailed("the issuer answered something else than JSON")
        return document


def _https(value: object) -> str:
    url = str(value)
    # http only for the local cloud's issuer on this machine.
    if not (url.startswith("https://") or url.startswith(("http://127.0.0.1", "http://localhost"))):
        raise SignInFailed("the issuer's endpoints must be https")
    return url
