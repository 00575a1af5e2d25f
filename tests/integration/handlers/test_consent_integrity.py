"""Issue 8, cases 1 and 2, through the real handlers and uploads (moto in-process).

Case 1: an approved post is a snapshot; a later upload of the same content id with another url
and title changes nothing that goes out, and /r/{code} still leads to the approved url.
Case 2: an employee deactivated by a roster upload (or the admin action) has nothing left
scheduled, no stored social tokens, and nothing published even if a schedule fires.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

import admin_api_handler
import ingest_handler
import lifecycle_handler
import publisher_handler
import web_handler
from chorus import clock
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.connection import Connection, ConnectionStatus
from chorus.domain.content import Network
from chorus.domain.digest import activities_for
from chorus.domain.employee import Employee
from chorus.domain.magic_links import (
    ME_SCOPE,
    UNSUBSCRIBE_SCOPE,
    activity_scope,
    form_subject,
    sign_form,
    sign_link,
)
from chorus.domain.timing import week_of
from chorus.domain.tracking import link_code
from chorus.store.connections import ConnectionStore
from tests.conftest import BUCKET, MAGIC_LINK_SECRET, SCHEDULE_GROUP, TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id
from tests.support.streams import TableStream

ROOT = Path(__file__).resolve().parents[3]
RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"
APPROVED_URL = "https://example.com/lyon?utm_source=chorus&ref=home"
LYON = {
    "id": "lyon",
    "title": "Our new Lyon office",
    "url": APPROVED_URL,
    "text": "We opened in Lyon",
    "image_url": "https://example.com/lyon.jpg",
}
CHANGED = {**LYON, "title": "Something else entirely", "url": "https://elsewhere.example/phish"}
ADA_ROW = {"email": ADA, "name": "Ada", "timezone": "Europe/Paris"}
S3_EVENT = json.loads((ROOT / "events/ingest/s3_content_upload.json").read_text())


# ---------------------------------------------------------------------------------------- helpers
def upload(aws: dict[str, Any], kind: str, rows: list[dict[str, Any]]) -> None:
    """An admin's upload to S3, delivered to the ingest function as S3 notifies it."""
    key = f"uploads/{kind}/{len(rows)}-{datetime.now(UTC).timestamp()}.jsonl"
    body = "\n".join(json.dumps(row) for row in rows).encode()
    version = aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
    event = copy.deepcopy(S3_EVENT)
    event["Records"][0]["s3"]["bucket"]["name"] = BUCKET
    event["Records"][0]["s3"]["object"]["key"] = key
    event["Records"][0]["s3"]["object"]["versionId"] = version
    [result] = ingest_handler.lambda_handler(event, FakeLambdaContext())
    assert result["status"] == "completed", result


def page_link() -> str:
    now = datetime.now(UTC)
    return sign_link(RING, employee_id(ADA), activity_scope(content_id("lyon")), now + timedelta(days=3))


def web(method: str, path: str, route: str, body: dict[str, Any] | None = None, query=None) -> dict[str, Any]:
    event = http_event(
        method,
        path,
        route=route,
        claims=None,
        body=urlencode(body, doseq=True) if body is not None else None,
        query=query,
        headers={"content-type": "application/x-www-form-urlencoded"} if body is not None else None,
        path_parameters={"code": path.removeprefix("/r/")} if route == "/r/{code}" else None,
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def shown_version(page: dict[str, Any]) -> str:
    match = re.search(r'name="content_version" value="(\d+)"', page["body"])
    assert match, "the approval form carries the content version it shows"
    return match.group(1)


def approve(link: str, version: str, network: str = "sandbox", **fields: str) -> dict[str, Any]:
    form = sign_form(
        RING,
        form_subject(employee_id(ADA), activity_scope(content_id("lyon")), "approve"),
        datetime.now(UTC) - timedelta(minutes=1),
    )
    body = {
        "form": form,
        "action": "approve",
        "content_version": version,
        "network": network,
        f"text_{network}": "In my own words: Lyon!",
        "timezone": "Europe/Paris",
        "when": "now",
        **fields,
    }
    return web("POST", f"/a/{link}", "/a/{token}", body)


def tomorrow_at_ten() -> str:
    paris = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZoneInfo("Europe/Paris"))
    return paris.replace(hour=10, minute=0).strftime("%Y-%m-%dT%H:%M")


def in_paris(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Europe/Paris"))


def fire(network: str, revision: int = 1, *, at: datetime | None = None) -> str:
    """What EventBridge Scheduler does when the schedule's time comes (``at``: that time, if
    it is not now)."""
    payload = {"employee_id": employee_id(ADA), "content_id": content_id("lyon"), "network": network}
    event = {"approval": {**payload, "revision": revision}}
    clock.install((lambda: at) if at is not None else None)
    try:
        return publisher_handler.lambda_handler(event, FakeLambdaContext())["outcome"]
    finally:
        clock.install(None)


def feed(aws) -> list[dict[str, Any]]:
    """What reached the sandbox network."""
    response = aws["dynamodb"].query(
        TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "SANDBOX#feed"}}
    )
    return response["Items"]


def approval(aws, network: str = "sandbox") -> dict[str, Any] | None:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#{network}"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key).get("Item")


def schedules(aws) -> list[str]:
    return [s["Name"] for s in aws["scheduler"].list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]]


def profile(aws) -> Employee:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "PROFILE"}}
    from chorus.store.codec import from_dynamo

    return Employee.model_validate(from_dynamo(aws["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]))


@pytest.fixture
def world(aws):
    upload(aws, "content", [LYON])
    upload(aws, "employees", [ADA_ROW])
    return aws


# ---------------------------------------------------------------------------------------- case 1
class TestTheApprovalIsASnapshot:
    def test_a_reupload_with_another_url_and_title_changes_nothing_that_goes_out(self, world):
        # Given Ada approved the post from the page showing version 1
        link = page_link()
        page = web("GET", f"/a/{link}", "/a/{token}")
        assert approve(link, shown_version(page))["statusCode"] == 303
        # When an admin re-uploads the same content id with another url and title
        upload(world, "content", [CHANGED])
        # And the schedule fires
        assert fire("sandbox") == "published"
        # Then the network received exactly the approved snapshot
        [post] = feed(world)
        code = link_code(approval(world)["approval_id"]["S"])
        assert post["title"]["S"] == "Our new Lyon office"
        assert post["text"]["S"] == "In my own words: Lyon!"
        assert post["link"]["S"] == f"https://chorus.example.com/r/{code}"
        # And the tracked link leads to the approved url, with its query exactly
        redirect = web("GET", f"/r/{code}", "/r/{code}")
        assert redirect["statusCode"] == 302
        assert redirect["headers"]["Location"].startswith("https://example.com/lyon?")
        assert "elsewhere.example" not in redirect["headers"]["Location"]
        assert "ref=home" in redirect["headers"]["Location"]

    def test_the_approval_records_the_snapshot_and_its_hash(self, world):
        link = page_link()
        approve(link, shown_version(web("GET", f"/a/{link}", "/a/{token}")))
        item = approval(world)
        assert item["link_url"]["S"] == APPROVED_URL
        assert item["title"]["S"] == "Our new Lyon office"
        assert item["image_url"]["S"] == "https://example.com/lyon.jpg"
        assert item["content_version"]["N"] == "1"
        assert re.fullmatch(r"[0-9a-f]{64}", item["snapshot_sha256"]["S"])
        assert re.fullmatch(r"[0-9a-f]{64}", item["text_sha256"]["S"])

    def test_a_page_showing_an_older_version_records_nothing_and_shows_the_new_one(self, world):
        # Given Ada's page shows version 1
        link = page_link()
        version = shown_version(web("GET", f"/a/{link}", "/a/{token}"))
        # When the content changes before she presses Approve
        upload(world, "content", [CHANGED])
        response = approve(link, version)
        # Then she gets a page saying so, showing the new version, and nothing is recorded
        assert response["statusCode"] == 409
        assert "this content was updated; review the new version" in response["body"]
        assert "Something else entirely" in response["body"]
        assert shown_version(response) == "2"
        assert approval(world) is None and schedules(world) == []

    @pytest.mark.parametrize("tampered", ["", "0", "2", "999", "1.0", "-1", "abc"])
    def test_a_tampered_version_records_nothing(self, world, tampered):
        link = page_link()
        response = approve(link, tampered)
        assert response["statusCode"] == 409
        assert approval(world) is None and schedules(world) == []

    def test_url_or_title_fields_added_to_the_form_record_nothing(self, world):
        link = page_link()
        version = shown_version(web("GET", f"/a/{link}", "/a/{token}"))
        extra = {"url": "https://evil.example", "title": "Evil", "link_url": "https://evil.example"}
        # Fields the page never sends make the form refused as a whole.
        assert approve(link, version, **extra)["statusCode"] == 400
        assert approval(world) is None and schedules(world) == []
        # The same approval as the page sends it takes the link and title from the stored version.
        assert approve(link, version)["statusCode"] == 303
        item = approval(world)
        assert item["link_url"]["S"] == APPROVED_URL and item["title"]["S"] == "Our new Lyon office"

    def test_the_changed_content_comes_back_to_review_and_the_page_shows_both(self, world):
        link = page_link()
        approve(link, shown_version(web("GET", f"/a/{link}", "/a/{token}")), when="at", at=tomorrow_at_ten())
        week = week_of(datetime.now(UTC), "Europe/Paris")
        from chorus.store.catalog import CatalogStore

        catalog = CatalogStore(world["dynamodb"], TABLE)
        assert activities_for(profile(world), [catalog.get_content(content_id("lyon"))], week) == []
        # When the content changes
        upload(world, "content", [CHANGED])
        # Then the next digest offers it again
        changed = catalog.get_content(content_id("lyon"))
        assert [c.content_id for c in activities_for(profile(world), [changed], week)] == [content_id("lyon")]
        # And the page shows the approved snapshot, locked and cancellable, and that it changed
        page = web("GET", f"/a/{link}", "/a/{token}")["body"]
        assert "Something else entirely" in page  # the new version, to review
        approved = page.split('data-network="sandbox"', 1)[1]
        assert "Our new Lyon office" in approved and "example.com/lyon?utm_source=chorus&amp;ref=home" in approved
        assert "data-outdated" in approved and 'value="cancel"' in approved

    def test_retraction_still_stops_an_approved_post(self, world):
        link = page_link()
        approve(link, shown_version(web("GET", f"/a/{link}", "/a/{token}")))
        event = http_event(
            "DELETE",
            f"/admin/content/{content_id('lyon')}",
            route="/admin/content/{id}",
            path_parameters={"id": content_id("lyon")},
        )
        assert admin_api_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200
        assert fire("sandbox") == "skipped"
        assert feed(world) == [] and approval(world)["status"]["S"] == "RETRACTED"


class TestApprovalsFromBeforeSnapshots:
    """Approvals already in deployed tables have text only: they go out only if the content was
    not written after the approval; otherwise they fail and the employee is asked again."""

    def legacy(self, world, approved_at: datetime) -> None:
        from chorus.domain.approval import approval_id_for, schedule_name_for, text_sha256

        approval_id = approval_id_for(employee_id(ADA), content_id("lyon"), Network.SANDBOX)
        item = {
            "PK": {"S": f"EMP#{employee_id(ADA)}"},
            "SK": {"S": f"APPROVAL#{content_id('lyon')}#sandbox"},
            "entity": {"S": "approval"},
            "approval_id": {"S": approval_id},
            "employee_id": {"S": employee_id(ADA)},
            "content_id": {"S": content_id("lyon")},
            "network": {"S": "sandbox"},
            "text": {"S": "Old words"},
            "text_sha256": {"S": text_sha256("Old words")},
            "publish_at": {"S": datetime.now(UTC).isoformat()},
            "timezone": {"S": "Europe/Paris"},
            "when": {"S": "now"},
            "status": {"S": "SCHEDULED"},
            "revision": {"N": "1"},
            "schedule_name": {"S": schedule_name_for(approval_id, 1)},
            "approved_at": {"S": approved_at.isoformat()},
        }
        world["dynamodb"].put_item(TableName=TABLE, Item=item)

    def test_unchanged_content_publishes_and_pins_the_snapshot(self, world):
        self.legacy(world, datetime.now(UTC) + timedelta(seconds=5))
        assert fire("sandbox") == "published"
        [post] = feed(world)
        assert post["title"]["S"] == "Our new Lyon office" and post["text"]["S"] == "Old words"
        assert approval(world)["link_url"]["S"] == APPROVED_URL

    def test_content_written_after_the_approval_fails_with_a_notice(self, world):
        self.legacy(world, datetime.now(UTC) - timedelta(days=1))
        assert fire("sandbox") == "failed"
        assert feed(world) == []
        item = approval(world)
        assert item["status"]["S"] == "FAILED" and "approve again" in item["failure_reason"]["S"]


# ---------------------------------------------------------------------------------------- case 2
def connect_x(aws) -> None:
    ConnectionStore(aws["dynamodb"], TABLE).save(
        Connection(
            employee_id=employee_id(ADA),
            network=Network.X,
            status=ConnectionStatus.CONNECTED,
            member_id="m",
            token_version=1,
            connected_at=datetime.now(UTC),
        ),
        b"sealed",
    )


def connection(aws) -> dict[str, Any] | None:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "CONN#x"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key).get("Item")


def deliver_deactivations(stream: TableStream) -> dict[str, Any]:
    """The lifecycle function's event source mapping: new stream records through its filter."""
    event = stream.event_for("LifecycleFunction", "Deactivations")
    response = lifecycle_handler.lambda_handler(event, FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    return event


class TestPostsDoNotOutliveEmployment:
    @pytest.fixture
    def scheduled(self, world):
        """Ada connected X and approved a sandbox post for tomorrow."""
        connect_x(world)
        link = page_link()
        version = shown_version(web("GET", f"/a/{link}", "/a/{token}"))
        assert approve(link, version, when="at", at=tomorrow_at_ten())["statusCode"] == 303
        assert len(schedules(world)) == 1
        stream = TableStream(world, TABLE)
        stream.records()  # what happened so far is not a deactivation
        return stream

    def test_a_roster_upload_with_active_no_withdraws_everything(self, world, scheduled):
        # When the roster says Ada left
        upload(world, "employees", [{**ADA_ROW, "active": "no"}])
        event = deliver_deactivations(scheduled)
        # Then the lifecycle function got exactly that change
        assert len(event["Records"]) == 1
        # And her schedule and her tokens are gone, her post cancelled
        assert schedules(world) == [] and connection(world) is None
        item = approval(world)
        assert item["status"]["S"] == "CANCELLED" and item["cancel_reason"]["S"] == "employee no longer active"
        # And nothing is published even if the schedule fires
        assert fire("sandbox") == "skipped"
        assert feed(world) == []

    def test_nothing_is_published_even_before_the_lifecycle_function_ran(self, world, scheduled):
        upload(world, "employees", [{**ADA_ROW, "active": "no"}])
        # The schedule fires before the stream is processed (or the lifecycle function failed)
        assert fire("sandbox") == "cancelled"
        assert feed(world) == [] and approval(world)["status"]["S"] == "CANCELLED"

    def test_a_redelivered_upload_after_a_crash_still_leaves_nothing_scheduled(self, world, scheduled):
        # Given ingest flipped active and crashed before anything else (S3 redelivers the upload,
        # which now sees the row unchanged)
        upload(world, "employees", [{**ADA_ROW, "active": "no"}])
        upload(world, "employees", [{**ADA_ROW, "active": "no"}])
        # Then the one stream record of the flip withdraws her
        assert len(deliver_deactivations(scheduled)["Records"]) == 1
        assert schedules(world) == [] and approval(world)["status"]["S"] == "CANCELLED"

    def test_running_twice_changes_nothing_more(self, world, scheduled):
        upload(world, "employees", [{**ADA_ROW, "active": "no"}])
        event = scheduled.event_for("LifecycleFunction", "Deactivations")
        for _ in range(2):
            assert lifecycle_handler.lambda_handler(copy.deepcopy(event), FakeLambdaContext()) == {
                "batchItemFailures": []
            }
        assert approval(world)["status"]["S"] == "CANCELLED" and schedules(world) == []

    def test_the_admin_action_deactivates_and_withdraws_once(self, world, scheduled):
        path = f"/admin/employees/{employee_id(ADA)}/deactivate"

        def deactivate() -> dict[str, Any]:
            event = http_event(
                "POST",
                path,
                route="/admin/employees/{employee_id}/deactivate",
                path_parameters={"employee_id": employee_id(ADA)},
            )
            return admin_api_handler.lambda_handler(event, FakeLambdaContext())

        first = deactivate()
        assert first["statusCode"] == 200
        assert json.loads(first["body"]) == {
            "employee_id": employee_id(ADA),
            "deactivated_now": True,
            "posts_cancelled": 1,
            "connections_deleted": 1,
        }
        assert schedules(world) == [] and connection(world) is None and not profile(world).active
        again = json.loads(deactivate()["body"])
        assert again["deactivated_now"] is False and again["posts_cancelled"] == 0
        # The flip is a stream record like any other: the lifecycle function finds nothing left
        assert len(deliver_deactivations(scheduled)["Records"]) == 1
        # And the roster stays the source of truth: listing her as active again reactivates her
        upload(world, "employees", [ADA_ROW])
        assert profile(world).active

    def test_unknown_employee_is_a_404(self, world):
        event = http_event(
            "POST",
            "/admin/employees/e-nobody/deactivate",
            route="/admin/employees/{employee_id}/deactivate",
            path_parameters={"employee_id": "e-nobody"},
        )
        assert admin_api_handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 404

    def test_a_deactivated_employee_cannot_approve(self, world):
        link = page_link()
        version = shown_version(web("GET", f"/a/{link}", "/a/{token}"))
        upload(world, "employees", [{**ADA_ROW, "active": "no"}])
        assert approve(link, version)["statusCode"] in {403, 404}
        assert approval(world) is None


class TestUnsubscribing:
    def test_unsubscribing_keeps_approved_posts_consented_and_cancellable(self, world):
        # Given Ada approved a post for tomorrow
        link = page_link()
        version = shown_version(web("GET", f"/a/{link}", "/a/{token}"))
        approve(link, version, when="at", at=tomorrow_at_ten())
        # When she unsubscribes from the digest (one-click, as her mail provider does it)
        now = datetime.now(UTC)
        token = sign_link(RING, employee_id(ADA), UNSUBSCRIBE_SCOPE, now + timedelta(days=30))
        response = web("POST", "/unsubscribe", "/unsubscribe", {"List-Unsubscribe": "One-Click"}, query={"t": token})
        assert response["statusCode"] in {200, 303}
        assert profile(world).digest_opt_in is False
        # Then her post is still scheduled, listed on /me with its Cancel button
        assert approval(world)["status"]["S"] == "SCHEDULED" and len(schedules(world)) == 1
        me = sign_link(RING, employee_id(ADA), ME_SCOPE, now + timedelta(days=30))
        page = web("GET", "/me", "/me", query={"t": me})["body"]
        assert "In my own words: Lyon!" in page and 'value="cancel"' in page
        # And it goes out when its time comes
        assert fire("sandbox", at=in_paris(tomorrow_at_ten())) == "published" and len(feed(world)) == 1
