"""OAuth endpoints per network, identity lookups and Mastodon app registration."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests
import responses

from chorus.adapters.networks.oauth_providers import (
    OAuthProvider,
    linkedin_member_id,
    mastodon_member_id,
    provider_for,
    register_mastodon_app,
    x_member_id,
)
from chorus.adapters.networks.registry import member_id_for
from chorus.domain.content import Network
from chorus.domain.publishing import FailureKind, PublishFailed
from tests.unit.adapters.recordings import INSTANCE, TOKEN, replay

REDIRECT = "https://chorus.example.com/connect/mastodon/callback"
Lookup = Callable[..., str]


class TestProviders:
    def test_linkedin(self) -> None:
        assert provider_for(Network.LINKEDIN) == OAuthProvider(
            network=Network.LINKEDIN,
            authorize_url="https://www.linkedin.com/oauth/v2/authorization",
            token_url="https://www.linkedin.com/oauth/v2/accessToken",
            scopes=("openid", "profile", "w_member_social"),
            pkce=False,
            token_auth="body",
        )

    def test_x(self) -> None:
        assert provider_for(Network.X) == OAuthProvider(
            network=Network.X,
            authorize_url="https://x.com/i/oauth2/authorize",
            token_url="https://api.x.com/2/oauth2/token",
            scopes=("tweet.read", "tweet.write", "users.read", "offline.access"),
            pkce=True,
            token_auth="basic",
        )

    def test_mastodon_uses_the_normalised_instance(self) -> None:
        assert provider_for(Network.MASTODON, "https://Mastodon.Social/") == OAuthProvider(
            network=Network.MASTODON,
            authorize_url="https://mastodon.social/oauth/authorize",
            token_url="https://mastodon.social/oauth/token",
            scopes=("write:statuses", "read:accounts"),
            pkce=True,
            token_auth="body",
        )

    @pytest.mark.parametrize("url", [None, "http://mastodon.social", "https://192.168.1.10", "https://localhost"])
    def test_mastodon_refuses_an_unsafe_instance(self, url: str | None) -> None:
        with pytest.raises(PublishFailed) as caught:
            provider_for(Network.MASTODON, url)
        assert caught.value.kind is FailureKind.REJECTED

    def test_sandbox_has_no_oauth(self) -> None:
        with pytest.raises(ValueError, match="no OAuth provider"):
            provider_for(Network.SANDBOX)


IDENTITIES = [
    (linkedin_member_id, "https://api.linkedin.com/v2/userinfo", "linkedin_userinfo", "782bbtaQ"),
    (x_member_id, "https://api.x.com/2/users/me", "x_users_me", "2244994945"),
    (mastodon_member_id, f"{INSTANCE}/api/v1/accounts/verify_credentials", "mastodon_verify_credentials", "14715"),
]
UNAUTHORIZED = {
    linkedin_member_id: "linkedin_unauthorized",
    x_member_id: "x_unauthorized",
    mastodon_member_id: "mastodon_unauthorized",
}


class TestIdentity:
    @pytest.mark.parametrize(("lookup", "url", "fixture", "member_id"), IDENTITIES)
    def test_member_id(
        self, rsps: responses.RequestsMock, lookup: Lookup, url: str, fixture: str, member_id: str
    ) -> None:
        # Given the network knows the token's owner
        replay(rsps, "GET", url, fixture)
        # When asked who the token belongs to
        found = lookup(requests.Session(), TOKEN, INSTANCE)
        # Then the member id comes back, and the token went as a Bearer header
        assert found == member_id
        assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"

    @pytest.mark.parametrize(("lookup", "url", "fixture", "member_id"), IDENTITIES)
    def test_a_revoked_token_is_unauthorized(
        self, rsps: responses.RequestsMock, lookup: Lookup, url: str, fixture: str, member_id: str
    ) -> None:
        replay(rsps, "GET", url, UNAUTHORIZED[lookup])
        with pytest.raises(PublishFailed) as caught:
            lookup(requests.Session(), TOKEN, INSTANCE)
        assert caught.value.kind is FailureKind.UNAUTHORIZED
        assert TOKEN not in str(caught.value)

    def test_timeout_is_transient(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", "https://api.x.com/2/users/me", body=requests.exceptions.ConnectTimeout("slow"))
        with pytest.raises(PublishFailed) as caught:
            x_member_id(requests.Session(), TOKEN)
        assert caught.value.kind is FailureKind.TRANSIENT

    def test_dispatch_by_network(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "GET", "https://api.linkedin.com/v2/userinfo", "linkedin_userinfo")
        assert member_id_for(Network.LINKEDIN, requests.Session(), TOKEN) == "782bbtaQ"

    def test_mastodon_lookup_checks_the_instance(self, rsps: responses.RequestsMock) -> None:
        with pytest.raises(PublishFailed) as caught:
            mastodon_member_id(requests.Session(), TOKEN, "https://169.254.169.254")
        assert caught.value.kind is FailureKind.REJECTED
        assert len(rsps.calls) == 0

    def test_an_answer_without_an_id_is_not_trusted(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", "https://api.linkedin.com/v2/userinfo", json={"name": "John Doe"})
        with pytest.raises(PublishFailed):
            linkedin_member_id(requests.Session(), TOKEN)


class TestMastodonApp:
    def test_registers_with_our_scopes_and_redirect(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", f"{INSTANCE}/api/v1/apps", "mastodon_app_registered")
        client_id, client_secret = register_mastodon_app(requests.Session(), INSTANCE, REDIRECT)
        assert (client_id, client_secret) == (
            "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
            "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
        )
        body = rsps.calls[0].request.body
        assert isinstance(body, bytes)
        assert json.loads(body) == {
            "client_name": "Chorus",
            "redirect_uris": REDIRECT,
            "scopes": "write:statuses read:accounts",
        }
        assert "Authorization" not in rsps.calls[0].request.headers

    def test_refuses_an_unsafe_instance(self, rsps: responses.RequestsMock) -> None:
        with pytest.raises(PublishFailed) as caught:
            register_mastodon_app(requests.Session(), "https://10.1.2.3", REDIRECT)
        assert caught.value.kind is FailureKind.REJECTED

    def test_a_refusal_is_rejected(self, rsps: responses.RequestsMock) -> None:
        rsps.add(
            "POST",
            f"{INSTANCE}/api/v1/apps",
            status=422,
            json={"error": "Validation failed: Redirect URI must be an absolute URI."},
        )
        with pytest.raises(PublishFailed) as caught:
            register_mastodon_app(requests.Session(), INSTANCE, "not a uri")
        assert caught.value.kind is FailureKind.REJECTED
        assert "Redirect URI" in caught.value.reason
