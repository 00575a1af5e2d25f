"""Malformed forms (issue 8, item 7): a form body our pages never send (a field twice, unknown or
excess fields, too large, unreadable) answers 400 with a page and records nothing, for every form:
the activity page, /me, connect, unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import web_handler
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import (
    ME_SCOPE,
    UNSUBSCRIBE_SCOPE,
    activity_scope,
    connect_scope,
    form_subject,
    sign_form,
    sign_link,
)
from chorus.web.pages import MAX_FORM_BYTES
from tests.conftest import MAGIC_LINK_SECRET, SCHEDULE_GROUP, TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"
NOW = datetime.now(UTC)
ACTIVITY = activity_scope(content_id("lyon"))
CONNECT = connect_scope(ACTIVITY)


@pytest.fixture
def world(aws):
    seed(
        aws,
        [{"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open"}],
        [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris"}],
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("https://")  # moto in-process; no provider is ever reached here
        yield aws


def token(scope: str) -> str:
    return sign_link(RING, employee_id(ADA), scope, NOW + timedelta(days=2))


def aged_form(scope: str, action: str) -> str:
    return sign_form(RING, form_subject(employee_id(ADA), scope, action), NOW - timedelta(minutes=1))


def approval(**extra: Any) -> list[tuple[str, str]]:
    return [
        ("form", aged_form(ACTIVITY, "approve")),
        ("action", "approve"),
        ("content_version", "1"),
        ("network", "sandbox"),
        ("text_sandbox", "Hello"),
        ("when", "now"),
        ("timezone", "Europe/Paris"),
        *extra.items(),
    ]


# Each form: (path, route, query) and a good body for it.
FORMS: dict[str, tuple[str, str, dict[str, str], list[tuple[str, str]]]] = {
    "approve": ("/a/{t}", "/a/{token}", {}, approval()),
    "decline": ("/a/{t}", "/a/{token}", {}, [("form", aged_form(ACTIVITY, "decline")), ("action", "decline")]),
    "me hide": ("/me", "/me", {"t": ME_SCOPE}, [("form", aged_form(ME_SCOPE, "hide")), ("action", "hide")]),
    "connect": (
        "/connect/x",
        "/connect/{network}",
        {"t": CONNECT},
        [("form", aged_form(CONNECT, "connect:x")), ("action", "connect")],
    ),
    "disconnect": (
        "/connect/x",
        "/connect/{network}",
        {"t": CONNECT},
        [("form", aged_form(CONNECT, "disconnect:x")), ("action", "disconnect")],
    ),
    "unsubscribe": ("/unsubscribe", "/unsubscribe", {"t": UNSUBSCRIBE_SCOPE}, [("List-Unsubscribe", "One-Click")]),
}


def send(
    form: str, body: str | bytes, content_type: str = "application/x-www-form-urlencoded", *, base64_body: bool = False
) -> dict[str, Any]:
    """POSTs ``body`` to the form's page with valid links: only the body can be wrong."""
    path, route, query, _ = FORMS[form]
    event = http_event(
        "POST",
        path.replace("{t}", token(ACTIVITY)),
        route=route,
        claims=None,
        query={name: token(scope) for name, scope in query.items()},
        body=body.encode() if base64_body and isinstance(body, str) else body,
        headers={"host": "chorus.example.com", "content-type": content_type},
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def snapshot(aws) -> tuple[list[dict], list[str]]:
    items = sorted(aws["dynamodb"].scan(TableName=TABLE)["Items"], key=lambda item: (item["PK"]["S"], item["SK"]["S"]))
    names = sorted(s["Name"] for s in aws["scheduler"].list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"])
    return items, names


def assert_refused(aws, before, response) -> None:
    assert response["statusCode"] == 400, response["body"][:300]
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "nothing was recorded" in response["body"]
    assert snapshot(aws) == before


def test_an_approval_with_the_same_network_twice_is_400_not_a_dynamodb_error(world):
    before = snapshot(world)
    body = urlencode([*approval(), ("network", "sandbox")])
    assert_refused(world, before, send("approve", body))


@pytest.mark.parametrize("form", list(FORMS))
def test_a_field_twice_is_refused(world, form):
    good = FORMS[form][3]
    before = snapshot(world)
    assert_refused(world, before, send(form, urlencode([*good, good[-1]])))


@pytest.mark.parametrize("form", list(FORMS))
def test_unknown_and_excess_fields_are_refused(world, form):
    good = FORMS[form][3]
    before = snapshot(world)
    assert_refused(world, before, send(form, urlencode([*good, ("admin", "yes")])))
    assert_refused(world, before, send(form, urlencode(good + [(f"f{i}", "x") for i in range(250)])))


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("base64_body", [False, True])
def test_an_oversized_body_is_refused(world, form, base64_body):
    good = FORMS[form][3]
    before = snapshot(world)
    padding = "x" * MAX_FORM_BYTES
    assert_refused(world, before, send(form, urlencode([*good[:-1], (good[-1][0], padding)]), base64_body=base64_body))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("form=%FF%FE&action=approve", "application/x-www-form-urlencoded"),  # not UTF-8
        ("form&action=approve", "application/x-www-form-urlencoded"),  # a pair without "="
        ('{"action": "approve"}', "application/json"),
        ("action=approve", "text/plain"),
        (
            "--b\r\nContent-Disposition: form-data; name=action\r\n\r\napprove\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
    ],
)
def test_unreadable_bodies_are_refused(world, body, content_type):
    before = snapshot(world)
    assert_refused(world, before, send("approve", body, content_type))


def test_invalid_base64_is_refused(world):
    before = snapshot(world)
    event_body = "not base64!!"
    path, route, _, _ = FORMS["me hide"]
    event = http_event(
        "POST",
        path,
        route=route,
        claims=None,
        query={"t": token(ME_SCOPE)},
        body="",
        headers={"host": "chorus.example.com", "content-type": "application/x-www-form-urlencoded"},
    )
    event["body"], event["isBase64Encoded"] = event_body, True
    assert_refused(world, before, web_handler.lambda_handler(event, FakeLambdaContext()))


class TestOneClickUnsubscribe:
    """RFC 8058: the POST SHOULD be multipart/form-data and MAY be urlencoded; both work."""

    PART = b'--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n'
    MULTIPART = PART + b"--XyZ--\r\n"

    def test_multipart_one_click_unsubscribes(self, world):
        response = send("unsubscribe", self.MULTIPART, "multipart/form-data; boundary=XyZ")
        assert response["statusCode"] == 200
        profile = world["dynamodb"].get_item(
            TableName=TABLE, Key={"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "PROFILE"}}
        )["Item"]
        assert profile["digest_opt_in"]["BOOL"] is False

    def test_multipart_with_a_field_twice_is_refused(self, world):
        twice = self.PART + self.PART + b"--XyZ--\r\n"
        before = snapshot(world)
        assert_refused(world, before, send("unsubscribe", twice, "multipart/form-data; boundary=XyZ"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.sampled_from(list(FORMS)), body=st.binary(max_size=600), base64_body=st.booleans())
def test_any_body_gets_an_answer_never_a_crash(world, form, body, base64_body):
    before = snapshot(world)
    path, route, query, _ = FORMS[form]
    event = http_event(
        "POST",
        path.replace("{t}", token(ACTIVITY)),
        route=route,
        claims=None,
        query={name: token(value) for name, value in query.items()},
        body=body if base64_body else body.decode("latin-1"),
        headers={"host": "chorus.example.com", "content-type": "application/x-www-form-urlencoded"},
    )
    response = web_handler.lambda_handler(event, FakeLambdaContext())
    assert response["statusCode"] in {200, 303, 400, 403, 422, 429}
    if response["statusCode"] != 200 or form != "unsubscribe":
        assert snapshot(world) == before
