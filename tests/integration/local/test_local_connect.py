"""Connecting a network on the local cloud: the OAuth callback comes back to the local gateway.

Deployed, the web function builds its callback URL from configuration (PublicBaseUrl, or the API
id API Gateway writes into the request); the local cloud configures its own gateway's URL.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chorus import clock
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import activity_scope, connect_scope, form_subject, sign_form, sign_link
from chorus_local.cloud import LocalCloud


def install_oauth_clients(local_cloud: LocalCloud, document: dict[str, object]) -> None:
    secret_id = local_cloud.resources["OAuthClientsSecret"]
    local_cloud.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(document))
    bootstrap = sys.modules.get("chorus.bootstrap")
    if bootstrap is not None:
        bootstrap.web_app.cache_clear()  # the OAuth clients are read once per warm container


@pytest.fixture
def x_app(local_cloud: LocalCloud) -> Iterator[None]:
    """An X app in the OAuth clients secret, for this test only."""
    install_oauth_clients(local_cloud, {"x": {"client_id": "local-x", "client_secret": "local-secret"}})
    yield
    install_oauth_clients(local_cloud, {})


def test_connect_redirects_back_to_the_local_gateway_with_a_browser_bound_cookie(
    local_cloud: LocalCloud, x_app: None
) -> None:
    secrets = local_cloud.client("secretsmanager")
    ring = parse_key_ring(secrets.get_secret_value(SecretId=local_cloud.resources["MagicLinkSecret"])["SecretString"])
    now = clock.now()
    scope = connect_scope(activity_scope("c-local"))
    token = sign_link(ring, "e-local", scope, now + timedelta(days=1))
    form = sign_form(ring, form_subject("e-local", scope, "connect:x"), now - timedelta(minutes=1))
    response = requests.post(
        f"{local_cloud.api_url}/connect/x",
        params={"t": token},
        data={"form": form, "action": "connect"},
        headers={"Host": "evil.example", "Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, response.text
    location = parse_qs(urlsplit(response.headers["Location"]).query)
    assert location["redirect_uri"] == [f"{local_cloud.api_url}/oauth/callback/x"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-chorus-oauth-x=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
