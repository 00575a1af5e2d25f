"""Connecting a social account end to end against a fake OAuth provider (state, PKCE, code
exchange, sealed tokens, single-use rotating refresh tokens), and disconnecting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import responses

import web_handler
from chorus import bootstrap
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.config import WebSettings
from chorus.domain.content import Network
from chorus.domain.magic_links import activity_scope, sign_form, sign_link
from tests.conftest import ENVIRONMENT, MAGIC_LINK_SECRET, OAUTH_CLIENTS, TABLE
from tests.support.fake_oauth import FakeProvider
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"
NOW = datetime.now(UTC)


@pytest.fixture
def world(aws):
    seed(
        aws,
        [{"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open"}],
        [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris"}],
    )
    return aws


@pytest.fixture
def provider():
    fake = FakeProvider("x", OAUTH_CLIENTS["x"]["client_id"], OAUTH_CLIENTS["x"]["client_secret"])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("https://")  # moto is in-process; anything else unexpected fails loudly
        fake.install(mock)
        yield fake


def link() -> str:
    return sign_link(RING, employee_id(ADA), activity_scope(content_id("lyon")), NOW + timedelta(days=2))


def call(method: str, path: str, *, route: str, query: dict | None = None, body: str | None = None):
    headers = {"host": "chorus.example.com"}
    if body is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
    event = http_event(method, path, route=route, claims=None, query=query, body=body, headers=headers)
    return web_handler.lambda_handler(event, FakeLambdaContext())


def connect(token: str) -> dict:
    form = sign_form(RING, f"{employee_id(ADA)}|{activity_scope(content_id('lyon'))}", NOW - timedelta(minutes=1))
    return call(
        "POST",
        "/connect/x",
        route="/connect/{network}",
        query={"t": token},
        body=urlencode({"form": form, "action": "connect"}),
    )


def connection_item(aws) -> dict | None:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "CONN#x"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key).get("Item")


def test_get_connect_page_changes_nothing(world):
    before = world["dynamodb"].scan(TableName=TABLE)["Count"]
    response = call("GET", "/connect/x", route="/connect/{network}", query={"t": link()})
    assert response["statusCode"] == 200 and "Continue to X" in response["body"]
    assert world["dynamodb"].scan(TableName=TABLE)["Count"] == before


def test_connect_with_pkce_stores_sealed_tokens_and_returns_to_the_page(world, provider):
    token = link()
    # When the employee presses Connect
    started = connect(token)
    assert started["statusCode"] == 303
    location = started["headers"]["Location"]
    assert "code_challenge_method=S256" in location and "state=" in location
    assert "redirect_uri=https%3A%2F%2Fchorus.example.com%2Foauth%2Fcallback%2Fx" in location
    # And consents at X, which redirects back with a code
    code, state = provider.authorize(location)
    done = call("GET", "/oauth/callback/x", route="/oauth/callback/{network}", query={"code": code, "state": state})
    # Then they are back on the page they came from, and the connection is stored sealed
    assert done["statusCode"] == 303 and done["headers"]["Location"] == f"/a/{token}"
    item = connection_item(world)
    assert item["member_id"]["S"] == "member-42" and item["status"]["S"] == "CONNECTED"
    sealed = item["tokens"]["B"]
    assert all(secret.encode() not in sealed for secret in provider.access_tokens | provider.refresh_tokens)
    # and the PKCE verifier was sent with the code
    assert "code_verifier" in provider.token_requests[0]
    # The page now shows X as connected
    page = call("GET", f"/a/{token}", route="/a/{token}")["body"]
    assert re.search(r'value="x" checked> X\s*<span class="muted">\(connected\)', page)


def test_the_state_is_single_use(world, provider):
    code, state = provider.authorize(connect(link())["headers"]["Location"])
    call("GET", "/oauth/callback/x", route="/oauth/callback/{network}", query={"code": code, "state": state})
    again = call("GET", "/oauth/callback/x", route="/oauth/callback/{network}", query={"code": code, "state": state})
    assert again["statusCode"] == 400 and "expired or was already used" in again["body"]


def test_a_forged_state_connects_nothing(world, provider):
    code, _ = provider.authorize(connect(link())["headers"]["Location"])
    response = call(
        "GET", "/oauth/callback/x", route="/oauth/callback/{network}", query={"code": code, "state": "forged"}
    )
    assert response["statusCode"] == 400 and connection_item(world) is None


def test_a_denied_consent_changes_nothing(world, provider):
    connect(link())
    response = call("GET", "/oauth/callback/x", route="/oauth/callback/{network}", query={"error": "access_denied"})
    assert response["statusCode"] == 400 and connection_item(world) is None


def test_refresh_rotates_and_persists_the_new_pair(world, provider, monkeypatch):
    code, state = provider.authorize(connect(link())["headers"]["Location"])
    call("GET", "/oauth/callback/x", route="/oauth/callback/{network}", query={"code": code, "state": state})
    settings = WebSettings.from_env(ENVIRONMENT)
    service = bootstrap.build_connections_service(settings, dynamodb_client=world["dynamodb"])
    first = service.credentials(employee_id(ADA), Network.X)
    # When the token is refreshed (after a 401, say)
    second = service.credentials(employee_id(ADA), Network.X, force_refresh=True)
    third = service.credentials(employee_id(ADA), Network.X, force_refresh=True)
    # Then each refresh used the latest refresh token (a reused one would be refused) and was persisted
    assert len({first.access_token, second.access_token, third.access_token}) == 3
    assert [r["grant_type"] for r in provider.token_requests] == [
        "authorization_code",
        "refresh_token",
        "refresh_token",
    ]
    assert int(connection_item(world)["token_version"]["N"]) == 3
    assert service.credentials(employee_id(ADA), Network.X).access_token == third.access_token


def test_concurrent_refresh_keeps_one_pair(world, provider):
    code, state = provider.authorize(connect(link())["headers"]["Location"])
    call("GET", "/oauth/callback/x", route="/oauth/callback/{network}", query={"code": code, "state": state})
    settings = WebSettings.from_env(ENVIRONMENT)
    one = bootstrap.build_connections_service(settings, dynamodb_client=world["dynamodb"])
    two = bootstrap.build_connections_service(settings, dynamodb_client=world["dynamodb"])
    from chorus.store.connections import ConnectionStore

    store = ConnectionStore(world["dynamodb"], TABLE)
    stale = store.get(employee_id(ADA), Network.X)
    # one refreshes first; the other read the connection before and then tries to rotate with it
    fresh = one.credentials(employee_id(ADA), Network.X, force_refresh=True)
    assert store.rotate(stale.connection, b"other-pair") is False
    assert two.credentials(employee_id(ADA), Network.X).access_token == fresh.access_token


def test_disconnect_deletes_tokens_and_cancels_scheduled_posts(world, provider):
    token = link()
    code, state = provider.authorize(connect(token)["headers"]["Location"])
    call("GET", "/oauth/callback/x", route="/oauth/callback/{network}", query={"code": code, "state": state})
    form = sign_form(RING, f"{employee_id(ADA)}|{activity_scope(content_id('lyon'))}", NOW - timedelta(minutes=1))
    approve = urlencode(
        {
            "form": form,
            "action": "approve",
            "content_version": "1",
            "network": "x",
            "text_x": "Hi",
            "when": "now",
            "timezone": "Europe/Paris",
        }
    )
    assert call("POST", f"/a/{token}", route="/a/{token}", body=approve)["statusCode"] == 303
    response = call(
        "POST",
        "/connect/x",
        route="/connect/{network}",
        query={"t": token},
        body=urlencode({"form": form, "action": "disconnect"}),
    )
    assert response["statusCode"] == 303
    assert connection_item(world) is None
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#x"}}
    assert world["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]["status"]["S"] == "CANCELLED"


@pytest.mark.parametrize(
    "server",
    [
        "http://mastodon.social",
        "127.0.0.1",
        "https://localhost",
        "https://user:pw@mastodon.social",
        "https://10.0.0.1",
        "https://mastodon.social:8443",
        "https://mastodon.social/@ada",
    ],
)
def test_mastodon_server_must_be_a_public_https_host(world, server):
    form = sign_form(RING, f"{employee_id(ADA)}|{activity_scope(content_id('lyon'))}", NOW - timedelta(minutes=1))
    response = call(
        "POST",
        "/connect/mastodon",
        route="/connect/{network}",
        query={"t": link()},
        body=urlencode({"form": form, "action": "connect", "instance": server}),
    )
    assert response["statusCode"] == 422
