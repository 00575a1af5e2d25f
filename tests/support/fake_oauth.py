"""A fake OAuth 2.0 provider behind `responses` (no sockets): authorize, code exchange with PKCE
S256 verification, single-use rotating refresh tokens, and the identity endpoints.

It is strict where real providers are: a code works once, for the client and redirect URI it
was issued to, only with the right verifier; a refresh token works once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import responses

ENDPOINTS = {
    "x": ("https://x.com/i/oauth2/authorize", "https://api.x.com/2/oauth2/token", "https://api.x.com/2/users/me"),
    "linkedin": (
        "https://www.linkedin.com/oauth/v2/authorization",
        "https://www.linkedin.com/oauth/v2/accessToken",
        "https://api.linkedin.com/v2/userinfo",
    ),
}


@dataclass
class FakeProvider:
    network: str
    client_id: str
    client_secret: str
    member_id: str = "member-42"
    expires_in: int = 7200
    issue_refresh: bool = True
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def install(self, mock: responses.RequestsMock) -> None:
        _, token_url, identity_url = ENDPOINTS[self.network]
        mock.add_callback(responses.POST, token_url, callback=self._token)
        mock.add_callback(responses.GET, identity_url, callback=self._identity)

    def authorize(self, authorization_url: str) -> tuple[str, str]:
        """What the browser does at the provider: the employee consents; returns (code, state)."""
        authorize_url, _, _ = ENDPOINTS[self.network]
        assert authorization_url.startswith(authorize_url), authorization_url
        query = {key: values[0] for key, values in parse_qs(urlsplit(authorization_url).query).items()}
        assert query["client_id"] == self.client_id
        assert query["response_type"] == "code"
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        return code, query["state"]

    def _client_ok(self, request: Any, form: dict[str, str]) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (user, password) == (self.client_id, self.client_secret)
        return (form.get("client_id"), form.get("client_secret")) == (self.client_id, self.client_secret)

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = dict(parse_qsl(request.body if isinstance(request.body, str) else request.body.decode()))
        self.token_requests.append(form)
        if not self._client_ok(request, form):
            return 401, {}, json.dumps({"error": "invalid_client"})
        if form.get("grant_type") == "authorization_code":
            issued = self.codes.pop(form.get("code", ""), None)
            if issued is None or issued.get("redirect_uri") != form.get("redirect_uri"):
                return 400, {}, json.dumps({"error": "invalid_grant"})
            challenge = issued.get("code_challenge")
            if challenge is not None:
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if issued.get("code_challenge_method") != "S256" or digest != challenge:
                    return 400, {}, json.dumps({"error": "invalid_grant", "error_description": "PKCE"})
        elif form.get("grant_type") == "refresh_token":
            token = form.get("refresh_token", "")
            if token not in self.refresh_tokens:
                return 400, {}, json.dumps({"error": "invalid_grant"})
            self.refresh_tokens.discard(token)  # rotation: single use
        else:
            return 400, {}, json.dumps({"error": "unsupported_grant_type"})
        return 200, {"Content-Type": "application/json"}, json.dumps(self._issue())

    def _issue(self) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(12)
        self.access_tokens.add(access)
        body: dict[str, Any] = {"access_token": access, "token_type": "bearer", "expires_in": self.expires_in}
        if self.issue_refresh:
            refresh = "rt-" + secrets.token_urlsafe(12)
            self.refresh_tokens.add(refresh)
            body["refresh_token"] = refresh
        return body

    def _identity(self, request: Any) -> tuple[int, dict[str, str], str]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return 401, {}, json.dumps({"title": "Unauthorized"})
        if self.network == "linkedin":
            return 200, {}, json.dumps({"sub": self.member_id, "name": "Ada"})
        return 200, {}, json.dumps({"data": {"id": self.member_id, "username": "ada"}})
