"""The employee's pages as API Gateway invokes them: consent is explicit, recorded, and exact."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

import admin_api_handler
import publisher_handler
import web_handler
from chorus import clock
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import activity_scope, form_subject, sign_form, sign_link
from tests.conftest import MAGIC_LINK_SECRET, SCHEDULE_GROUP, TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
NOW = datetime.now(UTC)
ADA = "ada@example.com"
CONTENT = {
    "id": "lyon",
    "title": "Lyon <office>",
    "url": "https://example.com/lyon",
    "text": "We opened in Lyon",
    "text_x": "Lyon is open!",
    "ends_at": str((NOW + timedelta(days=10)).date()),
}


@pytest.fixture
def world(aws):
    seed(aws, [CONTENT], [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris", "locale": "en"}])
    return aws


def token(scope: str | None = None, employee: str = ADA, expires: timedelta = timedelta(days=3)) -> str:
    return sign_link(RING, employee_id(employee), scope or activity_scope(content_id("lyon")), NOW + expires)


def aged_form(action: str, scope: str | None = None) -> str:
    """A form token as our page issued it a minute ago for ``action`` (a person read the page first)."""
    subject = form_subject(employee_id(ADA), scope or activity_scope(content_id("lyon")), action)
    return sign_form(RING, subject, NOW - timedelta(minutes=1))


def get(path: str, query: dict | None = None, method: str = "GET"):
    route = "/a/{token}" if path.startswith("/a/") else path
    event = http_event(method, path, route=route, claims=None, query=query)
    return web_handler.lambda_handler(event, FakeLambdaContext())


def post(path: str, fields: dict, query: dict | None = None, headers: dict | None = None):
    route = "/a/{token}" if path.startswith("/a/") else path
    body = urlencode(fields, doseq=True)
    event = http_event(
        "POST",
        path,
        route=route,
        claims=None,
        query=query,
        body=body,
        headers={"content-type": "application/x-www-form-urlencoded", "host": "api.example.com", **(headers or {})},
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def items(aws) -> list[dict]:
    return aws["dynamodb"].scan(TableName=TABLE)["Items"]


def schedules(aws) -> list[dict]:
    names = [s["Name"] for s in aws["scheduler"].list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]]
    return [aws["scheduler"].get_schedule(Name=name, GroupName=SCHEDULE_GROUP) for name in names]


def approval_item(aws, network: str) -> dict | None:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#{network}"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key).get("Item")


def approve(link: str, **fields):
    form = {
        "form": aged_form("approve"),
        "action": "approve",
        "content_version": "1",
        "timezone": "Europe/Paris",
        "when": "now",
        **fields,
    }
    return post(f"/a/{link}", form)


class TestActivityPage:
    def test_get_shows_the_content_escaped_and_changes_nothing(self, world):
        link = token()
        before = items(world)
        response = get(f"/a/{link}")
        assert response["statusCode"] == 200
        body = response["body"]
        assert "Lyon &lt;office&gt;" in body and "<office>" not in body
        assert "&lt;b&gt;Never&lt;/b&gt;" in body  # the sharing policy is escaped too
        assert 'name="text_x"' in body and "Lyon is open!" in body
        assert 'data-limit="256"' in body  # X: 280 minus the link
        assert items(world) == before and schedules(world) == []

    def test_security_headers(self, world):
        headers = get(f"/a/{token()}")["headers"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]

    def test_head_answers_without_body_or_side_effect(self, world):
        before = items(world)
        response = get(f"/a/{token()}", method="HEAD")
        assert response["statusCode"] == 200 and response["body"] == ""
        assert items(world) == before

    @pytest.mark.parametrize(
        ("make", "status"),
        [
            (lambda: token()[:-3] + "AAA", 403),
            (lambda: token(expires=timedelta(seconds=-1)), 410),
            (lambda: token(scope="me"), 403),
            (lambda: token(employee="stranger@example.com"), 403),
            (lambda: "not-a-token", 403),
        ],
    )
    def test_bad_links_get_a_clear_page(self, world, make, status):
        response = get(f"/a/{make()}")
        assert response["statusCode"] == status
        assert "This link cannot be used" in response["body"]
        assert response["headers"]["Cache-Control"] == "no-store"


class TestApproval:
    def test_approve_records_the_exact_text_and_schedules_once(self, world):
        link = token()
        text = "Proud of our new Lyon office!\r\nCome visit."
        response = approve(link, network=["sandbox", "x"], text_sandbox=text, text_x="Lyon 🎉", when="now")
        assert response["statusCode"] == 303 and response["headers"]["Location"] == f"/a/{link}?approved=1"
        record = approval_item(world, "sandbox")
        stored_text = record["text"]["S"]
        assert stored_text == "Proud of our new Lyon office!\nCome visit."
        assert record["text_sha256"]["S"] == hashlib.sha256(stored_text.encode()).hexdigest()
        assert record["status"]["S"] == "SCHEDULED" and record["timezone"]["S"] == "Europe/Paris"
        assert record["user_agent"]["S"] == "curl/8.5.0"
        assert approval_item(world, "x")["text"]["S"] == "Lyon 🎉"
        found = {s["Name"]: s for s in schedules(world)}
        assert len(found) == 2
        schedule = found[record["schedule_name"]["S"]]
        assert schedule["ScheduleExpression"].startswith("at(")
        assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
        assert schedule["ActionAfterCompletion"] == "DELETE"
        assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith("chorus-test-schedule-failures")
        assert json.loads(schedule["Target"]["Input"]) == {
            "approval": {
                "employee_id": employee_id(ADA),
                "content_id": content_id("lyon"),
                "network": "sandbox",
                "revision": 1,
            }
        }
        # the page now shows what will be posted, and a Cancel button
        page = get(f"/a/{link}")["body"]
        assert "Scheduled" in page and "Proud of our new Lyon office!" in page and 'value="cancel"' in page

    def test_double_submit_creates_nothing_twice(self, world):
        link = token()
        for _ in range(2):
            assert approve(link, network="sandbox", text_sandbox="Hello")["statusCode"] == 303
        assert len(schedules(world)) == 1
        assert approval_item(world, "sandbox")["revision"]["N"] == "1"

    def test_a_form_submitted_instantly_is_refused(self, world, monkeypatch):
        # The clock stands still: however slow the first request is, the form is a second old.
        signed_at = datetime.now(UTC)
        monkeypatch.setattr(clock, "_source", lambda: signed_at + timedelta(seconds=1))
        link = token()
        fresh = sign_form(
            RING, form_subject(employee_id(ADA), activity_scope(content_id("lyon")), "approve"), signed_at
        )
        response = post(
            f"/a/{link}",
            {"form": fresh, "action": "approve", "content_version": "1", "network": "sandbox", "text_sandbox": "x"},
        )
        assert response["statusCode"] == 429
        assert approval_item(world, "sandbox") is None and schedules(world) == []

    @pytest.mark.parametrize(
        "headers",
        [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site", "origin": "null"}],
    )
    def test_a_form_from_another_site_is_refused(self, world, headers):
        link = token()
        form = {
            "form": aged_form("approve"),
            "action": "approve",
            "content_version": "1",
            "network": "sandbox",
            "text_sandbox": "x",
            "when": "now",
        }
        response = post(f"/a/{link}", form, headers=headers)
        assert response["statusCode"] == 403 and approval_item(world, "sandbox") is None

    def test_our_own_form_with_a_null_origin_passes(self, world):
        """Browsers send Origin: null under Referrer-Policy no-referrer; fetch metadata says same-origin."""
        link = token()
        response = approve(link, network="sandbox", text_sandbox="x")
        assert response["statusCode"] == 303
        response = post(
            f"/a/{link}",
            {"form": aged_form("cancel"), "action": "cancel", "network": "sandbox"},
            headers={"origin": "null", "sec-fetch-site": "same-origin"},
        )
        assert response["statusCode"] == 303

    def test_too_long_text_is_refused_with_the_field(self, world):
        response = approve(token(), network="x", text_x="x" * 257)
        assert response["statusCode"] == 422
        assert "is 257 characters as x counts them; at most 256" in response["body"]
        assert approval_item(world, "x") is None and schedules(world) == []

    def test_x_counts_as_x_does_so_cjk_that_x_would_refuse_is_refused(self, world):
        # 256 code points, but X weighs CJK 2 each: 512 + 24 for the link
        response = approve(token(), network="x", text_x="漢" * 256)
        assert response["statusCode"] == 422
        assert "is 512 characters as x counts them; at most 256" in response["body"]
        assert approval_item(world, "x") is None
        assert approve(token(), network="x", text_x="漢" * 128)["statusCode"] == 303

    def test_a_time_outside_the_window_is_refused(self, world):
        late = (NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
        response = approve(
            token(),
            network="sandbox",
            text_sandbox="Hi",
            when="at",
            at=late,
        )
        assert response["statusCode"] == 422 and "after this content may be shared" in response["body"]
        assert schedules(world) == []

    def test_spread_staggers_networks(self, world):
        response = approve(token(), network=["sandbox", "linkedin"], text_sandbox="A", text_linkedin="B", when="spread")
        if response["statusCode"] == 422:  # late Friday: no working hours left this week
            assert "working hours" in response["body"]
            return
        times = sorted(s["ScheduleExpression"] for s in schedules(world))
        assert len(times) == 2 and times[0] != times[1]

    def test_cancel_deletes_the_schedule_and_allows_approving_again(self, world):
        link = token()
        approve(link, network="sandbox", text_sandbox="First")
        response = post(f"/a/{link}", {"form": aged_form("cancel"), "action": "cancel", "network": "sandbox"})
        assert response["statusCode"] == 303
        assert approval_item(world, "sandbox")["status"]["S"] == "CANCELLED"
        assert schedules(world) == []
        # approving again makes a new revision with its own schedule
        approve(link, network="sandbox", text_sandbox="Second", revision_sandbox="1")
        record = approval_item(world, "sandbox")
        assert (record["status"]["S"], record["revision"]["N"], record["text"]["S"]) == ("SCHEDULED", "2", "Second")
        assert [s["Name"] for s in schedules(world)] == [record["schedule_name"]["S"]]

    def test_decline_is_recorded_with_reason(self, world):
        link = token()
        form = {"form": aged_form("decline"), "action": "decline", "reason": "Not my topic", "content_version": "1"}
        response = post(f"/a/{link}", form)
        assert response["statusCode"] == 303
        key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"DECLINE#{content_id('lyon')}"}}
        assert world["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]["reason"]["S"] == "Not my topic"
        profile = world["dynamodb"].get_item(TableName=TABLE, Key={"PK": key["PK"], "SK": {"S": "PROFILE"}})["Item"]
        # The version declined, in the set of the month the content ends
        decided = [value["SS"] for name, value in profile.items() if name.startswith("decided_")]
        assert decided == [[f"{content_id('lyon')}:1"]]

    def test_retracted_content_cancels_its_posts_and_its_links(self, world):
        link = token()
        approve(link, network="sandbox", text_sandbox="Hello")
        event = http_event(
            "DELETE",
            f"/admin/content/{content_id('lyon')}",
            route="/admin/content/{id}",
            path_parameters={"id": content_id("lyon")},
        )
        response = admin_api_handler.lambda_handler(event, FakeLambdaContext())
        assert json.loads(response["body"])["scheduled_posts_retracted"] == 1
        assert approval_item(world, "sandbox")["status"]["S"] == "RETRACTED"
        assert schedules(world) == []
        assert get(f"/a/{link}")["statusCode"] == 410


class TestPublisher:
    def target(self, network="sandbox", revision=1):
        return {
            "approval": {
                "employee_id": employee_id(ADA),
                "content_id": content_id("lyon"),
                "network": network,
                "revision": revision,
            }
        }

    def test_publishes_the_exact_text_once(self, world):
        approve(token(), network="sandbox", text_sandbox="Exactly this")
        first = publisher_handler.lambda_handler(self.target(), FakeLambdaContext())
        second = publisher_handler.lambda_handler(self.target(), FakeLambdaContext())
        assert (first, second) == ({"outcome": "published"}, {"outcome": "skipped"})
        feed = world["dynamodb"].query(
            TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "SANDBOX#feed"}}
        )["Items"]
        assert [post["text"]["S"] for post in feed] == ["Exactly this"]
        assert approval_item(world, "sandbox")["status"]["S"] == "PUBLISHED"

    def test_cancelled_or_stale_schedules_publish_nothing(self, world):
        link = token()
        approve(link, network="sandbox", text_sandbox="Hello")
        post(f"/a/{link}", {"form": aged_form("cancel"), "action": "cancel", "network": "sandbox"})
        assert publisher_handler.lambda_handler(self.target(), FakeLambdaContext()) == {"outcome": "skipped"}
        approve(link, network="sandbox", text_sandbox="Again", revision_sandbox="1")
        assert publisher_handler.lambda_handler(self.target(revision=1), FakeLambdaContext()) == {"outcome": "skipped"}
        assert publisher_handler.lambda_handler(self.target(revision=2), FakeLambdaContext()) == {
            "outcome": "published"
        }


class TestMeAndUnsubscribe:
    def test_me_lists_pending_and_scheduled_and_cancels(self, world):
        me = token(scope="me")
        page = get("/me", query={"t": me})
        assert page["statusCode"] == 200 and "Lyon &lt;office&gt;" in page["body"]
        approve(token(), network="sandbox", text_sandbox="From me page")
        page = get("/me", query={"t": me})["body"]
        assert "From me page" in page
        form = aged_form("cancel", "me")
        response = post(
            "/me",
            {"form": form, "action": "cancel", "content": content_id("lyon"), "network": "sandbox"},
            query={"t": me},
        )
        assert response["statusCode"] == 303
        assert approval_item(world, "sandbox")["status"]["S"] == "CANCELLED"

    def test_an_activity_link_does_not_open_me(self, world):
        assert get("/me", query={"t": token()})["statusCode"] == 403

    def test_unsubscribe_get_asks_post_unsubscribes(self, world):
        link = token(scope="unsub", expires=timedelta(days=60))
        before = items(world)
        page = get("/unsubscribe", query={"t": link})
        assert page["statusCode"] == 200 and 'method="post"' in page["body"]
        assert items(world) == before
        # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no Origin and no form token
        response = post("/unsubscribe", {"List-Unsubscribe": "One-Click"}, query={"t": link})
        assert response["statusCode"] == 200
        profile = world["dynamodb"].get_item(
            TableName=TABLE, Key={"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "PROFILE"}}
        )["Item"]
        assert profile["digest_opt_in"]["BOOL"] is False


def test_assets_are_served_with_a_type(aws):
    response = get("/assets/chorus.js")
    assert response["statusCode"] == 200 and response["headers"]["Content-Type"].startswith("text/javascript")
    assert get("/assets/../secrets")["statusCode"] == 404
    assert re.search(r"textarea\[data-rule\]", response["body"])
    lengths = get("/assets/lengths.js")
    assert lengths["statusCode"] == 200 and lengths["body"].startswith("window.CHORUS_LENGTHS = {")


class TestGuardRails:
    def test_daily_limit_per_network(self, world, monkeypatch):
        monkeypatch.setenv("MAX_POSTS_PER_DAY", "1")
        seed(world, [{**CONTENT, "id": "second", "url": "https://example.com/second"}], [])
        first = token()
        second = sign_link(RING, employee_id(ADA), activity_scope(content_id("second")), NOW + timedelta(days=3))
        assert approve(first, network="sandbox", text_sandbox="One")["statusCode"] == 303
        form = aged_form("approve", activity_scope(content_id("second")))
        refused = post(
            f"/a/{second}",
            {
                "form": form,
                "action": "approve",
                "content_version": "1",
                "network": "sandbox",
                "text_sandbox": "Two",
                "when": "now",
                "timezone": "Europe/Paris",
            },
        )
        assert refused["statusCode"] == 422 and "as many posts that day" in refused["body"]
        assert len(schedules(world)) == 1
        # cancelling the first frees the day
        post(f"/a/{first}", {"form": aged_form("cancel"), "action": "cancel", "network": "sandbox"})
        again = post(
            f"/a/{second}",
            {
                "form": form,
                "action": "approve",
                "content_version": "1",
                "network": "sandbox",
                "text_sandbox": "Two",
                "when": "now",
                "timezone": "Europe/Paris",
            },
        )
        assert again["statusCode"] == 303

    def test_quiet_hours_refuse_a_chosen_time_in_them(self, world, monkeypatch):
        monkeypatch.setenv("QUIET_HOURS", "22-07")
        night = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZoneInfo("Europe/Paris")).replace(hour=23, minute=0)
        response = approve(
            token(), network="sandbox", text_sandbox="Late", when="at", at=night.strftime("%Y-%m-%dT%H:%M")
        )
        assert response["statusCode"] == 422 and "quiet hours" in response["body"]
        assert schedules(world) == []


def test_a_failed_schedule_creation_loses_nothing(world, monkeypatch):
    """The approval stands; the sweeper publishes it when its time has passed."""
    from chorus.adapters.scheduler import PostScheduler, SchedulerError

    def refuse(*_args, **_kwargs):
        raise SchedulerError("Scheduler is down")

    monkeypatch.setattr(PostScheduler, "schedule_once", refuse)
    response = approve(token(), network="sandbox", text_sandbox="Still mine")
    assert response["statusCode"] == 303
    record = approval_item(world, "sandbox")
    assert record["status"]["S"] == "SCHEDULED" and record["GSI2PK"]["S"] == "SCHEDULED"
    assert schedules(world) == []
