"""Social connections: OAuth 2.0 connect (PKCE where the network supports it), AT Protocol
OAuth (Bluesky: PAR, PKCE, DPoP) or an app password (Bluesky's fallback), tokens sealed with
KMS, refresh with rotation, disconnect.

The PKCE verifier waits in the table under ``state`` (10 minutes) because the callback runs in
another invocation; the state is single use, and bound to the browser that started the flow:
``begin`` returns a random value for an HttpOnly cookie and stores only its hash with the state;
the callback consumes the state only with that cookie (someone else's callback, or a state
replayed in another browser, connects nothing). Tokens, codes and secrets are never logged.

AT Protocol OAuth also keeps, with the state, the authorization server the callback's ``iss``
must name, the account the handle resolved to, and the flow's DPoP key (sealed). Its refresh
tokens are single use, and Bluesky's authorization server ends the session when one is used
twice: so only the invocation that claims the refresh (a conditional write on the tokens'
version) asks for it; another one meets either the rotated tokens or the claim, and then retries
the post later (TRANSIENT) rather than spend the refresh token a second time.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

from chorus import clock
from chorus.adapters.networks.http import validate_instance_url
from chorus.domain.connection import (
    REMINDER_BEFORE_EXPIRY,
    ClientCredentials,
    ConnectFailed,
    Connection,
    ConnectionStatus,
    Credentials,
    NotOnRoster,
    Tokens,
)
from chorus.domain.content import Network
from chorus.domain.networks import profile_of
from chorus.domain.publishing import FailureKind, PublishFailed
from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger
from chorus.store.connections import OAuthState, StoredConnection

if TYPE_CHECKING:
    from chorus.adapters.networks.bluesky_oauth import Authorization, Session
    from chorus.adapters.networks.registry import AppPasswordSessions

STATE_LIFETIME = timedelta(minutes=10)
# How long a refresh claim holds: longer than the token request's timeouts.
REFRESH_CLAIM = timedelta(seconds=30)
# Bluesky's authorization server ends a public client's session two weeks after sign-in.
ATPROTO_PUBLIC_SESSION = timedelta(days=14)


class AtprotoOAuth(Protocol):
    """AT Protocol OAuth (chorus.adapters.networks.bluesky_oauth.BlueskyOAuth)."""

    def authorize(
        self, raw_handle: str, *, client_id: str, redirect_uri: str, state: str, code_challenge: str
    ) -> Authorization: ...

    def exchange(
        self,
        *,
        issuer: str,
        expected_did: str,
        dpop_key: str,
        client_id: str,
        redirect_uri: str,
        code: str,
        code_verifier: str,
    ) -> Session: ...

    def refresh(self, tokens: Tokens) -> Session: ...


class OAuthClient(Protocol):
    def authorization_url(
        self,
        network: Network,
        client: ClientCredentials,
        *,
        redirect_uri: str,
        state: str,
        code_challenge: str | None,
        instance_url: str | None,
    ) -> str: ...

    def exchange_code(
        self,
        network: Network,
        client: ClientCredentials,
        *,
        redirect_uri: str,
        code: str,
        code_verifier: str | None,
        instance_url: str | None,
    ) -> Tokens: ...

    def refresh(
        self, network: Network, client: ClientCredentials, *, refresh_token: str, instance_url: str | None
    ) -> Tokens: ...

    def member_id(self, network: Network, access_token: str, instance_url: str | None) -> str: ...

    def register_app(self, instance_url: str, redirect_uri: str) -> ClientCredentials: ...

    def server_problem(self, instance_url: str) -> str | None: ...


class ClientSource(Protocol):
    def client(self, network: Network) -> ClientCredentials | None: ...


class Vault(Protocol):
    def seal(self, plaintext: bytes, employee_id: str, network: str) -> bytes: ...
    def open(self, ciphertext: bytes, employee_id: str, network: str) -> bytes: ...


class ConnectionRecords(Protocol):
    def put_state(self, state: OAuthState) -> None: ...
    def take_state(self, state: str, network: Network, browser_hash: str, now: datetime) -> OAuthState | None: ...
    def save(self, connection: Connection, ciphertext: bytes) -> None: ...
    def get(self, employee_id: str, network: Network) -> StoredConnection | None: ...
    def rotate(self, connection: Connection, ciphertext: bytes) -> bool: ...
    def claim_refresh(self, connection: Connection, now: datetime, until: datetime) -> bool: ...
    def delete(self, employee_id: str, network: Network) -> None: ...
    def mastodon_app(self, host: str) -> dict[str, object] | None: ...
    def save_mastodon_app(self, host: str, client_id: str, client_secret: bytes, redirect_uri: str) -> None: ...


@dataclass(frozen=True)
class ConnectStart:
    authorization_url: str
    # For the HttpOnly cookie of the browser that starts the flow; only its hash is stored.
    browser_secret: str


class ConnectInterrupted(ConnectFailed):
    """The attempt was used up (the state is single use) but did not finish: the provider refused
    or did not answer in time. The employee goes back to ``return_to`` and connects again."""

    http_status = 502
    code = "connect_interrupted"

    def __init__(self, message: str, return_to: str) -> None:
        super().__init__(message)
        self.return_to = return_to


def browser_hash(browser_secret: str) -> str:
    return hashlib.sha256(browser_secret.encode()).hexdigest()


def pkce_pair() -> tuple[str, str]:
    """RFC 7636 S256: a 64-byte random verifier and its SHA-256 challenge, both base64url."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def mastodon_instance(raw: str) -> str:
    """The server the employee typed ("mastodon.social" is enough), checked by the SSRF guard."""
    text = raw.strip()
    if text and "://" not in text:
        text = f"https://{text}"
    try:
        return validate_instance_url(text)
    except PublishFailed:
        raise InvalidInput(
            "check your Mastodon server",
            [FieldProblem("instance", "must be a public https server name, like mastodon.social")],
        ) from None


class ConnectionsService:
    def __init__(
        self,
        records: ConnectionRecords,
        vault: Vault,
        oauth: OAuthClient,
        clients: ClientSource,
        *,
        app_passwords: Mapping[Network, AppPasswordSessions] | None = None,
        atproto: AtprotoOAuth | None = None,
        atproto_client: Mapping[str, object] | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._records = records
        self._vault = vault
        self._oauth = oauth
        self._clients = clients
        self._app_passwords = dict(app_passwords or {})
        # Refreshing stored AT Protocol sessions needs only the adapter; starting new ones also
        # needs the client metadata the deployment serves (its URL is the client_id).
        self._atproto = atproto
        self._atproto_client = dict(atproto_client) if atproto_client is not None else None
        client_id = self._atproto_client.get("client_id") if self._atproto_client else None
        self._atproto_client_id = client_id if isinstance(client_id, str) else None
        self._now = now

    def offers_atproto_oauth(self, network: Network) -> bool:
        return profile_of(network).atproto_oauth and self._atproto is not None and bool(self._atproto_client_id)

    def atproto_client_metadata(self) -> dict[str, object] | None:
        """The client metadata document to serve at the client_id, when OAuth is offered."""
        return dict(self._atproto_client) if self._atproto_client and self._atproto_client_id else None

    # ------------------------------------------------------------------ connect
    def begin(
        self,
        employee_id: str,
        network: Network,
        *,
        redirect_uri: str,
        return_to: str,
        instance_url: str | None = None,
        handle: str = "",
    ) -> ConnectStart:
        """The provider's authorization URL, and the secret for the browser's cookie; the state
        (and PKCE verifier) waits for the callback. Bluesky's OAuth starts from the handle."""
        if self.offers_atproto_oauth(network):
            return self.begin_atproto(
                employee_id, network, handle=handle, redirect_uri=redirect_uri, return_to=return_to
            )
        oauth = profile_of(network).oauth
        if oauth is None:
            raise ConnectFailed(f"the {network.value} network needs no connection")
        instance = mastodon_instance(instance_url or "") if profile_of(network).on_employee_server else None
        if instance is not None:
            self._check_server(instance)
        client = self._client_for(network, instance, redirect_uri)
        state = secrets.token_urlsafe(32)
        browser_secret = secrets.token_urlsafe(32)
        verifier, challenge = pkce_pair()
        uses_pkce = oauth.pkce
        self._records.put_state(
            OAuthState(
                state=state,
                employee_id=employee_id,
                network=network,
                code_verifier=verifier if uses_pkce else None,
                return_to=return_to,
                redirect_uri=redirect_uri,
                instance_url=instance,
                expires_at=self._now() + STATE_LIFETIME,
                browser_hash=browser_hash(browser_secret),
            )
        )
        logger.info("connect started", employee_id=employee_id, network=network.value)
        url = self._oauth.authorization_url(
            network,
            client,
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=challenge if uses_pkce else None,
            instance_url=instance,
        )
        return ConnectStart(authorization_url=url, browser_secret=browser_secret)

    def begin_atproto(
        self, employee_id: str, network: Network, *, handle: str, redirect_uri: str, return_to: str
    ) -> ConnectStart:
        """AT Protocol OAuth: the account's authorization server, found from the handle, takes the
        request (PAR); the browser goes there with its ``request_uri``."""
        if not self.offers_atproto_oauth(network) or self._atproto is None or not self._atproto_client_id:
            raise ConnectFailed(f"{network.value} is not connected with OAuth here; use an app password")
        state = secrets.token_urlsafe(32)
        browser_secret = secrets.token_urlsafe(32)
        verifier, challenge = pkce_pair()
        started = self._atproto.authorize(
            handle,
            client_id=self._atproto_client_id,
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=challenge,
        )
        self._records.put_state(
            OAuthState(
                state=state,
                employee_id=employee_id,
                network=network,
                code_verifier=verifier,
                return_to=return_to,
                redirect_uri=redirect_uri,
                instance_url=started.pds,
                expires_at=self._now() + STATE_LIFETIME,
                browser_hash=browser_hash(browser_secret),
                issuer=started.issuer,
                expected_did=started.did,
                sealed_dpop_key=self._vault.seal(started.dpop_key.jwk.encode(), employee_id, network.value),
            )
        )
        logger.info("connect started", employee_id=employee_id, network=network.value, method="atproto_oauth")
        return ConnectStart(authorization_url=started.url, browser_secret=browser_secret)

    def complete(
        self, network: Network, *, code: str, state: str, browser_secret: str | None, iss: str | None = None
    ) -> OAuthState:
        """Exchanges the code, finds the member id, stores the sealed tokens. Returns the state
        (employee and where to send them back). Only the browser that began the flow completes it."""
        if not browser_secret:
            raise ConnectFailed("this connection was started in another browser; start again from your page")
        pending = self._records.take_state(state, network, browser_hash(browser_secret), self._now())
        if pending is None:
            raise ConnectFailed("this connection attempt expired, was already used or began elsewhere; start again")
        if pending.issuer is not None:
            return self._complete_atproto(pending, code=code, iss=iss)
        try:
            client = self._client_for(network, pending.instance_url, pending.redirect_uri)
            tokens = self._oauth.exchange_code(
                network,
                client,
                redirect_uri=pending.redirect_uri,
                code=code,
                code_verifier=pending.code_verifier,
                instance_url=pending.instance_url,
            )
            member_id = self._oauth.member_id(network, tokens.access_token.get_secret_value(), pending.instance_url)
        except ConnectFailed as error:
            logger.warning("connect interrupted", employee_id=pending.employee_id, network=network.value)
            raise ConnectInterrupted(error.message, pending.return_to) from None
        # Without a refresh token the employee must reconnect when the access token ends.
        reconnect_by = tokens.expires_at if tokens.refresh_token is None else None
        connection = Connection(
            employee_id=pending.employee_id,
            network=network,
            status=ConnectionStatus.CONNECTED,
            member_id=member_id,
            instance_url=pending.instance_url,
            expires_at=reconnect_by,
            token_version=1,
            connected_at=self._now(),
        )
        try:
            self._records.save(connection, self._vault.seal(tokens.plaintext(), pending.employee_id, network.value))
        except NotOnRoster:
            # Deactivated or erased between the start and the callback: the tokens are dropped.
            logger.warning("connect refused: not active", employee_id=pending.employee_id, network=network.value)
            raise
        logger.info("connected", employee_id=pending.employee_id, network=network.value)
        return pending

    def _complete_atproto(self, pending: OAuthState, *, code: str, iss: str | None) -> OAuthState:
        network = pending.network
        if iss != pending.issuer:
            # RFC 9207: an answer from another server than the one asked (a mix-up) is refused.
            logger.warning("connect refused: wrong issuer", employee_id=pending.employee_id, network=network.value)
            raise ConnectInterrupted(
                "the answer did not come from your Bluesky server; nothing was stored", pending.return_to
            )
        if self._atproto is None or not self._atproto_client_id or not pending.expected_did:
            raise ConnectInterrupted(f"{network.value} is not connected with OAuth here", pending.return_to)
        if pending.sealed_dpop_key is None or pending.code_verifier is None:
            raise ConnectInterrupted("this connection attempt is damaged; start again", pending.return_to)
        try:
            session = self._atproto.exchange(
                issuer=pending.issuer or "",
                expected_did=pending.expected_did,
                dpop_key=self._vault.open(pending.sealed_dpop_key, pending.employee_id, network.value).decode(),
                client_id=self._atproto_client_id,
                redirect_uri=pending.redirect_uri,
                code=code,
                code_verifier=pending.code_verifier,
            )
        except ConnectFailed as error:
            logger.warning("connect interrupted", employee_id=pending.employee_id, network=network.value)
            raise ConnectInterrupted(error.message, pending.return_to) from None
        now = self._now()
        connection = Connection(
            employee_id=pending.employee_id,
            network=network,
            status=ConnectionStatus.CONNECTED,
            member_id=session.did,
            instance_url=session.pds,
            expires_at=now + ATPROTO_PUBLIC_SESSION,
            token_version=1,
            connected_at=now,
        )
        ciphertext = self._vault.seal(session.tokens.plaintext(), pending.employee_id, network.value)
        try:
            self._records.save(connection, ciphertext)
        except NotOnRoster:
            logger.warning("connect refused: not active", employee_id=pending.employee_id, network=network.value)
            raise
        logger.info("connected", employee_id=pending.employee_id, network=network.value, method="atproto_oauth")
        return pending

    def connect_with_app_password(self, employee_id: str, network: Network, *, handle: str, app_password: str) -> None:
        """Signs in with the app password and keeps the session it opens (sealed), never the
        password itself: the refresh token renews the session, and the employee can revoke the
        app password in the network's settings at any time."""
        sessions = self._app_passwords.get(network)
        if sessions is None or not profile_of(network).app_password:
            raise ConnectFailed(f"{network.value} is not connected with an app password")
        session = sessions.login(handle, app_password)
        tokens = Tokens(
            access_token=SecretStr(session.access_token),
            refresh_token=SecretStr(session.refresh_token),
            expires_at=session.expires_at,
        )
        connection = Connection(
            employee_id=employee_id,
            network=network,
            status=ConnectionStatus.CONNECTED,
            member_id=session.member_id,
            instance_url=session.server,
            expires_at=None,
            token_version=1,
            connected_at=self._now(),
        )
        self._records.save(connection, self._vault.seal(tokens.plaintext(), employee_id, network.value))
        logger.info("connected", employee_id=employee_id, network=network.value, method="app_password")

    def abandon(self, network: Network, *, state: str, browser_secret: str | None) -> str | None:
        """The employee said no at the provider: the attempt is used up. Where they came from."""
        if not browser_secret or not state:
            return None
        pending = self._records.take_state(state, network, browser_hash(browser_secret), self._now())
        return pending.return_to if pending else None

    def is_connected(self, employee_id: str, network: Network) -> bool:
        stored = self._records.get(employee_id, network)
        if stored is None or stored.connection.status is not ConnectionStatus.CONNECTED:
            return False
        return stored.connection.expires_at is None or stored.connection.expires_at > self._now()

    def disconnect(self, employee_id: str, network: Network) -> None:
        self._records.delete(employee_id, network)
        logger.info("disconnected", employee_id=employee_id, network=network.value)

    # ------------------------------------------------------------------ tokens for the publisher
    def credentials(
        self,
        employee_id: str,
        network: Network,
        *,
        force_refresh: bool = False,
        stored: StoredConnection | None = None,
    ) -> Credentials | None:
        """Valid credentials, refreshed (and the new pair persisted) when needed; None when the
        employee must reconnect. ``stored`` is the connection already read by the caller."""
        if stored is None or force_refresh:
            stored = self._records.get(employee_id, network)
        if stored is None or stored.connection.status is not ConnectionStatus.CONNECTED:
            return None
        connection = stored.connection
        now = self._now()
        if connection.expires_at is not None and connection.expires_at <= now:
            return None
        tokens = Tokens.from_plaintext(self._vault.open(stored.ciphertext, employee_id, network.value))
        if force_refresh or tokens.expired(now):
            refreshed = self._refresh(stored, tokens)
            if refreshed is None:
                return None
            tokens = refreshed
        return Credentials(
            access_token=tokens.access_token.get_secret_value(),
            member_id=connection.member_id,
            instance_url=connection.instance_url,
            dpop_key=tokens.dpop_key.get_secret_value() if tokens.dpop_key is not None else None,
        )

    def _refresh(self, stored: StoredConnection, tokens: Tokens) -> Tokens | None:
        connection = stored.connection
        if tokens.refresh_token is None:
            return None
        if tokens.dpop_key is not None:
            now = self._now()
            if not self._records.claim_refresh(connection, now, now + REFRESH_CLAIM):
                return self._refreshed_elsewhere(connection)
        try:
            fresh = self._fresh_tokens(connection, tokens)
        except ConnectFailed:
            logger.warning("refresh refused", employee_id=connection.employee_id, network=connection.network.value)
            return None
        if fresh is None:
            return None
        if fresh.refresh_token is None:  # some providers keep the old refresh token
            fresh = fresh.model_copy(update={"refresh_token": tokens.refresh_token})
        ciphertext = self._vault.seal(fresh.plaintext(), connection.employee_id, connection.network.value)
        if self._records.rotate(connection, ciphertext):
            logger.info("tokens refreshed", employee_id=connection.employee_id, network=connection.network.value)
            return fresh
        # Another invocation rotated first (X refresh tokens are single use): use what it stored.
        again = self._records.get(connection.employee_id, connection.network)
        if again is None:
            return None
        return Tokens.from_plaintext(
            self._vault.open(again.ciphertext, connection.employee_id, connection.network.value)
        )

    def _refreshed_elsewhere(self, connection: Connection) -> Tokens:
        """Another invocation holds the refresh: its tokens if it has stored them, else a retry."""
        again = self._records.get(connection.employee_id, connection.network)
        if again is not None and again.connection.token_version != connection.token_version:
            return Tokens.from_plaintext(
                self._vault.open(again.ciphertext, connection.employee_id, connection.network.value)
            )
        raise PublishFailed(FailureKind.TRANSIENT, f"{connection.network.value}: the session is being refreshed")

    def _fresh_tokens(self, connection: Connection, tokens: Tokens) -> Tokens | None:
        assert tokens.refresh_token is not None
        refresh_token = tokens.refresh_token.get_secret_value()
        if tokens.dpop_key is not None:
            if self._atproto is None:
                return None
            refreshed = self._atproto.refresh(tokens)
            if refreshed.did != connection.member_id:
                raise ConnectFailed("the server answered for another account")
            return refreshed.tokens
        sessions = self._app_passwords.get(connection.network)
        if sessions is not None and connection.instance_url:
            session = sessions.refresh(connection.instance_url, refresh_token)
            if session.member_id != connection.member_id:
                raise ConnectFailed("the server answered for another account")
            return Tokens(
                access_token=SecretStr(session.access_token),
                refresh_token=SecretStr(session.refresh_token),
                expires_at=session.expires_at,
            )
        client = self._clients.client(connection.network)
        if client is None:
            return None
        return self._oauth.refresh(
            connection.network, client, refresh_token=refresh_token, instance_url=connection.instance_url
        )

    # ------------------------------------------------------------------ helpers
    def _check_server(self, instance: str) -> None:
        """Refuses, before anything is registered or stored, a server whose name leads to a
        private address; each request to it is checked again when it is made."""
        problem = self._oauth.server_problem(instance)
        if problem:
            raise InvalidInput("check your Mastodon server", [FieldProblem("instance", problem)])

    def _client_for(self, network: Network, instance: str | None, redirect_uri: str) -> ClientCredentials:
        if profile_of(network).on_employee_server:
            assert instance is not None
            return self._mastodon_client(instance, redirect_uri)
        client = self._clients.client(network)
        if client is None:
            raise ConnectFailed(f"{network.value} is not set up for this company yet; ask your admin")
        return client

    def _mastodon_client(self, instance: str, redirect_uri: str) -> ClientCredentials:
        host = urlsplit(instance).hostname or instance
        cached = self._records.mastodon_app(host)
        if cached and cached.get("redirect_uri") == redirect_uri:
            sealed = cached["client_secret"]
            if not isinstance(sealed, bytes | bytearray):
                raise ConnectFailed("the stored Mastodon app is damaged; ask your admin")
            secret = self._vault.open(bytes(sealed), f"app:{host}", "mastodon")
            return ClientCredentials(client_id=str(cached["client_id"]), client_secret=secret.decode())
        registered = self._oauth.register_app(instance, redirect_uri)
        sealed = self._vault.seal(registered.client_secret.encode(), f"app:{host}", "mastodon")
        self._records.save_mastodon_app(host, registered.client_id, sealed, redirect_uri)
        return registered


def reminder_due(connection: Connection, now: datetime) -> bool:
    return (
        connection.expires_at is not None
        and connection.reminder_sent_at is None
        and now >= connection.expires_at - REMINDER_BEFORE_EXPIRY
    )
