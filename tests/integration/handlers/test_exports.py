"""Exports hold only the personal fields their purpose needs (issue 14): the admin reports and the
leaderboard name people (to thank or reward them) by name and pseudonymous id, never by address.
(A name a spreadsheet would run as a formula never gets in: uploads refuse it, and the CSV report
quotes such cells anyway.)"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

import admin_api_handler
import reports_handler
import scoring_handler
import web_handler
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import activity_scope, form_subject, sign_form, sign_link
from tests.conftest import MAGIC_LINK_SECRET, TABLE
from tests.integration.handlers.test_points_reports import call, queued
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed
from tests.support.streams import TableStream

RING = parse_key_ring(MAGIC_LINK_SECRET)
NOW = datetime.now(UTC)
PEOPLE = [
    {"email": "ada.lovelace@example.com", "name": "Ada Lovelace"},
    {"email": "plain@example.com", "name": "Plain Person"},
]
LYON = {"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open", "points": "3"}


def approve(person: dict[str, str]) -> None:
    scope = activity_scope(content_id("lyon"))
    who = employee_id(person["email"])
    token = sign_link(RING, who, scope, NOW + timedelta(days=2))
    body = {
        "form": sign_form(RING, form_subject(who, scope, "approve"), NOW - timedelta(minutes=1)),
        "action": "approve",
        "content_version": "1",
        "network": "sandbox",
        "text_sandbox": "Shared",
        "timezone": "Europe/Paris",
        "when": "now",
    }
    event = http_event(
        "POST",
        f"/a/{token}",
        route="/a/{token}",
        claims=None,
        body=urlencode(body),
        headers={"content-type": "application/x-www-form-urlencoded", "host": "api.example.com"},
    )
    assert web_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 303


def admin_get(path: str, query: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = admin_api_handler.lambda_handler(http_event("GET", path, query=query), FakeLambdaContext())
    assert answer["statusCode"] == 200, answer["body"]
    return answer


def test_reports_and_leaderboards_name_people_without_addresses(aws):
    # Given employees who approved (and were scored)
    seed(aws, [LYON], PEOPLE)
    stream = TableStream(aws, TABLE)
    for person in PEOPLE:
        approve(person)
    assert scoring_handler.lambda_handler(stream.event_for("ScoringFunction", "TableChanges"), FakeLambdaContext())
    # When an admin exports the month's report (CSV and JSON files, produced in the background),
    # and reads the leaderboard
    status, accepted, _ = call("POST", "/admin/exports", body='{"period": "month"}')
    assert status == 202
    [message] = queued(aws)
    assert reports_handler.lambda_handler({"Records": [message]}, FakeLambdaContext()) == {"batchItemFailures": []}
    files = call("GET", accepted["location"])[1]["files"]
    exported = requests.get(files["csv"]["url"], timeout=5).content.decode()
    document = requests.get(files["json"]["url"], timeout=5).content.decode()
    board = admin_get("/admin/leaderboard", {"period": "month"})["body"]
    # Then no address is in any of them
    for text in (exported, document, board):
        assert "@example.com" not in text
    # And the people are there by name (and pseudonymous id in the JSON)
    rows = list(csv.reader(io.StringIO(exported)))
    employees = {row[1] for row in rows if row[0] == "employee"}
    assert employees == {"Ada Lovelace", "Plain Person"}
    assert {row["employee_id"] for row in json.loads(document)["employees"]} == {
        employee_id(person["email"]) for person in PEOPLE
    }
    assert sorted(row["name"] for row in json.loads(board)["ranks"]) == ["Ada Lovelace", "Plain Person"]
