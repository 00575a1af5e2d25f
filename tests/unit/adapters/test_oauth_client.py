"""Token requests as they leave Chorus (issue 9, item 13): each provider's client authentication,
for the code exchange and for the refresh, read from the bytes sent."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl

import pytest
import responses

from chorus.adapters.oauth import TIMEOUT, RequestsOAuthClient
from chorus.domain.connection import ClientCredentials
from chorus.domain.content import Network

CLIENT = ClientCredentials(client_id="the-client", client_secret="the-secret")
MASTODON = "https://mastodon.example"
TOKEN_URLS = {
    Network.X: "https://api.x.com/2/oauth2/token",
    Network.LINKEDIN: "https://www.linkedin.com/oauth/v2/accessToken",
    Network.MASTODON: f"{MASTODON}/oauth/token",
}
ISSUED = {"access_token": "at-1", "refresh_token": "rt-2", "expires_in": 7200, "token_type": "bearer"}


def sent(rsps: responses.RequestsMock) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, str]]:
    """(headers, body fields in order, the Basic credentials if any) of the one request made."""
    (call,) = rsps.calls
    request = call.request
    body = request.body.encode() if isinstance(request.body, str) else request.body
    fields = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    basic: dict[str, str] = {}
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        basic = {"user": user, "password": password}
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.request.req_kwargs["timeout"] == TIMEOUT
    return dict(request.headers), fields, basic


def exchange(network: Network) -> None:
    RequestsOAuthClient().exchange_code(
        network,
        CLIENT,
        redirect_uri="https://chorus.example.com/oauth/callback/x",
        code="the-code",
        code_verifier="v" * 43 if network is not Network.LINKEDIN else None,
        instance_url=MASTODON if network is Network.MASTODON else None,
    )


def refresh(network: Network) -> None:
    RequestsOAuthClient().refresh(
        network, CLIENT, refresh_token="rt-1", instance_url=MASTODON if network is Network.MASTODON else None
    )


@pytest.mark.parametrize("flow", [exchange, refresh])
def test_x_authenticates_with_basic_and_names_the_client_in_the_body(rsps, flow):
    rsps.add(responses.POST, TOKEN_URLS[Network.X], json=ISSUED)
    flow(Network.X)
    _, fields, basic = sent(rsps)
    assert basic == {"user": "the-client", "password": "the-secret"}
    names = dict(fields)
    assert names["client_id"] == "the-client"
    assert "client_secret" not in names  # one authentication method per request (RFC 6749 2.3)
    assert "include_client_id" not in names
    assert len(fields) == len(names)  # no field twice


@pytest.mark.parametrize("network", [Network.LINKEDIN, Network.MASTODON])
@pytest.mark.parametrize("flow", [exchange, refresh])
def test_linkedin_and_mastodon_take_the_client_in_the_body(rsps, network, flow):
    rsps.add(responses.POST, TOKEN_URLS[network], json=ISSUED)
    flow(network)
    headers, fields, basic = sent(rsps)
    assert basic == {} and "Authorization" not in headers
    names = dict(fields)
    assert (names["client_id"], names["client_secret"]) == ("the-client", "the-secret")
    assert "include_client_id" not in names
    assert len(fields) == len(names)


@pytest.mark.parametrize("network", list(TOKEN_URLS))
def test_a_refresh_sends_the_grant_and_the_refresh_token(rsps, network):
    rsps.add(responses.POST, TOKEN_URLS[network], json=ISSUED)
    refresh(network)
    _, fields, _ = sent(rsps)
    assert dict(fields)["grant_type"] == "refresh_token" and dict(fields)["refresh_token"] == "rt-1"


@pytest.mark.parametrize("network", list(TOKEN_URLS))
def test_a_code_exchange_sends_the_code_and_the_redirect_uri(rsps, network):
    rsps.add(responses.POST, TOKEN_URLS[network], json=ISSUED)
    exchange(network)
    _, fields, _ = sent(rsps)
    names = dict(fields)
    assert (names["grant_type"], names["code"]) == ("authorization_code", "the-code")
    assert names["redirect_uri"] == "https://chorus.example.com/oauth/callback/x"
    assert ("code_verifier" in names) is (network is not Network.LINKEDIN)


def test_the_answer_becomes_tokens(rsps):
    rsps.add(responses.POST, TOKEN_URLS[Network.X], body=json.dumps(ISSUED), content_type="application/json")
    tokens = RequestsOAuthClient().refresh(Network.X, CLIENT, refresh_token="rt-1", instance_url=None)
    assert tokens.access_token.get_secret_value() == "at-1"
    assert tokens.refresh_token is not None and tokens.refresh_token.get_secret_value() == "rt-2"
