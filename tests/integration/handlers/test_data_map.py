"""docs/privacy.md stays true (issue 14): every attribute the stores write, on every kind of item
in the table, is listed in the data map.

The writes are found by doing what Chorus does on moto (uploads, approving, declining, publishing,
a click, scoring, hiding, redeeming, a reversal, connecting, digests, unsubscribing, a bounce, an
operator alert, Mastodon servers, erasure, a new upload of the erased address, the ledger's
retention) and scanning
what the table holds afterwards, so an attribute added to any store cannot slip past the map.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

import admin_api_handler
import digest_sender_handler
import email_feedback_handler
import publisher_handler
import retention_handler
import scoring_handler
import web_handler
from chorus import clock
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.connection import Connection, ConnectionStatus
from chorus.domain.content import Network
from chorus.domain.digest import run_week
from chorus.domain.lengths import InstanceLimits
from chorus.domain.magic_links import ME_SCOPE, activity_scope, form_subject, sign_form, sign_link
from chorus.domain.rewards import Reward
from chorus.domain.tracking import link_code
from chorus.store.alerts import AlertStore
from chorus.store.codec import from_dynamo
from chorus.store.connections import ConnectionStore, OAuthState
from chorus.store.digest_marks import DigestMarkStore
from chorus.store.rewards import RewardStore
from tests.conftest import DIGEST_QUEUE_URL, MAGIC_LINK_SECRET, TABLE
from tests.support.digest import plan_digest, sqs_record
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed
from tests.support.streams import TableStream

ROOT = Path(__file__).resolve().parents[3]
DATA_MAP = ROOT / "docs" / "privacy.md"
RING = parse_key_ring(MAGIC_LINK_SECRET)
NOW = datetime.now(UTC)
ADA = {
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "timezone": "Europe/Paris",
    "locale": "fr",
    "groups": ["engineering"],
}
BOB = {"email": "bob@example.com", "name": "Bob Other", "groups": ["sales"]}
CAMILLE = {"email": "camille@example.com", "name": "Camille"}
ENDS = str((NOW + timedelta(days=20)).date())
LYON = {"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open", "ends_at": ENDS}
PARIS = {**LYON, "id": "paris", "title": "Paris", "url": "https://example.com/paris", "campaign": "launch"}
SES_EVENTS = ROOT / "events" / "email_feedback"
BROWSER = {
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "accept-language": "fr-FR,fr;q=0.9",
}


# ---------------------------------------------------------------------------------------- the map
def data_map() -> dict[str, list[re.Pattern[str]]]:
    """Each item kind's section (``### `kind` ``, or several kinds sharing one table) and the
    attributes its table lists (first column, in backticks; ``<...>`` stands for any text, e.g.
    ``decided#<content_id>``)."""
    listed: dict[str, list[re.Pattern[str]]] = {}
    kinds: list[str] = []
    for line in DATA_MAP.read_text().splitlines():
        if line.startswith("### "):
            kinds = re.findall(r"`([a-z_]+)`", line)
            continue
        if line.startswith("## "):
            kinds = []
        if kinds and re.match(r"^\| `", line):
            for name in re.findall(r"`([^`]+)`", line.split("|")[1]):
                parts = re.split(r"(<[^>]+>)", name)
                pattern = re.compile("".join(".+" if part.startswith("<") else re.escape(part) for part in parts))
                for kind in kinds:
                    listed.setdefault(kind, []).append(pattern)
    return listed


def kind_of(item: dict[str, Any]) -> str:
    return str(item.get("entity") or item["PK"].split("#", 1)[0].lower())


# ---------------------------------------------------------------------------------------- doing it all
def web(method: str, path: str, route: str, *, query: dict[str, str] | None = None, body: dict[str, str] | None = None):
    event = http_event(
        method,
        path,
        route=route,
        claims=None,
        query=query,
        body=urlencode(body) if body is not None else None,
        headers={"content-type": "application/x-www-form-urlencoded", "host": "api.example.com"} if body else BROWSER,
        path_parameters={"code": path.removeprefix("/r/")} if route == "/r/{code}" else None,
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def admin(method: str, path: str, route: str, *, body: dict[str, Any] | None = None, **parameters: str):
    event = http_event(
        method,
        path,
        route=route,
        body=json.dumps(body) if body is not None else None,
        headers={"content-type": "application/json"} if body is not None else None,
        path_parameters=parameters or None,
    )
    answer = admin_api_handler.lambda_handler(event, FakeLambdaContext())
    assert answer["statusCode"] in {200, 201}, answer["body"]
    return json.loads(answer["body"])


def form(person: dict[str, Any], scope: str, action: str) -> str:
    return sign_form(RING, form_subject(employee_id(person["email"]), scope, action), NOW - timedelta(minutes=1))


def decide(person: dict[str, Any], external_id: str, **fields: str) -> None:
    scope = activity_scope(content_id(external_id))
    token = sign_link(RING, employee_id(person["email"]), scope, NOW + timedelta(days=2))
    action = fields.pop("action", "approve")
    body = {"form": form(person, scope, action), "action": action, "content_version": "1", **fields}
    answer = web("POST", f"/a/{token}", "/a/{token}", body=body)
    assert answer["statusCode"] == 303, answer["body"]


def me(person: dict[str, Any], action: str, **fields: str) -> dict[str, Any]:
    token = sign_link(RING, employee_id(person["email"]), ME_SCOPE, NOW + timedelta(days=2))
    body = {"form": form(person, ME_SCOPE, action), "action": action, **fields}
    return web("POST", "/me", "/me", query={"t": token}, body=body)


def tomorrow_at_ten() -> str:
    return (NOW + timedelta(days=1)).strftime("%Y-%m-%dT10:00")


@pytest.fixture
def everything_written(aws, monkeypatch) -> list[dict[str, Any]]:
    monkeypatch.setenv("MAX_POSTS_PER_DAY", "5")  # the per-day counters
    dynamodb = aws["dynamodb"]
    seed(aws, [LYON, PARIS], [ADA, BOB, CAMILLE])
    stream = TableStream(aws, TABLE)
    connections = ConnectionStore(dynamodb, TABLE)
    ada = employee_id(ADA["email"])
    # Connecting X: the flow's state, then the sealed tokens
    connections.put_state(
        OAuthState(
            state="state-1",
            employee_id=ada,
            network=Network.X,
            code_verifier="verifier",
            return_to="/me?t=x",
            redirect_uri="https://chorus.example.com/oauth/callback/x",
            instance_url=None,
            expires_at=NOW + timedelta(minutes=10),
            browser_hash="0" * 64,
        )
    )
    connections.save(
        Connection(
            employee_id=ada,
            network=Network.X,
            status=ConnectionStatus.CONNECTED,
            member_id="member-1",
            token_version=1,
            connected_at=NOW,
            expires_at=NOW + timedelta(days=60),
        ),
        b"sealed",
    )
    connections.save_mastodon_app("mastodon.example", "client", b"sealed secret", "https://chorus.example.com/cb")
    connections.save_instance_limits("mastodon.example", InstanceLimits(max_characters=500), NOW + timedelta(days=1))
    # Approving (now on the sandbox, tomorrow on X), declining, publishing, a click, scoring
    decide(ADA, "lyon", network="sandbox", text_sandbox="Mine", timezone="Europe/Paris", when="now")
    decide(ADA, "paris", network="x", text_x="On X", timezone="Europe/Paris", when="at", at=tomorrow_at_ten())
    decide(CAMILLE, "lyon", action="decline", reason="not my topic")
    decide(BOB, "paris", network="sandbox", text_sandbox="Bob's", timezone="Europe/Paris", when="now")
    for person in (ADA, BOB):
        target = {"employee_id": employee_id(person["email"]), "content_id": content_id("lyon"), "network": "sandbox"}
        publisher_handler.lambda_handler({"approval": {**target, "revision": 1}}, FakeLambdaContext())
    approval = from_dynamo(
        dynamodb.get_item(
            TableName=TABLE, Key={"PK": {"S": f"EMP#{ada}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#sandbox"}}
        )["Item"]
    )
    assert web("GET", f"/r/{link_code(approval['approval_id'])}", "/r/{code}")["statusCode"] == 302
    scoring_handler.lambda_handler(stream.event_for("ScoringFunction", "TableChanges"), FakeLambdaContext())
    # The leaderboard: hiding; the points: an admin's reversal; rewards: redeeming
    assert me(ADA, "hide")["statusCode"] == 303
    admin(
        "POST",
        "/admin/points/reversals",
        "/admin/points/reversals",
        body={"employee_id": ada, "event_id": f"approved#{approval['approval_id']}", "reason": "posted by mistake"},
    )
    RewardStore(dynamodb, TABLE).create_reward(Reward(reward_id="r-1", name="Mug", cost=1, stock=3, created_at=NOW))
    assert me(ADA, "redeem", reward="r-1", key="redeem-key-0001")["statusCode"] == 303
    # Digests: a week's run and its markers; an unsubscribe; a bounce
    # (the planner's start, its roster pages and the sender, as their triggers run them)
    plan_digest(aws["sqs"])
    while messages := aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages"):
        digest_sender_handler.lambda_handler({"Records": [sqs_record(m) for m in messages]}, FakeLambdaContext())
        for message in messages:
            aws["sqs"].delete_message(QueueUrl=DIGEST_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
    DigestMarkStore(dynamodb, TABLE).unsubscribe(employee_id(BOB["email"]), run_week(clock.now(), "Europe/Paris"))
    bounce = json.loads((SES_EVENTS / "bounce_permanent.json").read_text())
    email_feedback_handler.lambda_handler(bounce, FakeLambdaContext())
    # An operator alert
    AlertStore(dynamodb, TABLE).raise_alert(Network.LINKEDIN, "version_retired", "426 from LinkedIn", NOW)
    # Erasure, and the same address uploaded again (a new employee)
    admin(
        "POST",
        f"/admin/employees/{employee_id(BOB['email'])}/erase",
        "/admin/employees/{employee_id}/erase",
        employee_id=employee_id(BOB["email"]),
    )
    seed(aws, [], [BOB])
    # The ledger's daily retention (its progress, and the pointers it goes through)
    retention_handler.lambda_handler({}, FakeLambdaContext())
    items = [
        from_dynamo(raw) for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE) for raw in page["Items"]
    ]
    return items


# ---------------------------------------------------------------------------------------- the test
def test_every_attribute_written_on_every_kind_of_item_is_in_the_data_map(everything_written):
    listed = data_map()
    kinds = {kind_of(item) for item in everything_written}
    # The flows above reach the kinds of item that hold personal data (a test that can fail)
    assert {
        "employee",
        "approval",
        "decline",
        "connection",
        "oauth_state",
        "link",
        "click",
        "points",
        "score",
        "balance",
        "redemption",
        "redemption_key",
        "digest",
        "digest_run",
        "day_count",
        "sandbox_post",
        "operator_alert",
        "ledger_pointer",
        "retention_cursor",
        "retention_backfill",
    } <= kinds, kinds
    missing: dict[str, set[str]] = {}
    for item in everything_written:
        kind = kind_of(item)
        patterns = listed.get(kind, [])
        for attribute in item:
            if not any(pattern.fullmatch(attribute) for pattern in patterns):
                missing.setdefault(kind, set()).add(attribute)
    assert missing == {}, f"docs/privacy.md does not list these attributes (by item kind): {missing}"
