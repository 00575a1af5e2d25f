"""Compliance review (ReviewEditedPosts) through the real handlers on moto: an employee edits and
approves on their page, the post waits (recorded, nothing scheduled), an admin approves or
rejects it in the console, the employee is emailed, and the sandbox network receives exactly the
employee's text. And every way a waiting approval is withdrawn (cancel, retraction, deactivation,
erasure, a changed content, a closed window) leaves nothing published."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from moto.ses.models import ses_backends

import admin_api_handler
from chorus import clock
from chorus.domain.magic_links import ME_SCOPE, activity_scope, form_subject, sign_form, sign_link
from tests.conftest import ACCOUNT, TABLE
from tests.integration.handlers.test_consent_integrity import (
    ADA,
    ADA_ROW,
    CHANGED,
    LYON,
    RING,
    approval,
    approve,
    feed,
    fire,
    page_link,
    schedules,
    shown_version,
    tomorrow_at_ten,
    upload,
    web,
)
from tests.integration.handlers.test_console import Browser, csrf_of, issuer, sign_in
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id

__all__ = ["issuer"]  # the fake OIDC issuer fixture, shared with the console's tests

EDITED = "In my own words: Lyon!"


@pytest.fixture
def world(aws, monkeypatch):
    monkeypatch.setenv("REVIEW_EDITED_POSTS", "true")
    upload(aws, "content", [LYON])
    upload(aws, "employees", [ADA_ROW])
    return aws


def signed_in(issuer) -> Browser:
    browser = Browser()
    sign_in(browser, issuer)
    return browser


@pytest.fixture
def reviewer(world, issuer) -> Browser:
    return signed_in(issuer)


def approved_by_ada(text: str = EDITED, **fields: str) -> dict[str, Any]:
    link = page_link()
    response = approve(link, shown_version(web("GET", f"/a/{link}", "/a/{token}")), text_sandbox=text, **fields)
    assert response["statusCode"] == 303, response.get("body")
    return response


def sent_emails() -> list[Any]:
    return [
        email.message_from_string(message.raw_data, policy=email.policy.default)
        for message in ses_backends[ACCOUNT]["eu-west-1"].sent_messages
    ]


def review_page(browser: Browser) -> str:
    response = browser.call("GET", "/console/review")
    assert response["statusCode"] == 200
    return response["body"]


def decide(browser: Browser, decision: str, *, note: str = "", csrf: str | None = None, revision: int = 1) -> dict:
    fields = {
        "csrf": csrf_of(review_page(browser)) if csrf is None else csrf,
        "employee_id": employee_id(ADA),
        "content_id": content_id("lyon"),
        "network": "sandbox",
        "revision": str(revision),
        "decision": decision,
        "note": note,
    }
    return browser.call("POST", "/console/review", body=urlencode(fields))


def status(world) -> str:
    return approval(world)["status"]["S"]


# ---------------------------------------------------------------------------------- the rule
def test_an_edited_approval_is_recorded_and_waits_unscheduled_and_a_fired_schedule_publishes_nothing(world):
    approved_by_ada()

    item = approval(world)
    assert item["status"]["S"] == "IN_REVIEW"
    assert item["text"]["S"] == EDITED and item["offered_text"]["S"] == "We opened in Lyon"
    assert item["GSI2PK"]["S"] == "REVIEW"
    assert schedules(world) == []
    # Even a schedule forged or left behind finds nothing it may publish
    assert fire("sandbox") != "published" and feed(world) == []


def test_an_unedited_approval_goes_straight_through_as_before(world):
    approved_by_ada(text="We opened in Lyon")

    assert status(world) == "SCHEDULED" and len(schedules(world)) == 1
    assert fire("sandbox") == "published"


# ---------------------------------------------------------------------------------- the console
def test_the_reviewer_approves_and_the_network_gets_exactly_the_employees_text(world, reviewer):
    approved_by_ada(text=EDITED + " <b>bold</b>")
    waiting = approval(world)

    page = review_page(reviewer)
    assert "We opened in Lyon" in page and "In my own words: Lyon! &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page
    assert "<ins>" in page and 'aria-current="page">Review' in page

    response = decide(reviewer, "approve")

    assert response["statusCode"] == 303
    assert response["headers"]["Location"] == "/console/review?done=review-approved"
    item = approval(world)
    assert item["status"]["S"] == "SCHEDULED" and item["GSI2PK"]["S"] == "SCHEDULED"
    # The snapshot is the employee's, untouched
    for name in ("text", "text_sha256", "snapshot_sha256", "link_url", "title"):
        assert item[name] == waiting[name]
    assert item["text_sha256"]["S"] == hashlib.sha256((EDITED + " <b>bold</b>").encode()).hexdigest()
    # The ledger keeps both decisions
    assert item["approved_at"] == waiting["approved_at"]
    assert item["reviewer_subject"]["S"] == "admin-1" and item["review_outcome"]["S"] == "approved"
    assert "reviewed_at" in item
    assert schedules(world) == [item["schedule_name"]["S"]]
    # The employee is told, in their language, with a link to the post
    [message] = sent_emails()
    assert ADA in message["To"] and "was approved" in message["Subject"]
    assert "https://chorus.example.com/a/" in message.get_body(("plain",)).get_content()
    # And the network receives exactly what she wrote
    assert fire("sandbox") == "published"
    [post] = feed(world)
    assert post["text"]["S"] == EDITED + " <b>bold</b>"
    assert "Nothing is waiting for review." in review_page(reviewer)


def test_a_decision_submitted_twice_acts_once(world, reviewer):
    approved_by_ada()
    csrf = csrf_of(review_page(reviewer))

    first = decide(reviewer, "approve", csrf=csrf)
    again = decide(reviewer, "approve", csrf=csrf)
    rejected_after = decide(reviewer, "reject", note="too late", csrf=csrf)

    assert first["headers"]["Location"].endswith("review-approved")
    assert again["headers"]["Location"].endswith("review-already-decided")
    assert rejected_after["headers"]["Location"].endswith("review-already-decided")
    assert status(world) == "SCHEDULED" and len(schedules(world)) == 1 and len(sent_emails()) == 1


def test_a_rejected_post_is_never_published_and_the_employee_gets_the_note(world, reviewer):
    approved_by_ada()

    response = decide(reviewer, "reject", note="Please don't name the client <Acme>.")

    assert response["headers"]["Location"].endswith("review-rejected")
    item = approval(world)
    assert item["status"]["S"] == "REJECTED" and "GSI2PK" not in item
    assert item["review_note"]["S"] == "Please don't name the client <Acme>."
    assert schedules(world) == []
    [message] = sent_emails()
    assert "was not approved" in message["Subject"]
    assert "Please don't name the client <Acme>." in message.get_body(("plain",)).get_content()
    # Approving it afterwards does nothing, and no schedule can publish it
    assert decide(reviewer, "approve")["headers"]["Location"].endswith("review-already-decided")
    assert fire("sandbox") != "published" and feed(world) == []


def test_the_consent_ledger_keeps_the_employees_approval_and_the_reviewers_decision(world, reviewer):
    # Given Ada's edited approval, rejected by the reviewer with a note
    approved_by_ada()
    decide(reviewer, "reject", note="Please don't name the client <Acme>.")
    # When the ledger is searched for the content
    page = reviewer.call("GET", "/console/consent", query={"by": "content", "q": content_id("lyon")})["body"]
    # Then it shows her exact text and hash, and the reviewer's decision, who made it and the note
    item = approval(world)
    assert item["text_sha256"]["S"] in page and "Rejected in review" in page
    assert re.search(r"Reviewed \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC by Ada Admin: rejected", page)
    assert "Please don&#39;t name the client &lt;Acme&gt;." in page


def test_a_rejection_needs_a_note_and_nothing_changes_without_one(world, reviewer):
    approved_by_ada()

    response = decide(reviewer, "reject", note="   ")

    assert response["statusCode"] == 422 and "tell the employee why" in response["body"]
    assert status(world) == "IN_REVIEW" and sent_emails() == []


@pytest.mark.parametrize("csrf", ["", "guessed"])
def test_a_decision_without_the_sessions_csrf_token_is_refused_and_nothing_changes(world, reviewer, csrf):
    approved_by_ada()

    response = decide(reviewer, "approve", csrf=csrf)

    assert response["statusCode"] == 403
    assert status(world) == "IN_REVIEW" and schedules(world) == [] and sent_emails() == []


def test_without_a_session_the_queue_and_decisions_are_refused(world):
    approved_by_ada()
    browser = Browser()

    assert browser.call("GET", "/console/review")["statusCode"] == 303
    response = decide_without_session(browser)
    assert response["statusCode"] == 401
    assert status(world) == "IN_REVIEW"


def decide_without_session(browser: Browser) -> dict[str, Any]:
    fields = {
        "csrf": "x",
        "employee_id": employee_id(ADA),
        "content_id": content_id("lyon"),
        "network": "sandbox",
        "revision": "1",
        "decision": "approve",
    }
    return browser.call("POST", "/console/review", body=urlencode(fields))


@pytest.mark.parametrize(
    ("field", "value"), [("network", "myspace"), ("decision", "edit"), ("revision", "one"), ("employee_id", "")]
)
def test_a_garbled_decision_is_a_clear_400_and_nothing_changes(world, reviewer, field, value):
    approved_by_ada()
    fields = {
        "csrf": csrf_of(review_page(reviewer)),
        "employee_id": employee_id(ADA),
        "content_id": content_id("lyon"),
        "network": "sandbox",
        "revision": "1",
        "decision": "approve",
        field: value,
    }

    response = reviewer.call("POST", "/console/review", body=urlencode(fields))

    assert response["statusCode"] == 422
    assert status(world) == "IN_REVIEW" and schedules(world) == []


def test_a_text_field_in_the_decision_is_refused_the_reviewer_cannot_change_the_text(world, reviewer):
    approved_by_ada()
    fields = {
        "csrf": csrf_of(review_page(reviewer)),
        "employee_id": employee_id(ADA),
        "content_id": content_id("lyon"),
        "network": "sandbox",
        "revision": "1",
        "decision": "approve",
        "text": "Reviewer's better words",
    }

    assert reviewer.call("POST", "/console/review", body=urlencode(fields))["statusCode"] == 400
    assert approval(world)["text"]["S"] == EDITED and status(world) == "IN_REVIEW"


def test_the_queue_is_oldest_first_and_paginated(world, reviewer, monkeypatch):
    from chorus.services import review

    others = [{"email": f"e{index}@example.com", "name": f"E{index}", "timezone": "UTC"} for index in range(3)]
    upload(world, "employees", [ADA_ROW, *others])
    approved_by_ada()
    for index, row in enumerate(others):
        clock.install(lambda index=index: datetime.now(UTC) + timedelta(seconds=index + 1))
        try:
            link = sign_link(
                RING,
                employee_id(row["email"]),
                activity_scope(content_id("lyon")),
                datetime.now(UTC) + timedelta(days=3),
            )
            form = sign_form(
                RING,
                form_subject(employee_id(row["email"]), activity_scope(content_id("lyon")), "approve"),
                datetime.now(UTC) - timedelta(minutes=1),
            )
            body = {
                "form": form,
                "action": "approve",
                "content_version": "1",
                "network": "sandbox",
                "text_sandbox": f"Edited {index}",
                "timezone": "UTC",
                "when": "now",
            }
            assert web("POST", f"/a/{link}", "/a/{token}", body)["statusCode"] == 303
        finally:
            clock.install(None)
    monkeypatch.setattr(review, "QUEUE_PAGE_SIZE", 2)

    first = review_page(reviewer)
    assert first.index(employee_id(ADA)) < first.index(employee_id("e0@example.com"))
    assert employee_id("e1@example.com") not in first
    cursor = re.search(r'href="/console/review\?next=([^"]+)"', first)
    assert cursor
    second = reviewer.call("GET", "/console/review", query={"next": unquote(cursor.group(1))})
    assert second["statusCode"] == 200
    assert employee_id("e1@example.com") in second["body"] and employee_id(ADA) not in second["body"]
    assert reviewer.call("GET", "/console/review", query={"next": "not-a-cursor"})["statusCode"] == 422


# ---------------------------------------------------------------------------------- withdrawn while waiting
def me_link() -> str:
    return sign_link(RING, employee_id(ADA), ME_SCOPE, datetime.now(UTC) + timedelta(days=3))


def test_the_employees_page_and_me_say_waiting_for_review_and_she_may_withdraw_it(world, reviewer):
    approved_by_ada()
    link = page_link()
    assert "Waiting for review" in web("GET", f"/a/{link}", "/a/{token}")["body"]
    me = me_link()
    page = web("GET", "/me", "/me", query={"t": me})["body"]
    assert "Waiting for review" in page
    # The form as /me rendered it a minute ago (a form sent at once is refused as a mail scanner's)
    form = sign_form(RING, form_subject(employee_id(ADA), ME_SCOPE, "cancel"), datetime.now(UTC) - timedelta(minutes=1))

    cancelled = web(
        "POST",
        "/me",
        "/me",
        {"form": form, "action": "cancel", "content": content_id("lyon"), "network": "sandbox"},
        query={"t": me},
    )

    assert cancelled["statusCode"] == 303
    assert status(world) == "CANCELLED" and "GSI2PK" not in approval(world)
    assert decide(reviewer, "approve")["headers"]["Location"].endswith("review-already-decided")
    assert schedules(world) == [] and fire("sandbox") != "published" and feed(world) == []


def test_retraction_while_waiting_means_never_published(world, reviewer):
    approved_by_ada()
    event = http_event(
        "DELETE",
        f"/admin/content/{content_id('lyon')}",
        route="/admin/content/{id}",
        path_parameters={"id": content_id("lyon")},
    )
    assert admin_api_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200

    assert status(world) == "RETRACTED"
    assert decide(reviewer, "approve")["headers"]["Location"].endswith("review-already-decided")
    assert schedules(world) == [] and fire("sandbox") != "published" and feed(world) == []


@pytest.mark.parametrize("action", ["deactivate", "erase"])
def test_deactivation_or_erasure_while_waiting_means_never_published(world, reviewer, action):
    approved_by_ada()
    event = http_event(
        "POST",
        f"/admin/employees/{employee_id(ADA)}/{action}",
        route=f"/admin/employees/{{employee_id}}/{action}",
        path_parameters={"employee_id": employee_id(ADA)},
    )
    assert admin_api_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200

    assert status(world) == "CANCELLED"
    assert decide(reviewer, "approve")["headers"]["Location"].endswith("review-already-decided")
    assert schedules(world) == [] and fire("sandbox") != "published" and feed(world) == []
    assert sent_emails() == []


def test_a_reupload_that_changes_the_content_lapses_the_waiting_approval_and_tells_her(world, reviewer):
    approved_by_ada()
    upload(world, "content", [CHANGED])

    response = decide(reviewer, "approve")

    assert response["headers"]["Location"].endswith("review-lapsed")
    item = approval(world)
    assert item["status"]["S"] == "CANCELLED" and item["review_outcome"]["S"] == "lapsed"
    assert schedules(world) == [] and fire("sandbox") != "published" and feed(world) == []
    [message] = sent_emails()
    assert "could not go out" in message["Subject"]
    assert "updated or withdrawn" in message.get_body(("plain",)).get_content()


def set_attribute(world, key: dict[str, Any], name: str, value: datetime) -> None:
    """Time passing without moving the clock (the console session and the issuer's tokens follow
    the real one): the stored time is moved back instead."""
    world["dynamodb"].update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET #name = :value",
        ExpressionAttributeNames={"#name": name},
        ExpressionAttributeValues={":value": {"S": value.isoformat(timespec="seconds")}},
    )


APPROVAL_KEY = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#sandbox"}}
CONTENT_KEY = {"PK": {"S": f"CONTENT#{content_id('lyon')}"}, "SK": {"S": "META"}}


def test_a_chosen_time_passed_while_waiting_goes_out_a_minute_after_the_review(world, reviewer):
    approved_by_ada(when="at", at=tomorrow_at_ten())
    set_attribute(world, APPROVAL_KEY, "publish_at", datetime.now(UTC) - timedelta(hours=2))
    before = datetime.now(UTC)

    response = decide(reviewer, "approve")

    assert response["headers"]["Location"].endswith("review-approved")
    publish_at = datetime.fromisoformat(approval(world)["publish_at"]["S"])
    assert before + timedelta(seconds=59) <= publish_at <= datetime.now(UTC) + timedelta(minutes=1)
    assert len(schedules(world)) == 1
    [message] = sent_emails()
    assert "was approved" in message["Subject"]


def test_a_review_after_the_contents_window_closed_lapses_and_nothing_is_scheduled(world, reviewer):
    approved_by_ada()
    set_attribute(world, CONTENT_KEY, "ends_at", datetime.now(UTC) - timedelta(minutes=5))

    response = decide(reviewer, "approve")

    assert response["headers"]["Location"].endswith("review-lapsed")
    assert status(world) == "CANCELLED" and schedules(world) == []
    assert fire("sandbox") != "published" and feed(world) == []
    [message] = sent_emails()
    assert "sharing period ended" in message.get_body(("plain",)).get_content()


def test_a_french_employee_is_told_in_french(world, reviewer):
    upload(world, "employees", [{**ADA_ROW, "locale": "fr-FR"}])
    approved_by_ada()

    decide(reviewer, "reject", note="Trop commercial")

    [message] = sent_emails()
    assert message["Subject"] == "Votre publication Sandbox n'a pas été validée"
    assert "Trop commercial" in message.get_body(("plain",)).get_content()


def test_with_review_off_an_edited_approval_is_scheduled_at_once(aws, monkeypatch):
    monkeypatch.setenv("REVIEW_EDITED_POSTS", "false")
    upload(aws, "content", [LYON])
    upload(aws, "employees", [ADA_ROW])

    approved_by_ada()

    assert status(aws) == "SCHEDULED" and len(schedules(aws)) == 1


def test_the_table_holds_no_review_item_other_than_the_approval(world, reviewer):
    approved_by_ada()
    decide(reviewer, "reject", note="No")
    items = world["dynamodb"].scan(TableName=TABLE)["Items"]
    assert not [item for item in items if "REVIEW" in item["PK"]["S"]]


def test_the_console_may_make_every_table_call_of_a_review(world, issuer):
    from bench.aws_calls import count_aws_calls

    from chorus import bootstrap
    from tests.support.iam import denied

    approved_by_ada()
    bootstrap.console_app.cache_clear()  # the console's clients are made inside the count
    with count_aws_calls(keep_requests=True) as calls:
        browser = signed_in(issuer)
        decide(browser, "approve")
        upload_done = approval(world)
    assert upload_done["status"]["S"] == "SCHEDULED"
    table_calls = [(op, params) for op, params in calls.requests if op.startswith("dynamodb.")]
    assert "dynamodb.TransactWriteItems" in {op for op, _ in table_calls}
    assert "dynamodb.Query" in {op for op, _ in table_calls}  # the queue
    assert denied("ConsoleFunction", table_calls) == []
