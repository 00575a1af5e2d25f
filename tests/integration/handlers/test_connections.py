"""Connecting a social account end to end against a fake OAuth provider (state bound to the
browser, PKCE, code exchange, sealed tokens, single-use rotating refresh tokens), and
disconnecting. The connect link is the one the activity page shows."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import responses

import admin_api_handler
import web_handler
from chorus import bootstrap
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.config import WebSettings
from chorus.domain.connection import ConnectFailed
from chorus.domain.content import Network
from chorus.domain.magic_links import activity_scope, connect_scope, form_subject, sign_form, sign_link
from chorus.web.employee.connect import CallbackBase
from tests.conftest import ENVIRONMENT, MAGIC_LINK_SECRET, OAUTH_CLIENTS, TABLE
from tests.support.fake_oauth import FakeProvider
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"
NOW = datetime.now(UTC)
X_COOKIE = "__Host-chorus-oauth-x"


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


@dataclass
class Browser:
    """Keeps the cookies our responses set, and sends them back, as a browser does."""

    jar: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        *,
        route: str,
        query: dict | None = None,
        body: str | None = None,
        headers: dict | None = None,
    ) -> dict[str, Any]:
        sent = {"host": "chorus.example.com", **(headers or {})}
        if body is not None:
            sent["content-type"] = "application/x-www-form-urlencoded"
        cookies = [f"{name}={value}" for name, value in self.jar.items()]
        event = http_event(
            method, path, route=route, claims=None, query=query, body=body, headers=sent, cookies=cookies
        )
        response = web_handler.lambda_handler(event, FakeLambdaContext())
        for cookie in response.get("cookies") or []:
            self.set_cookies.append(cookie)
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return response


def link() -> str:
    return sign_link(RING, employee_id(ADA), activity_scope(content_id("lyon")), NOW + timedelta(days=2))


def connect_link(network: str = "x", origin: str | None = None) -> str:
    """The connect link the activity page shows (read from the page itself)."""
    page = Browser().call("GET", f"/a/{origin or link()}", route="/a/{token}")["body"]
    found = re.search(rf'href="(/connect/{network}\?t=[^"]+)"', page)
    assert found, "the activity page shows no connect link"
    return html.unescape(found.group(1))


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def press(browser: Browser, url: str, action: str = "connect", **fields: str) -> dict[str, Any]:
    """Presses the button on the connect page (its form token is the one the page rendered)."""
    page = browser.call("GET", urlsplit(url).path, route="/connect/{network}", query={"t": token_of(url)})["body"]
    form = re.search(r'name="form" value="([^"]+)"', page)
    assert form, "the connect page has no form"
    network = urlsplit(url).path.rsplit("/", 1)[-1]
    # The same form token as the page's, issued a minute ago (a person read the page first).
    subject = form_subject(employee_id(ADA), connect_scope(activity_scope(content_id("lyon"))), f"{action}:{network}")
    aged = sign_form(RING, subject, NOW - timedelta(minutes=1))
    return browser.call(
        "POST",
        urlsplit(url).path,
        route="/connect/{network}",
        query={"t": token_of(url)},
        body=urlencode({"form": aged, "action": action, **fields}),
    )


def callback(browser: Browser, network: str = "x", **query: str) -> dict[str, Any]:
    return browser.call("GET", f"/oauth/callback/{network}", route="/oauth/callback/{network}", query=query)


def connection_item(aws) -> dict | None:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "CONN#x"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key).get("Item")


def oauth_states(aws) -> list[dict]:
    return [item for item in aws["dynamodb"].scan(TableName=TABLE)["Items"] if item["PK"]["S"].startswith("OAUTH#")]


def test_get_connect_page_changes_nothing(world):
    before = world["dynamodb"].scan(TableName=TABLE)["Count"]
    url = connect_link()
    response = Browser().call("GET", "/connect/x", route="/connect/{network}", query={"t": token_of(url)})
    assert response["statusCode"] == 200 and "Continue to X" in response["body"]
    assert world["dynamodb"].scan(TableName=TABLE)["Count"] == before


def test_the_connect_link_is_no_longer_than_the_page_link(world):
    page_link = link()
    assert len(token_of(connect_link(origin=page_link))) <= len(page_link)


def test_connect_with_pkce_stores_sealed_tokens_and_returns_to_the_page(world, provider):
    browser = Browser()
    # When the employee presses Connect on the connect page the activity page links to
    started = press(browser, connect_link())
    assert started["statusCode"] == 303
    location = started["headers"]["Location"]
    assert "code_challenge_method=S256" in location and "state=" in location
    assert "redirect_uri=https%3A%2F%2Fchorus.example.com%2Foauth%2Fcallback%2Fx" in location
    # Then the browser holds a cookie that only our site, over HTTPS, and no script can read
    (cookie,) = browser.set_cookies
    assert cookie.startswith(f"{X_COOKIE}=")
    assert {"Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=600"} <= {
        part.strip() for part in cookie.split(";")[1:]
    }
    secret = browser.jar[X_COOKIE]
    (state_item,) = oauth_states(world)
    assert secret not in str(state_item)  # only its hash is stored
    # And consents at X, which redirects back with a code
    code, state = provider.authorize(location)
    done = callback(browser, code=code, state=state)
    # Then they are back on the page they came from, the cookie is cleared, and the tokens are sealed
    assert done["statusCode"] == 303 and done["headers"]["Location"].startswith("/a/")
    assert X_COOKIE not in browser.jar and any("Max-Age=0" in c for c in browser.set_cookies[1:])
    item = connection_item(world)
    assert item["member_id"]["S"] == "member-42" and item["status"]["S"] == "CONNECTED"
    sealed = item["tokens"]["B"]
    assert all(secret.encode() not in sealed for secret in provider.access_tokens | provider.refresh_tokens)
    assert "code_verifier" in provider.token_requests[0]
    # The page they are back on shows X as connected
    back = done["headers"]["Location"]
    page = browser.call("GET", back, route="/a/{token}")["body"]
    assert re.search(r'value="x" checked> X\s*<span class="muted">\(connected\)', page)


def test_a_callback_in_another_browser_connects_nothing_and_spends_nothing(world, provider):
    """Login CSRF: an attacker's (or a leaked) code and state, delivered to a browser that did
    not start the flow, are refused; the employee's own browser still completes."""
    employee = Browser()
    code, state = provider.authorize(press(employee, connect_link())["headers"]["Location"])
    for stranger in (Browser(), Browser(jar={X_COOKIE: "guessed"})):
        response = callback(stranger, code=code, state=state)
        assert response["statusCode"] == 400 and "start again" in response["body"]
        assert connection_item(world) is None
    assert len(oauth_states(world)) == 1
    assert callback(employee, code=code, state=state)["statusCode"] == 303
    assert connection_item(world)["status"]["S"] == "CONNECTED"


def test_the_cookie_of_one_network_does_not_complete_another(world, provider):
    browser = Browser()
    code, state = provider.authorize(press(browser, connect_link())["headers"]["Location"])
    browser.jar["__Host-chorus-oauth-linkedin"] = browser.jar.pop(X_COOKIE)
    response = callback(browser, "linkedin", code=code, state=state)
    assert response["statusCode"] == 400 and connection_item(world) is None


def test_the_state_is_single_use(world, provider):
    browser = Browser()
    code, state = provider.authorize(press(browser, connect_link())["headers"]["Location"])
    secret = browser.jar[X_COOKIE]
    callback(browser, code=code, state=state)
    browser.jar[X_COOKIE] = secret  # even with the cookie replayed
    again = callback(browser, code=code, state=state)
    assert again["statusCode"] == 400 and "expired, was already used" in again["body"]


def test_a_forged_state_connects_nothing(world, provider):
    browser = Browser()
    code, _ = provider.authorize(press(browser, connect_link())["headers"]["Location"])
    response = callback(browser, code=code, state="forged")
    assert response["statusCode"] == 400 and connection_item(world) is None
    assert X_COOKIE not in browser.jar


def test_a_denied_consent_changes_nothing_and_leads_back(world, provider):
    browser = Browser()
    location = press(browser, connect_link())["headers"]["Location"]
    _, state = provider.authorize(location)
    response = callback(browser, error="access_denied", state=state)
    assert response["statusCode"] == 502 and "did not allow the connection" in response["body"]
    assert re.search(r'<a href="/a/[^"]+">Back to your page</a>', response["body"])
    assert connection_item(world) is None and oauth_states(world) == [] and X_COOKIE not in browser.jar


@pytest.mark.parametrize("failure", [requests.ConnectTimeout, requests.ReadTimeout])
def test_a_provider_that_does_not_answer_in_time_gets_a_page_with_the_way_back(world, failure):
    """The single-use state is spent, but the employee is told what happened and sent back to
    their page to connect again, instead of the function timing out behind API Gateway."""
    browser = Browser()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru("https://")
        mock.add(responses.POST, "https://api.x.com/2/oauth2/token", body=failure("slow"))
        location = press(browser, connect_link())["headers"]["Location"]
        state = parse_qs(urlsplit(location).query)["state"][0]
        response = callback(browser, code="a-code", state=state)
        sent = mock.calls[0].request
    assert response["statusCode"] == 502 and "refused the connection" in response["body"]
    assert re.search(r'<a href="/a/[^"]+">Back to your page</a>', response["body"])
    assert connection_item(world) is None and X_COOKIE not in browser.jar
    assert sent.req_kwargs["timeout"] == (3.05, 7.0)


def test_the_redirect_uri_never_comes_from_request_headers(world, provider):
    browser = Browser()
    url = connect_link()
    hostile = {"host": "evil.example", "x-forwarded-host": "evil.example", "forwarded": "host=evil.example"}
    aged = sign_form(
        RING,
        form_subject(employee_id(ADA), connect_scope(activity_scope(content_id("lyon"))), "connect:x"),
        NOW - timedelta(minutes=1),
    )
    started = browser.call(
        "POST",
        "/connect/x",
        route="/connect/{network}",
        query={"t": token_of(url)},
        body=urlencode({"form": aged, "action": "connect"}),
        headers={**hostile, "sec-fetch-site": "same-origin"},
    )
    assert started["statusCode"] == 303
    location = started["headers"]["Location"]
    assert "evil.example" not in location
    assert "redirect_uri=https%3A%2F%2Fchorus.example.com%2Foauth%2Fcallback%2Fx" in location


def test_refresh_rotates_and_persists_the_new_pair(world, provider):
    browser = Browser()
    code, state = provider.authorize(press(browser, connect_link())["headers"]["Location"])
    callback(browser, code=code, state=state)
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
    browser = Browser()
    code, state = provider.authorize(press(browser, connect_link())["headers"]["Location"])
    callback(browser, code=code, state=state)
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
    browser = Browser()
    page_link = link()
    url = connect_link(origin=page_link)
    code, state = provider.authorize(press(browser, url)["headers"]["Location"])
    callback(browser, code=code, state=state)
    form = sign_form(
        RING, form_subject(employee_id(ADA), activity_scope(content_id("lyon")), "approve"), NOW - timedelta(minutes=1)
    )
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
    assert browser.call("POST", f"/a/{page_link}", route="/a/{token}", body=approve)["statusCode"] == 303
    response = press(browser, url, action="disconnect")
    assert response["statusCode"] == 303 and response["headers"]["Location"].startswith("/a/")
    assert connection_item(world) is None
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#x"}}
    assert world["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]["status"]["S"] == "CANCELLED"


def test_a_connect_form_token_does_not_disconnect(world, provider):
    browser = Browser()
    url = connect_link()
    code, state = provider.authorize(press(browser, url)["headers"]["Location"])
    callback(browser, code=code, state=state)
    connect_form = sign_form(
        RING,
        form_subject(employee_id(ADA), connect_scope(activity_scope(content_id("lyon"))), "connect:x"),
        NOW - timedelta(minutes=1),
    )
    response = browser.call(
        "POST",
        "/connect/x",
        route="/connect/{network}",
        query={"t": token_of(url)},
        body=urlencode({"form": connect_form, "action": "disconnect"}),
    )
    assert response["statusCode"] == 403 and connection_item(world) is not None


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
    response = press(Browser(), connect_link("mastodon"), instance=server)
    assert response["statusCode"] == 422


def test_without_public_base_url_the_redirect_uri_is_the_apis_own_url(world, provider, monkeypatch):
    """API Gateway writes the API id and stage into the request context; the client cannot."""
    monkeypatch.setenv("PUBLIC_BASE_URL", "")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    browser = Browser()
    started = browser.call(
        "POST",
        "/connect/x",
        route="/connect/{network}",
        query={"t": token_of(connect_link())},
        body=urlencode(
            {
                "form": sign_form(
                    RING,
                    form_subject(employee_id(ADA), connect_scope(activity_scope(content_id("lyon"))), "connect:x"),
                    NOW - timedelta(minutes=1),
                ),
                "action": "connect",
            }
        ),
        headers={"host": "evil.example", "x-forwarded-host": "evil.example"},
    )
    assert started["statusCode"] == 303
    redirect = parse_qs(urlsplit(started["headers"]["Location"]).query)["redirect_uri"]
    assert redirect == ["https://api1234567.execute-api.eu-west-1.amazonaws.com/oauth/callback/x"]


@pytest.mark.parametrize(
    ("public_base_url", "region", "api_id", "stage", "expected"),
    [
        ("https://share.example.com", "eu-west-1", "abc123", "$default", "https://share.example.com"),
        ("", "eu-west-1", "abc123", "$default", "https://abc123.execute-api.eu-west-1.amazonaws.com"),
        ("", "us-east-1", "abc123", "prod", "https://abc123.execute-api.us-east-1.amazonaws.com/prod"),
        ("", "cn-north-1", "abc123", "$default", "https://abc123.execute-api.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_the_callback_base_comes_from_configuration(public_base_url, region, api_id, stage, expected):
    assert CallbackBase(public_base_url, region).url(api_id, stage) == expected


@pytest.mark.parametrize(("region", "api_id"), [("", "abc123"), ("eu-west-1", None), ("eu-west-1", "evil.example/x")])
def test_without_a_configured_base_connecting_says_what_is_missing(region, api_id):
    with pytest.raises(ConnectFailed, match="PublicBaseUrl"):
        CallbackBase("", region).url(api_id, "$default")


def test_a_callback_completed_after_deactivation_stores_no_tokens(world, provider):
    """The employee started connecting, then left the company before the network sent them back:
    the tokens the network hands over are dropped, never stored for someone who is gone."""
    browser = Browser()
    code, state = provider.authorize(press(browser, connect_link())["headers"]["Location"])
    # When an admin deactivates them while they are on the network's consent screen
    deactivate = http_event(
        "POST",
        f"/admin/employees/{employee_id(ADA)}/deactivate",
        route="/admin/employees/{employee_id}/deactivate",
        path_parameters={"employee_id": employee_id(ADA)},
    )
    assert admin_api_handler.lambda_handler(deactivate, FakeLambdaContext())["statusCode"] == 200
    # And the network sends them back with a code
    done = callback(browser, code=code, state=state)
    # Then nothing is stored and they are told why
    assert done["statusCode"] == 403
    assert "no longer on your company" in done["body"]
    assert connection_item(world) is None
    assert [item for item in world["dynamodb"].scan(TableName=TABLE)["Items"] if "tokens" in item] == []
