"""Where each network's OAuth 2.0 flow lives, and who a fresh token belongs to.

`provider_for` gives the endpoints of a network's profile (``chorus.domain.networks``) for
requests-oauthlib; the `*_member_id` lookups turn a new access token into the member id the
publishers need (`NetworkCredentials.member_id`); the adapter registry names each network's.
Every failure is a `PublishFailed`, mapped like publishing failures (401 -> UNAUTHORIZED).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from chorus.adapters.networks.http import (
    DEFAULT_TIMEOUT,
    Timeout,
    classify,
    encode_json,
    json_body,
    send,
    validate_instance_url,
)
from chorus.domain.content import Network
from chorus.domain.networks import TokenAuth, profile_of
from chorus.domain.publishing import FailureKind, PublishFailed

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class OAuthProvider:
    """A network's OAuth 2.0 endpoints as requests-oauthlib needs them (absolute URLs)."""

    network: Network
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    pkce: bool
    token_auth: TokenAuth


def provider_for(network: Network, instance_url: str | None = None) -> OAuthProvider:
    """Endpoints for `network`; on the employee's own server (Mastodon) they are that instance's
    (SSRF-checked: REJECTED)."""
    profile = profile_of(network)
    oauth = profile.oauth
    if oauth is None:
        raise ValueError(f"no OAuth provider for {network}")
    base = validate_instance_url(instance_url) if profile.on_employee_server else ""
    return OAuthProvider(
        network=network,
        authorize_url=base + oauth.authorize_url,
        token_url=base + oauth.token_url,
        scopes=oauth.scopes,
        pkce=oauth.pkce,
        token_auth=oauth.token_auth,
    )


def _get_json(session: requests.Session, url: str, network: str, access_token: str, timeout: Timeout) -> Any:
    if not access_token:
        raise PublishFailed(FailureKind.UNAUTHORIZED, f"{network}: no access token")
    response = send(
        session,
        "GET",
        url,
        network=network,
        timeout=timeout,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
    )
    if not 200 <= response.status_code < 300:
        raise classify(
            response, network=network, token=access_token, retry_after=None, unauthorized=frozenset({401, 403})
        )
    return json_body(response)


def _checked_id(value: Any, network: str) -> str:
    if isinstance(value, str) and _ID.match(value):
        return value
    raise PublishFailed(FailureKind.TRANSIENT, f"{network}: the identity answer has no usable id")


def linkedin_member_id(
    session: requests.Session, access_token: str, instance_url: str | None = None, timeout: Timeout = DEFAULT_TIMEOUT
) -> str:
    """OpenID Connect userinfo: `sub` is the id in `urn:li:person:<sub>`."""
    body = _get_json(session, "https://api.linkedin.com/v2/userinfo", "linkedin", access_token, timeout)
    return _checked_id(body.get("sub") if isinstance(body, Mapping) else None, "linkedin")


def x_member_id(
    session: requests.Session, access_token: str, instance_url: str | None = None, timeout: Timeout = DEFAULT_TIMEOUT
) -> str:
    body = _get_json(session, "https://api.x.com/2/users/me", "x", access_token, timeout)
    data = body.get("data") if isinstance(body, Mapping) else None
    return _checked_id(data.get("id") if isinstance(data, Mapping) else None, "x")


def mastodon_member_id(
    session: requests.Session, access_token: str, instance_url: str | None = None, timeout: Timeout = DEFAULT_TIMEOUT
) -> str:
    instance = validate_instance_url(instance_url)
    body = _get_json(session, f"{instance}/api/v1/accounts/verify_credentials", "mastodon", access_token, timeout)
    return _checked_id(body.get("id") if isinstance(body, Mapping) else None, "mastodon")


MemberIdLookup = Callable[[requests.Session, str, str | None, Timeout], str]


def _mastodon_scopes() -> tuple[str, ...]:
    oauth = profile_of(Network.MASTODON).oauth
    assert oauth is not None
    return oauth.scopes


def register_mastodon_app(
    session: requests.Session,
    instance_url: str,
    redirect_uri: str,
    client_name: str = "Chorus",
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> tuple[str, str]:
    """Register Chorus on an instance (once per instance; store the pair): (client_id, client_secret)."""
    instance = validate_instance_url(instance_url)
    response = send(
        session,
        "POST",
        f"{instance}/api/v1/apps",
        network="mastodon",
        timeout=timeout,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        body=encode_json(
            {"client_name": client_name, "redirect_uris": redirect_uri, "scopes": " ".join(_mastodon_scopes())},
            "mastodon",
        ),
    )
    if not 200 <= response.status_code < 300:
        raise classify(response, network="mastodon", token="", retry_after=None)
    body = json_body(response)
    client_id = body.get("client_id") if isinstance(body, Mapping) else None
    client_secret = body.get("client_secret") if isinstance(body, Mapping) else None
    if not isinstance(client_id, str) or not client_id or not isinstance(client_secret, str) or not client_secret:
        raise PublishFailed(FailureKind.TRANSIENT, "mastodon: the app registration answer has no client credentials")
    return client_id, client_secret
