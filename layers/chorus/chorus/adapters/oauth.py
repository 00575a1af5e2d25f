"""OAuth 2.0 authorization-code flows with requests-oauthlib, for LinkedIn, X and Mastodon.

Provider endpoints live in ``adapters.networks.oauth_providers``; this adapter turns them into
authorization URLs, code exchanges and refreshes. Provider and transport errors become
``ConnectFailed`` with no token, code or secret in the message.

Client authentication at the token endpoint follows each provider, for the code exchange and the
refresh alike: X (confidential client) takes HTTP Basic, with ``client_id`` also in the body as
its examples show; LinkedIn and Mastodon take ``client_id`` and ``client_secret`` in the body.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error
from pydantic import SecretStr
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from chorus import clock
from chorus.adapters.networks.egress import AddressRefused, HostNotFound, PublicSession
from chorus.adapters.networks.oauth_providers import OAuthProvider, provider_for, register_mastodon_app
from chorus.adapters.networks.registry import member_id_for
from chorus.domain.connection import ClientCredentials, ConnectFailed, Tokens
from chorus.domain.content import Network
from chorus.domain.networks import profile_of
from chorus.domain.publishing import PublishFailed

# (connect, read) seconds per call to a provider. One web request makes at most
# CALLS_PER_REQUEST of them (the callback: code exchange, then the profile lookup), and the web
# function's timeout (template.yaml, checked by a test) leaves room for all of them plus its
# AWS calls, under API Gateway's 30 s integration limit: the employee always gets a page back.
TIMEOUT: tuple[float, float] = (3.05, 7.0)
CALLS_PER_REQUEST = 2


def _tokens(token: dict[str, Any], now: datetime) -> Tokens:
    expires_in = token.get("expires_in")
    refresh = token.get("refresh_token")
    return Tokens(
        access_token=SecretStr(str(token["access_token"])),
        refresh_token=SecretStr(str(refresh)) if refresh else None,
        expires_at=now + timedelta(seconds=int(expires_in)) if expires_in else None,
    )


class RequestsOAuthClient:
    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: tuple[float, float] = TIMEOUT,
        public_session: PublicSession | None = None,
    ) -> None:
        self._session = session or requests.Session()
        self._timeout = timeout
        # Every request to an employee-chosen Mastodon server goes through the public-address guard.
        self._public = public_session or PublicSession()

    def authorization_url(
        self,
        network: Network,
        client: ClientCredentials,
        *,
        redirect_uri: str,
        state: str,
        code_challenge: str | None,
        instance_url: str | None,
    ) -> str:
        provider = self._provider(network, instance_url)
        oauth = OAuth2Session(client.client_id, redirect_uri=redirect_uri, scope=list(provider.scopes), state=state)
        extra = {"code_challenge": code_challenge, "code_challenge_method": "S256"} if code_challenge else {}
        url, _state = oauth.authorization_url(provider.authorize_url, **extra)
        return str(url)

    def exchange_code(
        self,
        network: Network,
        client: ClientCredentials,
        *,
        redirect_uri: str,
        code: str,
        code_verifier: str | None,
        instance_url: str | None,
    ) -> Tokens:
        provider = self._provider(network, instance_url)
        oauth = self._oauth_session(network, client.client_id, redirect_uri=redirect_uri)
        extra: dict[str, Any] = {"code_verifier": code_verifier} if code_verifier else {}
        auth, secret_in_body = self._client_auth(provider, client)
        if secret_in_body:
            extra["client_secret"] = client.client_secret
        try:
            # include_client_id: client_id goes in the body whatever the method (see the module doc).
            token = oauth.fetch_token(
                provider.token_url, code=code, timeout=self._timeout, auth=auth, include_client_id=True, **extra
            )
        except AddressRefused as exc:
            raise ConnectFailed(f"your Mastodon server cannot be used: {exc}") from None
        except (OAuth2Error, requests.RequestException, ValueError) as exc:
            raise ConnectFailed(f"{network.value} refused the connection ({type(exc).__name__}); try again") from None
        return _tokens(dict(token), clock.now())

    def refresh(
        self, network: Network, client: ClientCredentials, *, refresh_token: str, instance_url: str | None
    ) -> Tokens:
        provider = self._provider(network, instance_url)
        oauth = self._oauth_session(network, client.client_id)
        auth, secret_in_body = self._client_auth(provider, client)
        # refresh_token() sends every extra keyword as a body field, and adds no client_id itself.
        body: dict[str, str] = {"client_id": client.client_id}
        if secret_in_body:
            body["client_secret"] = client.client_secret
        try:
            token = oauth.refresh_token(
                provider.token_url, refresh_token=refresh_token, timeout=self._timeout, auth=auth, **body
            )
        except AddressRefused as exc:
            raise ConnectFailed(f"your Mastodon server cannot be used: {exc}") from None
        except (OAuth2Error, requests.RequestException, ValueError) as exc:
            raise ConnectFailed(f"{network.value} refused to refresh the token ({type(exc).__name__})") from None
        return _tokens(dict(token), clock.now())

    def member_id(self, network: Network, access_token: str, instance_url: str | None) -> str:
        try:
            session = self._public if profile_of(network).on_employee_server else self._session
            return member_id_for(network, session, access_token, instance_url, self._timeout)
        except PublishFailed as exc:
            raise ConnectFailed(f"could not read your {network.value} profile ({exc.kind.value})") from None

    def register_app(self, instance_url: str, redirect_uri: str) -> ClientCredentials:
        try:
            client_id, client_secret = register_mastodon_app(
                self._public, instance_url, redirect_uri, timeout=self._timeout
            )
        except PublishFailed as exc:
            raise ConnectFailed(f"that Mastodon server refused to register Chorus ({exc.kind.value})") from None
        return ClientCredentials(client_id=client_id, client_secret=client_secret)

    def server_problem(self, instance_url: str) -> str | None:
        """Why the employee's Mastodon server cannot be used (its name leads to a private
        address, or nowhere), in words for them; None when it can."""
        host = urlsplit(instance_url).hostname or instance_url
        try:
            self._public.guard.check(host)
        except AddressRefused as exc:
            return f"{exc}: enter the public name of your Mastodon server, like mastodon.social"
        except HostNotFound:
            return f"{host} could not be found: check the name of your Mastodon server"
        return None

    def _oauth_session(self, network: Network, client_id: str, **kwargs: Any) -> OAuth2Session:
        oauth = OAuth2Session(client_id, **kwargs)
        if profile_of(network).on_employee_server:
            self._public.restrict(oauth)
        return oauth

    @staticmethod
    def _provider(network: Network, instance_url: str | None) -> OAuthProvider:
        try:
            return provider_for(network, instance_url)
        except PublishFailed as exc:
            raise ConnectFailed(exc.reason) from None

    @staticmethod
    def _client_auth(provider: OAuthProvider, client: ClientCredentials) -> tuple[HTTPBasicAuth | None, bool]:
        """(the Basic credentials, or None; whether the secret goes in the body)."""
        if provider.token_auth == "basic":  # noqa: S105 - the name of an auth method, not a password
            return HTTPBasicAuth(client.client_id, client.client_secret), False
        return None, True
