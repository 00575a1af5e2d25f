"""Connecting to Bluesky with AT Protocol OAuth (https://atproto.com/specs/oauth): PAR, PKCE
S256 and DPoP-bound tokens, as Bluesky recommends; app passwords stay as the fallback.

Chorus is a *public* web client (``token_endpoint_auth_method: none``): its client_id is the
URL of the client metadata the web function serves (``domain.networks.atproto_client_metadata``).
The employee's tokens are bound to a DPoP key made for their session alone, sealed with the
tokens (KMS). A public client's session is capped by Bluesky's authorization server (two weeks
today), so the connection is given that end and the employee is reminded to reconnect, as for
LinkedIn's tokens.

The flow, every request through the SSRF guard (``PublicSession``: handles, DID documents, PDSes
and authorization servers are all chosen by the employee's account):

1. handle -> DID (``https://<handle>/.well-known/atproto-did``, else the AppView's
   ``resolveHandle``, which reads the ``_atproto`` DNS TXT record: a Lambda has no TXT lookup)
   -> DID document (plc.directory or did:web), which must name the handle back -> PDS;
2. the PDS's ``/.well-known/oauth-protected-resource`` names one authorization server, whose
   ``/.well-known/oauth-authorization-server`` must say it is that issuer and support what the
   profile requires (PAR, S256, DPoP ES256, the ``atproto`` scope, client metadata documents,
   the ``iss`` response parameter);
3. PAR with the PKCE challenge, ``state``, ``login_hint`` and a DPoP proof; the browser goes to
   the authorization endpoint with only the ``request_uri``;
4. the callback (the service checks ``state`` and ``iss``) exchanges the code with DPoP; the
   token's ``sub`` DID is then resolved afresh, and its PDS must name the same authorization
   server: an authorization server answers only for accounts whose PDS trusts it.

DPoP nonces are the server's (RFC 9449 §8): an answer ``use_dpop_nonce`` (400 from the
authorization server, 401 with ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` from a PDS) is
retried once with the nonce it carried in ``DPoP-Nonce``; the latest nonce of each server is
kept for the next request (dpop.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from pydantic import SecretStr

from chorus import clock
from chorus.adapters.networks.bluesky import DID, NETWORK, BlueskySessions, normalise_handle
from chorus.adapters.networks.dpop import DpopKey, DpopNonces, send_with_dpop
from chorus.adapters.networks.egress import PublicSession
from chorus.adapters.networks.http import Timeout, json_body, send, validate_instance_url
from chorus.domain.connection import ConnectFailed, Tokens
from chorus.domain.networks import ATPROTO_SCOPE
from chorus.domain.publishing import FailureKind, PublishFailed

if TYPE_CHECKING:
    import requests

_FORM = "application/x-www-form-urlencoded"
# (connect, read) seconds per call. The callback makes at most CALLBACK_CALLS in a row (the
# server's metadata, the token request and its nonce retry, the sub's DID document and its PDS's
# protected-resource metadata): with the AWS calls they fit the web function's timeout, so the
# employee whose single-use state is spent always gets a page back (tests/unit/test_time_budget.py).
OAUTH_TIMEOUT: Timeout = (1.5, 2.5)
CALLBACK_CALLS = 5


@dataclass(frozen=True)
class AuthorizationServer:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    par_endpoint: str


@dataclass(frozen=True)
class Authorization:
    """A started authorization: where to send the browser, and what the callback needs."""

    url: str
    did: str
    pds: str
    issuer: str
    dpop_key: DpopKey


@dataclass(frozen=True)
class Session:
    """The tokens of a new or refreshed session and whose they are (``sub``)."""

    did: str
    pds: str
    tokens: Tokens


def _unavailable(response: requests.Response) -> PublishFailed:
    return PublishFailed(FailureKind.TRANSIENT, f"{NETWORK}: HTTP {response.status_code} from the sign-in server")


def _endpoint(metadata: Mapping[str, Any], name: str, issuer: str) -> str:
    """An endpoint on the issuer's own host (an https URL the guard will check again)."""
    value = metadata.get(name)
    if not isinstance(value, str) or urlsplit(value).scheme != "https" or urlsplit(value).hostname is None:
        raise ConnectFailed("the Bluesky sign-in server describes itself wrongly; try again later")
    if f"https://{urlsplit(value).hostname}" != issuer:
        raise ConnectFailed("the Bluesky sign-in server points elsewhere; nothing was sent")
    return value


def validated_metadata(metadata: Any, issuer: str) -> AuthorizationServer:
    """The authorization server's metadata, checked as the atproto profile requires."""
    refused = ConnectFailed("the Bluesky sign-in server does not support what Chorus needs; try again later")
    if not isinstance(metadata, Mapping) or metadata.get("issuer") != issuer:
        raise ConnectFailed("the Bluesky sign-in server is not the one the account names; nothing was sent")

    def lists(name: str, value: str) -> bool:
        entries = metadata.get(name)
        return isinstance(entries, list) and value in entries

    if not (
        lists("response_types_supported", "code")
        and lists("grant_types_supported", "authorization_code")
        and lists("grant_types_supported", "refresh_token")
        and lists("code_challenge_methods_supported", "S256")
        and lists("token_endpoint_auth_methods_supported", "none")
        and lists("scopes_supported", "atproto")
        and lists("dpop_signing_alg_values_supported", "ES256")
        and metadata.get("authorization_response_iss_parameter_supported") is True
        and metadata.get("require_pushed_authorization_requests") is True
        and metadata.get("client_id_metadata_document_supported") is True
    ):
        raise refused
    return AuthorizationServer(
        issuer=issuer,
        authorization_endpoint=_endpoint(metadata, "authorization_endpoint", issuer),
        token_endpoint=_endpoint(metadata, "token_endpoint", issuer),
        par_endpoint=_endpoint(metadata, "pushed_authorization_request_endpoint", issuer),
    )


class BlueskyOAuth:
    """The AT Protocol OAuth client: start, finish (with the identity check), refresh."""

    def __init__(
        self,
        session: PublicSession | None = None,
        *,
        timeout: Timeout = OAUTH_TIMEOUT,
        now: Callable[[], datetime] = clock.now,
        nonces: DpopNonces | None = None,
    ) -> None:
        self._session = session if session is not None else PublicSession()
        self._identity = BlueskySessions(self._session, timeout)
        self._timeout = timeout
        self._now = now
        self._nonces = nonces or DpopNonces()

    def authorize(
        self, raw_handle: str, *, client_id: str, redirect_uri: str, state: str, code_challenge: str
    ) -> Authorization:
        handle = normalise_handle(raw_handle)
        did = self._identity.resolve_handle(handle)
        pds = self._identity.pds_of(did, handle)
        server = self.server_of(pds)
        key = DpopKey.generate()
        form = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": ATPROTO_SCOPE,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "login_hint": handle,
        }
        response = self._post_form(server.par_endpoint, form, key)
        body = json_body(response)
        request_uri = body.get("request_uri") if isinstance(body, Mapping) else None
        if response.status_code not in (200, 201) or not isinstance(request_uri, str) or not request_uri:
            raise ConnectFailed("Bluesky's sign-in server refused to start the connection; try again")
        query = urlencode({"client_id": client_id, "request_uri": request_uri})
        return Authorization(
            url=f"{server.authorization_endpoint}?{query}", did=did, pds=pds, issuer=server.issuer, dpop_key=key
        )

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
    ) -> Session:
        """The tokens for the code, once the ``sub`` they name is the account that was asked for
        and its PDS trusts this issuer. ConnectFailed otherwise: nothing is to be stored."""
        server = self._server(issuer)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": client_id,
        }
        session = self._token(server, form, DpopKey(dpop_key), client_id)
        if session.did != expected_did:
            raise ConnectFailed("Bluesky signed in another account than the handle you gave; nothing was stored")
        return session

    def refresh(self, tokens: Tokens) -> Session:
        """A new pair for a stored session (the refresh token rotates: the old one is spent).
        ConnectFailed when the server refuses (reconnect); PublishFailed TRANSIENT when a server
        could not be reached or failed (the session may be fine: try again later)."""
        if tokens.refresh_token is None or tokens.dpop_key is None or not tokens.issuer or not tokens.client_id:
            raise ConnectFailed("the stored Bluesky session cannot be refreshed; reconnect")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token.get_secret_value(),
            "client_id": tokens.client_id,
        }
        try:
            server = self._server(tokens.issuer)
            return self._token(server, form, DpopKey(tokens.dpop_key.get_secret_value()), tokens.client_id)
        except ConnectFailed as refused:
            cause = refused.__cause__
            if isinstance(cause, PublishFailed) and cause.kind is FailureKind.TRANSIENT:
                raise cause from None
            raise

    def server_of(self, pds: str) -> AuthorizationServer:
        """The authorization server the PDS names, its metadata checked."""
        return self._server(self.issuer_of(pds))

    def issuer_of(self, pds: str) -> str:
        """The one authorization server the PDS's protected-resource metadata names."""
        resource = json_body(self._get(f"{pds}/.well-known/oauth-protected-resource"))
        servers = resource.get("authorization_servers") if isinstance(resource, Mapping) else None
        if not isinstance(servers, list) or len(servers) != 1 or not isinstance(servers[0], str):
            raise ConnectFailed("this Bluesky server names no sign-in server; try again later")
        try:
            issuer = validate_instance_url(servers[0], NETWORK)
        except PublishFailed as exc:
            raise ConnectFailed("this Bluesky server names a sign-in server Chorus may not reach") from exc
        if issuer != servers[0]:
            raise ConnectFailed("this Bluesky server names its sign-in server wrongly; try again later")
        return issuer

    def _server(self, issuer: str) -> AuthorizationServer:
        try:
            checked = validate_instance_url(issuer, NETWORK)
        except PublishFailed as exc:
            raise ConnectFailed("the stored Bluesky sign-in server is not one Chorus may reach") from exc
        return validated_metadata(json_body(self._get(f"{checked}/.well-known/oauth-authorization-server")), issuer)

    def _token(self, server: AuthorizationServer, form: Mapping[str, str], key: DpopKey, client_id: str) -> Session:
        started = self._now()
        response = self._post_form(server.token_endpoint, form, key)
        body = json_body(response)
        if response.status_code >= 500:
            raise ConnectFailed("Bluesky's sign-in server failed; try again") from _unavailable(response)
        if response.status_code != 200 or not isinstance(body, Mapping):
            raise ConnectFailed("Bluesky refused the sign-in; connect again")
        access, refresh, sub = body.get("access_token"), body.get("refresh_token"), body.get("sub")
        scopes = str(body.get("scope", "")).split()
        if (
            not isinstance(access, str)
            or not access
            or str(body.get("token_type", "")).lower() != "dpop"
            or "atproto" not in scopes
            or not isinstance(sub, str)
            or not DID.match(sub)
        ):
            raise ConnectFailed("Bluesky answered with a session Chorus cannot use; nothing was stored")
        pds = self._identity.pds_of(sub, None)
        if self.issuer_of(pds) != server.issuer:
            # The spec's identity check: this server may only speak for accounts hosted behind it.
            raise ConnectFailed("that sign-in server does not host this Bluesky account; nothing was stored")
        expires_in = body.get("expires_in")
        return Session(
            did=sub,
            pds=pds,
            tokens=Tokens(
                access_token=SecretStr(access),
                refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else None,
                expires_at=started + timedelta(seconds=expires_in) if isinstance(expires_in, int) else None,
                dpop_key=SecretStr(key.jwk),
                issuer=server.issuer,
                client_id=client_id,
            ),
        )

    def _get(self, url: str) -> requests.Response:
        try:
            response = send(
                self._session,
                "GET",
                url,
                network=NETWORK,
                timeout=self._timeout,
                headers={"Accept": "application/json"},
            )
        except PublishFailed as exc:
            raise ConnectFailed(f"Bluesky could not be reached ({exc.kind.value}); try again") from exc
        if response.status_code >= 500:
            raise ConnectFailed("Bluesky's server failed; try again later") from _unavailable(response)
        if response.status_code != 200:
            raise ConnectFailed("Bluesky's server did not describe itself; try again later")
        return response

    def _post_form(self, url: str, form: Mapping[str, str], key: DpopKey) -> requests.Response:
        try:
            return send_with_dpop(
                self._session,
                self._nonces,
                key,
                "POST",
                url,
                headers={"Content-Type": _FORM, "Accept": "application/json"},
                body=urlencode(form).encode("ascii"),
                network=NETWORK,
                timeout=self._timeout,
                now=self._now,
            )
        except PublishFailed as exc:
            raise ConnectFailed(f"Bluesky could not be reached ({exc.kind.value}); try again") from exc
