"""The admin console through its handler on moto, signing in against a fake OIDC issuer: the
whole code + PKCE flow, the session cookie and its server-side record, the Overview's figures,
sign-out, and every refusal (forged state, another browser, wrong nonce, non-admin, missing CSRF,
ended session) leaving nothing behind."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses

import console_handler
from chorus import clock
from chorus.domain.console import hashed
from tests.conftest import TABLE
from tests.support.fake_oidc import FakeIssuer
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext

ADMIN = {"sub": "admin-1", "email": "ada@example.com", "name": "Ada Admin", "cognito:groups": ["chorus-admins"]}
NOT_ADMIN = {"sub": "user-2", "email": "bob@example.com", "cognito:groups": ["marketing"]}
ROUTES = {
    "/console": "/console",
    "/console/signin": "/console/signin",
    "/console/callback": "/console/callback",
    "/console/signout": "/console/signout",
    "/console/overview.csv": "/console/{proxy+}",
}


@dataclass
class Browser:
    """Keeps the cookies our responses set and sends them back, as a browser does."""

    jar: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    def call(self, method: str, path: str, *, query: dict | None = None, body: str | None = None) -> dict[str, Any]:
        headers = {"host": "chorus.example.com", "sec-fetch-site": "same-origin"}
        if body is not None:
            headers["content-type"] = "application/x-www-form-urlencoded"
        event = http_event(
            method,
            path,
            route=ROUTES.get(path, "/console/{proxy+}"),
            claims=None,
            query=query,
            body=body,
            headers=headers,
            cookies=[f"{name}={value}" for name, value in self.jar.items()],
        )
        response = console_handler.lambda_handler(event, FakeLambdaContext())
        for cookie in response.get("cookies") or []:
            self.set_cookies.append(cookie)
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return response


@pytest.fixture
def issuer(aws) -> Iterator[FakeIssuer]:
    fake = FakeIssuer()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("https://")  # moto is in-process; anything else unexpected fails loudly
        fake.install(mock)
        yield fake


@pytest.fixture
def moved_clock() -> Iterator[list[timedelta]]:
    """The clock, moved forward by what a test appends."""
    offset = [timedelta(0)]
    clock.install(lambda: datetime.now(UTC) + offset[0])
    try:
        yield offset
    finally:
        clock.install(None)


def console_items(aws, kind: str) -> list[dict[str, Any]]:
    items = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    return [item for item in items if item["PK"]["S"].startswith(f"CONSOLE#{kind}#")]


def location(response: dict[str, Any]) -> str:
    return response["headers"]["Location"]


def start_sign_in(browser: Browser) -> str:
    response = browser.call("POST", "/console/signin", body="")
    assert response["statusCode"] == 303
    return location(response)


def sign_in(browser: Browser, issuer: FakeIssuer, claims: dict[str, Any] = ADMIN) -> dict[str, Any]:
    answer = issuer.authorize(start_sign_in(browser), claims)
    return browser.call("GET", "/console/callback", query=answer)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no sign-out form"
    return found.group(1)


def test_without_a_session_the_console_sends_the_browser_to_the_sign_in_page(issuer, aws):
    response = Browser().call("GET", "/console")

    assert response["statusCode"] == 303
    assert location(response) == "/console/signin"


def test_the_sign_in_page_writes_nothing_and_has_the_strict_csp(issuer, aws):
    response = Browser().call("GET", "/console/signin")

    assert response["statusCode"] == 200
    assert "script-src 'self'" in response["headers"]["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["headers"]["Content-Security-Policy"]
    assert 'action="/console/signin"' in response["body"]
    assert console_items(aws, "SIGNIN") == []


def test_starting_sign_in_redirects_to_the_issuer_with_pkce_and_binds_the_browser(issuer, aws):
    browser = Browser()

    url = start_sign_in(browser)

    parts = urlsplit(url)
    params = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://issuer.example.com/authorize"
    assert params["client_id"] == "chorus-console"
    assert params["redirect_uri"] == "https://chorus.example.com/console/callback"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43 and len(params["state"]) >= 43 and len(params["nonce"]) >= 43
    cookie = next(c for c in browser.set_cookies if c.startswith("__Host-chorus-console-signin="))
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    [stored] = console_items(aws, "SIGNIN")
    # Stored under the hash of the state, with the hash of the browser's secret, never the values.
    assert stored["PK"]["S"] == f"CONSOLE#SIGNIN#{hashed(params['state'])}"
    assert stored["browser_hash"]["S"] == hashed(browser.jar["__Host-chorus-console-signin"])
    assert params["state"] not in str(stored)
    assert "expires_at" in stored


def test_an_admin_signs_in_sees_the_overview_and_signs_out(issuer, aws):
    browser = Browser()

    signed_in = sign_in(browser, issuer)

    assert signed_in["statusCode"] == 303 and location(signed_in) == "/console"
    session_cookie = next(c for c in browser.set_cookies if c.startswith("__Host-chorus-console="))
    assert all(flag in session_cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    assert "__Host-chorus-console-signin" not in browser.jar
    # The token endpoint got the verifier whose S256 challenge the authorization request carried.
    assert issuer.token_requests[0]["code_verifier"]
    [session] = console_items(aws, "SESSION")
    assert session["PK"]["S"] == f"CONSOLE#SESSION#{hashed(browser.jar['__Host-chorus-console'])}"
    assert console_items(aws, "SIGNIN") == []

    page = browser.call("GET", "/console")
    assert page["statusCode"] == 200
    assert "<h1>Overview</h1>" in page["body"] and "Ada Admin" in page["body"]

    signed_out = browser.call("POST", "/console/signout", body=urlencode({"csrf": csrf_of(page["body"])}))

    assert signed_out["statusCode"] == 303
    logout = urlsplit(location(signed_out))
    assert f"{logout.scheme}://{logout.netloc}{logout.path}" == "https://issuer.example.com/logout"
    # The OpenID parameter, and Cognito's name for it.
    assert parse_qs(logout.query)["post_logout_redirect_uri"] == ["https://chorus.example.com/console/signed-out"]
    assert parse_qs(logout.query)["logout_uri"] == ["https://chorus.example.com/console/signed-out"]
    assert parse_qs(logout.query)["client_id"] == ["chorus-console"]
    assert console_items(aws, "SESSION") == []
    assert "__Host-chorus-console" not in browser.jar
    assert location(browser.call("GET", "/console")) == "/console/signin"


def test_sign_out_without_an_end_session_endpoint_returns_to_the_sign_in_page(aws):
    fake = FakeIssuer(end_session=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("https://")
        fake.install(mock)
        browser = Browser()
        sign_in(browser, fake)
        page = browser.call("GET", "/console")["body"]

        signed_out = browser.call("POST", "/console/signout", body=urlencode({"csrf": csrf_of(page)}))

    assert location(signed_out) == "/console/signed-out"
    assert "You are signed out." in Browser().call("GET", "/console/signed-out")["body"]


def test_a_forged_state_is_refused_and_nothing_is_stored(issuer, aws):
    browser = Browser()
    answer = issuer.authorize(start_sign_in(browser), ADMIN)

    response = browser.call("GET", "/console/callback", query={**answer, "state": "forged-state"})

    assert response["statusCode"] == 400
    assert console_items(aws, "SESSION") == []
    assert issuer.token_requests == []


def test_an_answer_replayed_is_refused(issuer, aws):
    browser = Browser()
    answer = issuer.authorize(start_sign_in(browser), ADMIN)
    browser.call("GET", "/console/callback", query=answer)
    attacker = Browser(jar={"__Host-chorus-console-signin": "x"})

    replayed = attacker.call("GET", "/console/callback", query=answer)

    assert replayed["statusCode"] == 400
    assert len(console_items(aws, "SESSION")) == 1


def test_an_answer_in_another_browser_is_refused(issuer, aws):
    answer = issuer.authorize(start_sign_in(Browser()), ADMIN)

    response = Browser().call("GET", "/console/callback", query=answer)

    assert response["statusCode"] == 400
    assert "another browser" in response["body"]
    assert console_items(aws, "SESSION") == []
    assert issuer.token_requests == []


def test_an_id_token_with_another_nonce_is_refused(issuer, aws):
    issuer.tamper = {"nonce": "not-the-one-we-sent"}

    response = sign_in(Browser(), issuer)

    assert response["statusCode"] == 400
    assert console_items(aws, "SESSION") == []


def test_an_id_token_for_another_client_is_refused(issuer, aws):
    issuer.tamper = {"aud": "someone-else"}

    response = sign_in(Browser(), issuer)

    assert response["statusCode"] == 400
    assert console_items(aws, "SESSION") == []


def test_a_non_admin_gets_a_clear_403_page_and_no_session(issuer, aws):
    response = sign_in(Browser(), issuer, NOT_ADMIN)

    assert response["statusCode"] == 403
    assert "Not an administrator" in response["body"]
    assert response["headers"]["Content-Security-Policy"].startswith("default-src 'none'")
    assert console_items(aws, "SESSION") == []


def test_the_issuer_cancelling_changes_nothing(issuer, aws):
    browser = Browser()
    start_sign_in(browser)

    response = browser.call("GET", "/console/callback", query={"error": "access_denied", "state": "x"})

    assert response["statusCode"] == 400
    assert console_items(aws, "SESSION") == []


def test_sign_out_without_the_csrf_token_is_refused_and_the_session_stays(issuer, aws):
    browser = Browser()
    sign_in(browser, issuer)

    response = browser.call("POST", "/console/signout", body=urlencode({"csrf": "guessed"}))

    assert response["statusCode"] == 403
    assert len(console_items(aws, "SESSION")) == 1
    assert browser.call("GET", "/console")["statusCode"] == 200


def test_an_idle_session_ends_and_its_record_is_deleted(issuer, aws, moved_clock):
    browser = Browser()
    sign_in(browser, issuer)

    moved_clock[0] = timedelta(minutes=31)
    response = browser.call("GET", "/console")

    assert response["statusCode"] == 303
    assert location(response) == "/console/signin?done=ended"
    assert console_items(aws, "SESSION") == []


def test_a_used_session_stays_alive_past_the_idle_time_until_its_absolute_end(issuer, aws, moved_clock):
    browser = Browser()
    sign_in(browser, issuer)

    for minutes in (20, 40, 60):
        moved_clock[0] = timedelta(minutes=minutes)
        assert browser.call("GET", "/console")["statusCode"] == 200
    moved_clock[0] = timedelta(hours=8, minutes=1)

    assert browser.call("GET", "/console")["statusCode"] == 303


def seed_month(aws, month: str, shards: dict[int, dict[str, int]]) -> None:
    for shard, counters in shards.items():
        item = {"PK": {"S": f"STATS#{month}#{shard}"}, "SK": {"S": "COMPANY"}, "entity": {"S": "stats"}}
        item.update({name: {"N": str(value)} for name, value in counters.items()})
        aws["dynamodb"].put_item(TableName=TABLE, Item=item)


def test_the_overview_adds_up_the_scorers_shards_and_the_census(issuer, aws):
    now = datetime.now(UTC)
    this_month = f"M{now:%Y-%m}"
    seed_month(
        aws,
        this_month,
        {
            0: {"approvals": 3, "participants": 2, "points": 30, "clicks": 7, "publications": 2},
            5: {"approvals": 2, "participants": 3, "points": 20, "clicks": 1, "publications": 1},
        },
    )
    census = {"PK": {"S": "CENSUS"}, "SK": {"S": "TOTAL"}, "active": {"N": "10"}, "run": {"S": now.isoformat()}}
    aws["dynamodb"].put_item(TableName=TABLE, Item=census)
    browser = Browser()
    sign_in(browser, issuer)

    page = browser.call("GET", "/console")["body"]
    download = browser.call("GET", "/console/overview.csv")

    assert "50&nbsp;%" in page  # 5 participants of 10 active employees
    assert "5 of 10 active employees approved" in page
    assert 'role="img"' in page and '<title id="trend-title">' in page and "<table>" in page
    assert download["statusCode"] == 200
    assert download["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in download["headers"]["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download["body"])))
    assert len(rows) == 12
    assert rows[-1] == {
        "month": f"{now:%Y-%m}",
        "approvals": "5",
        "participants": "5",
        "participation_percent": "50",
        "publications": "3",
        "visits": "8",
        "points": "50",
    }
    assert rows[0]["approvals"] == "0"


def test_the_csv_needs_a_session(issuer, aws):
    response = Browser().call("GET", "/console/overview.csv")

    assert response["statusCode"] == 303


def test_an_expired_id_token_is_refused(issuer, aws):
    issuer.tamper = {"exp": 1_700_000_000, "iat": 1_699_990_000}

    response = sign_in(Browser(), issuer)

    assert response["statusCode"] == 400
    assert console_items(aws, "SESSION") == []


def test_an_id_token_signed_by_a_key_the_issuer_does_not_publish_is_refused(issuer, aws):
    from cryptography.hazmat.primitives.asymmetric import rsa

    issuer.key_for_signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    response = sign_in(Browser(), issuer)

    assert response["statusCode"] == 400
    assert console_items(aws, "SESSION") == []


def test_with_cognito_the_console_finds_its_app_client_by_name(aws):
    import boto3

    from chorus.adapters.cognito_clients import client_id_by_name

    cognito = boto3.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="chorus-test-admins")["UserPool"]["Id"]
    cognito.create_user_pool_client(UserPoolId=pool, ClientName="chorus-test-admin")
    console = cognito.create_user_pool_client(UserPoolId=pool, ClientName="chorus-test-console")["UserPoolClient"]

    assert client_id_by_name(cognito, pool, "chorus-test-console") == console["ClientId"]


def test_the_console_settings_need_a_client_id_or_the_cognito_pool_and_client_name(function_env):
    from chorus.config import ConsoleSettings, SettingsError

    without_client = {name: value for name, value in function_env.items() if name != "OIDC_CLIENT_ID"}

    with pytest.raises(SettingsError):
        ConsoleSettings.from_env(without_client)
    cognito = ConsoleSettings.from_env(
        {**without_client, "COGNITO_USER_POOL_ID": "eu-west-1_x", "CONSOLE_CLIENT_NAME": "chorus-dev-console"}
    )
    assert cognito.console_client_name == "chorus-dev-console"


def test_no_secret_of_the_flow_reaches_the_logs(issuer, aws, caplog):
    browser = Browser()
    answer = issuer.authorize(start_sign_in(browser), ADMIN)
    browser.call("GET", "/console/callback", query=answer)
    page = browser.call("GET", "/console")["body"]
    browser.call("POST", "/console/signout", body=urlencode({"csrf": "wrong"}))
    browser.call("POST", "/console/signout", body=urlencode({"csrf": csrf_of(page)}))

    logs = json.dumps([record.__dict__ for record in caplog.records], default=str)
    assert "console signed in" in logs and "console signed out" in logs
    for secret in (answer["code"], answer["state"], csrf_of(page), "ada@example.com", "Ada Admin"):
        assert secret not in logs
    for set_cookie in browser.set_cookies:
        value = set_cookie.split(";", 1)[0].partition("=")[2]
        assert not value or value not in logs


def test_a_form_posted_from_another_site_is_refused(issuer, aws):
    browser = Browser()
    sign_in(browser, issuer)
    page = browser.call("GET", "/console")["body"]
    event_headers = {"sec-fetch-site": "cross-site"}

    response = console_handler.lambda_handler(
        http_event(
            "POST",
            "/console/signout",
            route="/console/{proxy+}",
            claims=None,
            body=urlencode({"csrf": csrf_of(page)}),
            headers={
                "host": "chorus.example.com",
                "content-type": "application/x-www-form-urlencoded",
                **event_headers,
            },
            cookies=[f"{name}={value}" for name, value in browser.jar.items()],
        ),
        FakeLambdaContext(),
    )

    assert response["statusCode"] == 403
    assert len(console_items(aws, "SESSION")) == 1


def test_an_unknown_console_page_is_a_404_page_with_the_security_headers(issuer, aws):
    response = Browser().call("GET", "/console/nope")

    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert response["headers"]["X-Frame-Options"] == "DENY"


def test_the_console_stylesheet_is_served_beside_the_pages(issuer, aws):
    response = Browser().call("GET", "/console/assets/console.css")

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/css; charset=utf-8"


def test_signing_in_again_in_the_same_browser_ends_the_previous_session(issuer, aws):
    browser = Browser()
    sign_in(browser, issuer)
    first = browser.jar["__Host-chorus-console"]

    sign_in(browser, issuer)

    [session] = console_items(aws, "SESSION")
    assert session["PK"]["S"] == f"CONSOLE#SESSION#{hashed(browser.jar['__Host-chorus-console'])}"
    assert browser.jar["__Host-chorus-console"] != first
