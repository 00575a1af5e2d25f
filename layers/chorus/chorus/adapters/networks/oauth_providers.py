# ruff: noqa: S106  -- "token_url"/"token_auth" are endpoint metadata, not passwords.
"""Where each network's OAuth 2.0 flow lives, and who a fresh token belongs to.

`provider_for` gives the endpoints for requests-oauthlib; the `*_member_id` lookups turn a new
access token into the member id the publishers need (`NetworkCredentials.member_id`).
Every failure is a `PublishFailed`, mapped like publishing failures (401 -> UNAUTHORIZED).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

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
from chorus.domain.publishing import FailureKind, PublishFailed

TokenAuth = Literal["basic", "body"]
MASTODON_SCOPES = ("write:statuses", "read:accounts")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class OAuthProvider:
    """OAuth 2.0 authorization-code endpoints. `pkce` means S256; `token_auth` is how the
    client authenticates at the token endpoint: HTTP Basic, or client_id/secret in the body."""

    network: Network
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    pkce: bool
    token_auth: TokenAuth


LINKEDIN = OAuthProvider(
    network=Network.LINKEDIN,
    authorize_url="https://www.linkedin.com/oauth/v2/authorization",
    token_url="https://www.linkedin.com/oauth/v2/accessToken",
    scopes=("openid", "profile", "w_member_social"),
    pkce=False,  # LinkedIn's member 3-legged flow authenticates with the client secret
    token_auth="body",
)
X = OAuthProvider(
    network=Network.X,
    authorize_url="https://x.com/i/oauth2/authorize",
    token_url="https://api.x.com/2/oauth2/token",
    scopes=("tweet.read", "tweet.write", "users.read", "offline.access"),
    pkce=True,
    token_auth="basic",  # confidential client
)


def provider_for(network: Network, instance_url: str | None = None) -> OAuthProvider:
    """Endpoints for `network`; Mastodon needs the employee's instance (SSRF-checked: REJECTED)."""
    if network is Network.LINKEDIN:
        return LINKEDIN
    if network is Network.X:
        return X
    if network is Network.MASTODON:
        instance = validate_instance_url(instance_url)
        return OAuthProvider(
            network=Network.MASTODON,
            authorize_url=f"{instance}/oauth/authorize",
            token_url=f"{instance}/oauth/token",
            scopes=MASTODON_SCOPES,
            pkce=True,
            token_auth="body",
        )
    raise ValueError(f"no OAuth provider for {network}")


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
MEMBER_ID_LOOKUPS: dict[Network, MemberIdLookup] = {
    Network.LINKEDIN: linkedin_member_id,
    Network.X: x_member_id,
    Network.MASTODON: mastodon_member_id,
}


def member_id_for(
    network: Network,
    session: requests.Session,
    access_token: str,
    instance_url: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> str:
    try:
        lookup = MEMBER_ID_LOOKUPS[network]
    except KeyError:
        raise ValueError(f"no identity lookup for {network}") from None
    return lookup(session, access_token, instance_url, timeout)


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
            {"client_name": client_name, "redirect_uris": redirect_uri, "scopes": " ".join(MASTODON_SCOPES)},
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
