"""The OAuth adapter reaches an employee's Mastodon server only through the public-address guard:
app registration, code exchange, token refresh and verify_credentials; LinkedIn and X are not
resolved by it."""

from __future__ import annotations

import json

import pytest
import responses

from chorus.adapters.networks.egress import PublicSession
from chorus.adapters.oauth import RequestsOAuthClient
from chorus.domain.connection import ClientCredentials, ConnectFailed
from chorus.domain.content import Network
from tests.support.fake_dns import FakeDns
from tests.unit.adapters.recordings import replay

INSTANCE = "https://mastodon.example"
PUBLIC = "93.184.215.14"
REDIRECT = "https://chorus.example.com/oauth/callback/mastodon"
CLIENT = ClientCredentials(client_id="app-id", client_secret="app-secret")


def client(answer: str) -> tuple[RequestsOAuthClient, FakeDns]:
    dns = FakeDns({"mastodon.example": [[answer]]})
    return RequestsOAuthClient(public_session=PublicSession(dns)), dns


class TestServerCheck:
    def test_a_public_server_has_no_problem(self) -> None:
        oauth, dns = client(PUBLIC)
        assert oauth.server_problem(INSTANCE) is None
        assert dns.calls == [("mastodon.example", 443)]

    def test_a_server_named_for_a_private_address_is_explained(self) -> None:
        oauth, _ = client("127.0.0.1")
        assert oauth.server_problem(INSTANCE) == (
            "mastodon.example points to a loopback address (127.0.0.1), not to a public server: "
            "enter the public name of your Mastodon server, like mastodon.social"
        )

    def test_a_server_that_does_not_resolve_is_explained(self) -> None:
        oauth = RequestsOAuthClient(public_session=PublicSession(FakeDns({})))
        assert oauth.server_problem(INSTANCE) == (
            "mastodon.example could not be found: check the name of your Mastodon server"
        )


class TestEveryMastodonCallIsGuarded:
    @pytest.fixture
    def private(self) -> RequestsOAuthClient:
        return client("10.0.0.7")[0]

    def test_app_registration(self, rsps: responses.RequestsMock, private: RequestsOAuthClient) -> None:
        with pytest.raises(ConnectFailed):
            private.register_app(INSTANCE, REDIRECT)
        assert len(rsps.calls) == 0

    def test_code_exchange(self, rsps: responses.RequestsMock, private: RequestsOAuthClient) -> None:
        with pytest.raises(ConnectFailed) as caught:
            private.exchange_code(
                Network.MASTODON, CLIENT, redirect_uri=REDIRECT, code="c", code_verifier="v", instance_url=INSTANCE
            )
        assert "points to a private address (10.0.0.7)" in caught.value.message
        assert len(rsps.calls) == 0

    def test_token_refresh(self, rsps: responses.RequestsMock, private: RequestsOAuthClient) -> None:
        with pytest.raises(ConnectFailed):
            private.refresh(Network.MASTODON, CLIENT, refresh_token="r", instance_url=INSTANCE)
        assert len(rsps.calls) == 0

    def test_verify_credentials(self, rsps: responses.RequestsMock, private: RequestsOAuthClient) -> None:
        with pytest.raises(ConnectFailed):
            private.member_id(Network.MASTODON, "token", INSTANCE)
        assert len(rsps.calls) == 0


class TestPublicServer:
    def test_registration_and_code_exchange_reach_a_public_server(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", f"{INSTANCE}/api/v1/apps", "mastodon_app_registered")
        rsps.add(
            "POST",
            f"{INSTANCE}/oauth/token",
            json={"access_token": "tok", "token_type": "Bearer", "scope": "write:statuses read:accounts"},
        )
        oauth, dns = client(PUBLIC)
        registered = oauth.register_app(INSTANCE, REDIRECT)
        tokens = oauth.exchange_code(
            Network.MASTODON, registered, redirect_uri=REDIRECT, code="c", code_verifier="v", instance_url=INSTANCE
        )
        assert tokens.access_token.get_secret_value() == "tok"
        assert json.loads(rsps.calls[0].request.body)["redirect_uris"] == REDIRECT
        assert dns.calls == [("mastodon.example", 443)] * 2


def test_linkedin_and_x_are_not_resolved_by_the_guard(rsps: responses.RequestsMock) -> None:
    replay(rsps, "GET", "https://api.x.com/2/users/me", "x_users_me")
    oauth, dns = client("127.0.0.1")
    assert oauth.member_id(Network.X, "token", None)
    assert dns.calls == []
