"""Every token does one job (issue 8, item 3): a link opens only the pages of its purpose.

The unsubscribe link travels in a mail header that providers' machines handle; it must not open
/connect, disconnect, /me (hide, redeem, cancel) or an activity page. Each request below carries a
form token that is valid for the token's own page and the action, so the purpose is the only
reason for a refusal: a 403 page, and nothing recorded.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses

import web_handler
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import (
    ME_SCOPE,
    UNSUBSCRIBE_SCOPE,
    LinkClaims,
    Purpose,
    ShownPosts,
    activity_scope,
    connect_scope,
    form_subject,
    sign_form,
    sign_link,
    verify_link,
)
from tests.conftest import MAGIC_LINK_SECRET, SCHEDULE_GROUP, TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"
NOW = datetime.now(UTC)
SCOPES = {
    Purpose.ACTIVITY: activity_scope(content_id("lyon")),
    Purpose.ME: ME_SCOPE,
    Purpose.UNSUBSCRIBE: UNSUBSCRIBE_SCOPE,
    Purpose.CONNECT: connect_scope(activity_scope(content_id("lyon"))),
    # A Slack "Post as shown" button: it approves only through the Slack actions function.
    Purpose.SLACK_APPROVE: ShownPosts(content_id("lyon"), 1, {"sandbox": "0" * 64}).scope(),
}


@pytest.fixture
def world(aws):
    seed(
        aws,
        [{"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open"}],
        [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris"}],
    )
    # A post already approved, so a cancel or a disconnect would have something to change.
    token = sign_link(RING, employee_id(ADA), SCOPES[Purpose.ACTIVITY], NOW + timedelta(days=2))
    approved = call(
        "POST",
        f"/a/{token}",
        fields={
            "form": aged_form(Purpose.ACTIVITY, "approve"),
            "action": "approve",
            "content_version": "1",
            "network": "sandbox",
            "text_sandbox": "Hello",
            "when": "now",
            "timezone": "Europe/Paris",
        },
    )
    assert approved["statusCode"] == 303
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("https://")  # moto in-process; no provider is ever reached here
        yield aws


def link(purpose: Purpose) -> str:
    lifetime = timedelta(days=60) if purpose is Purpose.UNSUBSCRIBE else timedelta(days=2)
    return sign_link(RING, employee_id(ADA), SCOPES[purpose], NOW + lifetime)


def aged_form(purpose: Purpose, action: str) -> str:
    """A valid form token for the token's own page and ``action``, issued a minute ago."""
    return sign_form(RING, form_subject(employee_id(ADA), SCOPES[purpose], action), NOW - timedelta(minutes=1))


def call(method: str, path: str, *, query: dict | None = None, fields: dict | None = None) -> dict[str, Any]:
    route = "/a/{token}" if path.startswith("/a/") else "/connect/{network}" if path.startswith("/connect/") else path
    headers = {"host": "chorus.example.com"}
    body = None
    if fields is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        body = urlencode(fields)
    event = http_event(method, path, route=route, claims=None, query=query, body=body, headers=headers)
    return web_handler.lambda_handler(event, FakeLambdaContext())


Request = Callable[[Purpose], dict[str, Any]]
ENDPOINTS: dict[str, tuple[Purpose, Request]] = {
    "GET /a/{token}": (Purpose.ACTIVITY, lambda p: call("GET", f"/a/{link(p)}")),
    "POST /a/{token} decline": (
        Purpose.ACTIVITY,
        lambda p: call(
            "POST",
            f"/a/{link(p)}",
            fields={"form": aged_form(p, "decline"), "action": "decline", "content_version": "1"},
        ),
    ),
    "POST /a/{token} cancel": (
        Purpose.ACTIVITY,
        lambda p: call(
            "POST", f"/a/{link(p)}", fields={"form": aged_form(p, "cancel"), "action": "cancel", "network": "sandbox"}
        ),
    ),
    "GET /me": (Purpose.ME, lambda p: call("GET", "/me", query={"t": link(p)})),
    "POST /me hide": (
        Purpose.ME,
        lambda p: call("POST", "/me", query={"t": link(p)}, fields={"form": aged_form(p, "hide"), "action": "hide"}),
    ),
    "POST /me redeem": (
        Purpose.ME,
        lambda p: call(
            "POST",
            "/me",
            query={"t": link(p)},
            fields={"form": aged_form(p, "redeem"), "action": "redeem", "reward": "r-1", "key": "k" * 22},
        ),
    ),
    "POST /me cancel": (
        Purpose.ME,
        lambda p: call(
            "POST",
            "/me",
            query={"t": link(p)},
            fields={
                "form": aged_form(p, "cancel"),
                "action": "cancel",
                "content": content_id("lyon"),
                "network": "sandbox",
            },
        ),
    ),
    "GET /connect/x": (Purpose.CONNECT, lambda p: call("GET", "/connect/x", query={"t": link(p)})),
    "POST /connect/x connect": (
        Purpose.CONNECT,
        lambda p: call(
            "POST", "/connect/x", query={"t": link(p)}, fields={"form": aged_form(p, "connect:x"), "action": "connect"}
        ),
    ),
    "POST /connect/sandbox disconnect": (
        Purpose.CONNECT,
        lambda p: call(
            "POST",
            "/connect/x",
            query={"t": link(p)},
            fields={"form": aged_form(p, "disconnect:x"), "action": "disconnect"},
        ),
    ),
    "GET /unsubscribe": (Purpose.UNSUBSCRIBE, lambda p: call("GET", "/unsubscribe", query={"t": link(p)})),
    "POST /unsubscribe": (
        Purpose.UNSUBSCRIBE,
        lambda p: call("POST", "/unsubscribe", query={"t": link(p)}, fields={"List-Unsubscribe": "One-Click"}),
    ),
}
REFUSED = [
    pytest.param(name, purpose, id=f"{purpose.value} on {name}")
    for name, (accepted, _) in ENDPOINTS.items()
    for purpose in Purpose
    if purpose is not accepted
]


def snapshot(aws) -> tuple[list[dict], list[str]]:
    items = sorted(aws["dynamodb"].scan(TableName=TABLE)["Items"], key=lambda item: (item["PK"]["S"], item["SK"]["S"]))
    names = sorted(s["Name"] for s in aws["scheduler"].list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"])
    return items, names


@pytest.mark.parametrize(("endpoint", "purpose"), REFUSED)
def test_a_token_is_refused_outside_its_purpose_and_records_nothing(world, endpoint, purpose):
    before = snapshot(world)
    response = ENDPOINTS[endpoint][1](purpose)
    assert response["statusCode"] == 403
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "meant for another page" in response["body"]
    assert snapshot(world) == before


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_each_page_still_accepts_its_own_purpose(world, endpoint):
    purpose, request = ENDPOINTS[endpoint]
    assert request(purpose)["statusCode"] in {200, 303, 404}  # 404: the reward r-1 does not exist


def test_the_unsubscribe_token_only_unsubscribes(world):
    unsubscribe = link(Purpose.UNSUBSCRIBE)
    response = call("POST", "/unsubscribe", query={"t": unsubscribe}, fields={"List-Unsubscribe": "One-Click"})
    assert response["statusCode"] == 200
    profile = world["dynamodb"].get_item(
        TableName=TABLE, Key={"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "PROFILE"}}
    )["Item"]
    assert profile["digest_opt_in"]["BOOL"] is False


def claims_of(token: str) -> LinkClaims:
    return verify_link(RING, token, NOW, frozenset(Purpose))


@pytest.mark.parametrize(("page", "origin"), [("activity", Purpose.ACTIVITY), ("me", Purpose.ME)])
def test_pages_mint_connect_links_that_lead_back_to_them(world, page, origin):
    token = link(origin)
    response = call("GET", f"/a/{token}") if page == "activity" else call("GET", "/me", query={"t": token})
    found = re.search(r'href="(/connect/x\?t=[^"]+)"', response["body"])
    assert found, f"the {page} page shows no connect link"
    connect = parse_qs(urlsplit(html.unescape(found.group(1))).query)["t"][0]
    claims = claims_of(connect)
    assert claims.purpose is Purpose.CONNECT
    assert claims.expires_at == claims_of(token).expires_at  # lives as long as the page's own link
    assert len(connect) <= len(token)
    # the connect page's way back is the page it was minted on
    back = re.search(r'<a href="([^"]+)">', call("GET", "/connect/x", query={"t": connect})["body"])
    assert back
    target = html.unescape(back.group(1))
    back_token = target.removeprefix("/a/") if page == "activity" else parse_qs(urlsplit(target).query)["t"][0]
    assert claims_of(back_token).scope == claims_of(token).scope
