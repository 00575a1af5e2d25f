"""Access (issue 14): "Download my data" on /me. GET shows the button and changes nothing; POST
with the page's form token answers one JSON file with everything held on the employee (profile,
approvals with their exact texts and snapshots, publications, points, redemptions, visits per
post, connections without tokens) and nothing of anyone else."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

import publisher_handler
import scoring_handler
import web_handler
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.connection import Connection, ConnectionStatus
from chorus.domain.content import Network
from chorus.domain.magic_links import ME_SCOPE, activity_scope, form_subject, sign_form, sign_link
from chorus.domain.tracking import link_code
from chorus.store.connections import ConnectionStore
from tests.conftest import MAGIC_LINK_SECRET, TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed
from tests.support.streams import TableStream

RING = parse_key_ring(MAGIC_LINK_SECRET)
NOW = datetime.now(UTC)
ADA = {"email": "ada.lovelace@example.com", "name": "Ada Lovelace", "timezone": "Europe/Paris", "groups": "eng"}
BOB = {"email": "bob.other@example.com", "name": "Bob Otherperson", "timezone": "Europe/Paris", "groups": "eng"}
LYON = {"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open", "points": "3"}


def link(person: dict[str, str], scope: str) -> str:
    return sign_link(RING, employee_id(person["email"]), scope, NOW + timedelta(days=2))


def form(person: dict[str, str], scope: str, action: str) -> str:
    return sign_form(RING, form_subject(employee_id(person["email"]), scope, action), NOW - timedelta(minutes=1))


def call(method: str, path: str, route: str, *, query: dict[str, str], body: dict[str, str] | None = None) -> Any:
    event = http_event(
        method,
        path,
        route=route,
        claims=None,
        query=query,
        body=urlencode(body) if body is not None else None,
        headers={"content-type": "application/x-www-form-urlencoded", "host": "api.example.com"} if body else None,
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def approve(person: dict[str, str], text: str) -> None:
    scope = activity_scope(content_id("lyon"))
    answer = call(
        "POST",
        f"/a/{link(person, scope)}",
        "/a/{token}",
        query={},
        body={
            "form": form(person, scope, "approve"),
            "action": "approve",
            "content_version": "1",
            "network": "sandbox",
            "text_sandbox": text,
            "timezone": "Europe/Paris",
            "when": "now",
        },
    )
    assert answer["statusCode"] == 303, answer["body"]


def publish(person: dict[str, str]) -> None:
    target = {"employee_id": employee_id(person["email"]), "content_id": content_id("lyon"), "network": "sandbox"}
    assert publisher_handler.lambda_handler({"approval": {**target, "revision": 1}}, FakeLambdaContext())["outcome"]


def download(person: dict[str, str]) -> dict[str, Any]:
    answer = call(
        "POST",
        "/me",
        "/me",
        query={"t": link(person, ME_SCOPE)},
        body={"form": form(person, ME_SCOPE, "download"), "action": "download"},
    )
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["headers"]["Content-Type"].startswith("application/json")
    disposition = answer["headers"]["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="chorus-my-data-\d{4}-\d{2}-\d{2}\.json"', disposition)
    document: dict[str, Any] = json.loads(answer["body"])
    return document


@pytest.fixture
def world(aws):
    seed(aws, [LYON], [ADA, BOB])
    stream = TableStream(aws, TABLE)
    for person, words in ((ADA, "Ada's own words about Lyon"), (BOB, "Bob's words about Lyon")):
        approve(person, words)
        publish(person)
    ConnectionStore(aws["dynamodb"], TABLE).save(
        Connection(
            employee_id=employee_id(ADA["email"]),
            network=Network.X,
            status=ConnectionStatus.CONNECTED,
            member_id="ada-on-x",
            token_version=1,
            connected_at=NOW,
        ),
        b"sealed-secret-tokens",
    )
    # Someone follows Ada's post; the scoring function awards the approvals, publications and click
    ada_post = aws["dynamodb"].get_item(
        TableName=TABLE,
        Key={"PK": {"S": f"EMP#{employee_id(ADA['email'])}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#sandbox"}},
    )["Item"]
    code = link_code(ada_post["approval_id"]["S"])
    redirect = http_event("GET", f"/r/{code}", route="/r/{code}", claims=None, path_parameters={"code": code})
    assert web_handler.lambda_handler(redirect, FakeLambdaContext())["statusCode"] == 302
    scored = scoring_handler.lambda_handler(stream.event_for("ScoringFunction", "TableChanges"), FakeLambdaContext())
    assert scored == {"batchItemFailures": []}
    return aws


def test_get_shows_the_button_and_changes_nothing(world):
    before = world["dynamodb"].scan(TableName=TABLE)["Items"]
    page = call("GET", "/me", "/me", query={"t": link(ADA, ME_SCOPE)})
    assert page["statusCode"] == 200
    assert 'name="action" value="download"' in page["body"] and "Download my data" in page["body"]
    assert world["dynamodb"].scan(TableName=TABLE)["Items"] == before


def test_the_download_holds_everything_on_the_employee_and_nothing_of_anyone_else(world):
    document = download(ADA)
    text = json.dumps(document, ensure_ascii=False)
    # Her profile
    assert document["employee_id"] == employee_id(ADA["email"])
    profile = document["profile"]
    assert profile["email"] == ADA["email"] and profile["name"] == ADA["name"] and profile["groups"] == ["eng"]
    assert profile["timezone"] == "Europe/Paris"
    # Her approval with the exact text, the snapshot of the company's content, and its publication
    [approval] = document["approvals"]
    assert approval["text"] == "Ada's own words about Lyon"
    assert approval["link_url"] == "https://example.com/lyon" and approval["title"] == "Lyon"
    assert approval["status"] == "PUBLISHED" and approval["external_post_id"]
    # Her points ledger, balance and scores, and the visits of her post
    assert {entry["kind"] for entry in document["points"]} == {"approved", "published"}
    assert document["balance"] == [{"balance": 13, "entity": "balance", "lifetime": 13}]
    assert {(score["period"], score["scope"]) for score in document["scores"]} >= {("ALL", "*"), ("ALL", "eng")}
    assert all(score["name"] == ADA["name"] for score in document["scores"])
    # And the visits of her post: its count, and its tracked link (where it leads)
    assert approval["clicks"] >= 0
    [tracked] = document["tracked_links"]
    assert tracked["code"] == link_code(approval["approval_id"])
    assert tracked["target"].startswith("https://example.com/lyon")
    # Her connection, without its tokens
    [connection] = document["connections"]
    assert connection["network"] == "x" and connection["member_id"] == "ada-on-x" and "tokens" not in connection
    assert "sealed-secret-tokens" not in text and "c2VhbGVkLXNlY3JldC10b2tlbnM" not in text
    # And nothing of Bob's
    assert BOB["email"] not in text and BOB["name"] not in text and "Bob's words" not in text
    assert employee_id(BOB["email"]) not in text


def test_the_download_needs_the_pages_own_form_for_it(world):
    me = link(ADA, ME_SCOPE)
    for body in (
        {"form": form(ADA, ME_SCOPE, "hide"), "action": "download"},  # a form token for another action
        {"form": form(BOB, ME_SCOPE, "download"), "action": "download"},  # Bob's form on Ada's page
        {"action": "download"},
    ):
        answer = call("POST", "/me", "/me", query={"t": me}, body=body)
        assert answer["statusCode"] in {400, 403}, body
        assert "Ada" not in answer["body"]
    # And an activity link does not open it
    activity = link(ADA, activity_scope(content_id("lyon")))
    answer = call(
        "POST",
        "/me",
        "/me",
        query={"t": activity},
        body={"form": form(ADA, activity_scope(content_id("lyon")), "download"), "action": "download"},
    )
    assert answer["statusCode"] == 403
