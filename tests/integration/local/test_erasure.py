"""Erasure on the local cloud (issue 14): after an admin erases an employee, a search of the whole
table, every stored version in the uploads bucket and every log line for their address and name
finds nothing; the pseudonymised consent ledger remains; nothing scheduled goes out; running it
again, or at the minute a post is due, neither posts nor fails; the same address uploaded again
is a new employee.

This module's cloud moves its clock ahead; it has a cloud of its own (the fixture is per module).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from boto3.dynamodb.types import TypeDeserializer

from chorus.domain.connection import Connection, ConnectionStatus
from chorus.domain.content import Network, content_id_for
from chorus.domain.employee import employee_id_for
from chorus.domain.tracking import link_code
from chorus.observability import logger as chorus_logger
from chorus.store.connections import ConnectionStore
from chorus_local import cli
from chorus_local.cloud import LocalCloud
from chorus_local.log import KeyValueFormatter
from tests.support.local_cloud import activity_link, approval_form, eventually, upload

FORM = {"content-type": "application/x-www-form-urlencoded"}
DESERIALIZE = TypeDeserializer().deserialize


# ---------------------------------------------------------------------------------------- logs
class LogLines(logging.Handler):
    """Every log line the functions and the local cloud write, formatted as they write it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self._plain = KeyValueFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        formatter = chorus_logger.registered_formatter if record.name == "chorus" else self._plain
        self.lines.append(formatter.format(record))


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    handler = LogLines()
    watched = [logging.getLogger(name) for name in ("chorus", "chorus_local", "")]
    for watched_logger in watched:
        watched_logger.addHandler(handler)
    yield handler
    for watched_logger in watched:
        watched_logger.removeHandler(handler)


# ---------------------------------------------------------------------------------------- the world
@dataclass(frozen=True)
class Person:
    email: str
    name: str

    @property
    def employee_id(self) -> str:
        return employee_id_for(self.email)

    def found_in(self, text: str) -> bool:
        folded = text.casefold()
        return self.email.casefold() in folded or self.name.casefold() in folded


def admin(cloud: LocalCloud, method: str, path: str, **kwargs: Any) -> requests.Response:
    token = requests.post(f"{cloud.api_url}/_local/token", json={}, timeout=10).json()["token"]
    return requests.request(
        method, f"{cloud.api_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=120, **kwargs
    )


def erase(cloud: LocalCloud, employee_id: str) -> dict[str, Any]:
    answer = admin(cloud, "POST", f"/admin/employees/{employee_id}/erase")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def tick(cloud: LocalCloud, to: datetime) -> None:
    answer = requests.post(f"{cloud.api_url}/_local/clock", json={"to": to.isoformat()}, timeout=120)
    assert answer.status_code == 200, answer.text


def approve(cloud: LocalCloud, person: Person, content: str, text: str, **when: str) -> dict[str, Any]:
    link = activity_link(cloud, person.employee_id, content, cloud.clock.now() + timedelta(days=2))
    body = approval_form(cloud, person.employee_id, content, network="sandbox", text_sandbox=text, **when)
    answer = requests.post(
        f"{cloud.api_url}/a/{link}", data=body, headers={**FORM, "origin": cloud.api_url}, allow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return item(cloud, f"EMP#{person.employee_id}", f"APPROVAL#{content}#sandbox")


def item(cloud: LocalCloud, pk: str, sk: str) -> dict[str, Any]:
    key = {"PK": {"S": pk}, "SK": {"S": sk}}
    found = cloud.client("dynamodb").get_item(TableName=cloud.resources["Table"], Key=key)
    return {name: DESERIALIZE(value) for name, value in found.get("Item", {}).items()}


def whole_table(cloud: LocalCloud) -> list[dict[str, Any]]:
    pages = cloud.client("dynamodb").get_paginator("scan").paginate(TableName=cloud.resources["Table"])
    return [{name: DESERIALIZE(value) for name, value in raw.items()} for page in pages for raw in page["Items"]]


def every_stored_version(cloud: LocalCloud) -> dict[str, str]:
    """Every version of every object in the uploads bucket (current, older and deleted ones)."""
    s3, bucket = cloud.client("s3"), cloud.resources["UploadsBucket"]
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            found[f"{version['Key']}@{version['VersionId']}"] = body.decode("utf-8", errors="replace")
    return found


def feed(cloud: LocalCloud) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = requests.get(f"{cloud.api_url}/_local/feed.json", timeout=30).json()["posts"]
    return posts


def schedule_names(cloud: LocalCloud) -> set[str]:
    scheduler = cloud.client("scheduler")
    group = cloud.resources["PostScheduleGroup"]
    return {schedule["Name"] for schedule in scheduler.list_schedules(GroupName=group)["Schedules"]}


def connect(cloud: LocalCloud, person: Person) -> None:
    ConnectionStore(cloud.client("dynamodb"), cloud.resources["Table"]).save(
        Connection(
            employee_id=person.employee_id,
            network=Network.X,
            status=ConnectionStatus.CONNECTED,
            member_id="member-1",
            token_version=1,
            connected_at=cloud.clock.now(),
        ),
        b"sealed tokens",
    )


def roster(cloud: LocalCloud, run: str, *people: Person) -> None:
    rows = "".join(f"{person.email},{person.name},Europe/Paris,engineering\n" for person in people)
    upload(cloud, "employees", f"{run}-{uuid.uuid4().hex[:4]}.csv", "email,name,timezone,groups\n" + rows)


def contents(cloud: LocalCloud, run: str, count: int) -> list[str]:
    ends = (cloud.clock.now() + timedelta(days=60)).date()
    rows = "".join(
        f"p{index}-{run},Post {index},https://example.com/{run}/{index},Read,{ends},3,5\n" for index in range(count)
    )
    upload(cloud, "content", f"{run}.csv", "id,title,url,text,ends_at,points,points_publish\n" + rows)
    return [content_id_for(f"p{index}-{run}", "", "") for index in range(count)]


# ---------------------------------------------------------------------------------------- tests
def test_after_erasure_nothing_names_the_employee_and_the_pseudonymised_ledger_remains(
    local_cloud: LocalCloud, log_lines: LogLines
) -> None:
    cloud = local_cloud
    run = uuid.uuid4().hex[:8]
    grace = Person(f"grace.quill-{run}@example.com", f"Grace Quillfeather {run}")
    alan = Person(f"alan-{run}@example.com", f"Alan Brightwater {run}")
    # Given Grace and Alan on the roster, and two posts to share
    roster(cloud, run, grace, alan)
    published_content, scheduled_content = contents(cloud, run, 2)
    # And this week's digest went out (to both; asked for, not left to the day of the week the
    # test runs on: a clock jump fires the digest's quarter-hour tick once, at its end)
    digest = admin(cloud, "POST", "/admin/digests")
    assert digest.status_code == 202, digest.text
    assert cloud.settle(60)
    # And Grace shared one: published, scored on the leaderboard, clicked
    published = approve(cloud, grace, published_content, f"Proud of this ({run})", when="now")
    tick(cloud, cloud.clock.now() + timedelta(hours=14))
    assert [post for post in feed(cloud) if run in post["text"]]
    assert eventually(lambda: item(cloud, f"EMP#{grace.employee_id}", f"POINTS#published#{published['approval_id']}"))
    code = link_code(str(published["approval_id"]))
    assert requests.get(f"{cloud.api_url}/r/{code}", allow_redirects=False, timeout=30).status_code == 302
    leaderboard = admin(cloud, "GET", "/admin/leaderboard", params={"period": "all"}).text
    assert grace.name in leaderboard, leaderboard  # the leaderboard (GSI3) carries her name
    # And approved the other for in two days, and connected X
    scheduled = approve(cloud, grace, scheduled_content, f"Later ({run})", when="at", at=_paris_in(cloud, days=2))
    assert scheduled["status"] == "SCHEDULED" and scheduled["schedule_name"] in schedule_names(cloud)
    connect(cloud, grace)
    # (Alan approved too: what is his stays)
    approve(cloud, alan, published_content, f"Alan's words ({run})", when="now")

    # When an admin erases Grace
    erased = erase(cloud, grace.employee_id)

    # Then her scheduled post is cancelled and its schedule deleted, her tokens deleted, her roster file gone
    assert erased["erased_now"] is True
    assert erased["posts_cancelled"] == 1 and erased["connections_deleted"] == 1
    assert erased["uploads_deleted"] == 1  # the roster file (its report names nobody: no row was refused)
    assert scheduled["schedule_name"] not in schedule_names(cloud)
    # And the whole table, the uploads bucket and the logs hold neither her address nor her name
    table = whole_table(cloud)
    assert [row for row in table if grace.found_in(json.dumps(row, default=str, ensure_ascii=False))] == []
    assert [row for row in table if "tokens" in row and row.get("employee_id") == grace.employee_id] == []
    stored = every_stored_version(cloud)
    assert [key for key, body in stored.items() if grace.found_in(body)] == []
    assert log_lines.lines and any(grace.employee_id in line and "employee erased" in line for line in log_lines.lines)
    # (nor any line of the whole story, for anyone: uploads, approvals, publishing, clicks, scoring,
    # digests, erasure)
    assert [line for line in log_lines.lines if grace.found_in(line) or alan.found_in(line)] == []
    assert any("digest batch done" in line and '"sent":2' in line for line in log_lines.lines)
    # (the search finds what is there: Alan is in the table)
    assert any(alan.found_in(json.dumps(row, default=str, ensure_ascii=False)) for row in table)
    # And the consent ledger stays, pseudonymised: who (the id), what (hashes, the company's snapshot), when
    for approval in (published, scheduled):
        kept = item(cloud, f"EMP#{grace.employee_id}", f"APPROVAL#{approval['content_id']}#sandbox")
        assert kept["employee_id"] == grace.employee_id and kept["pseudonymised_at"]
        assert kept["text_sha256"] == approval["text_sha256"] and kept["snapshot_sha256"] == approval["snapshot_sha256"]
        assert kept["approved_at"] == approval["approved_at"] and kept["text"] == ""
    # And the profile is a tombstone
    tombstone = item(cloud, f"EMP#{grace.employee_id}", "PROFILE")
    assert tombstone["active"] is False and tombstone["erased_at"]
    assert not {"email", "name", "groups", "timezone", "GSI1PK", "GSI2PK"} & set(tombstone)

    # When the scheduled time comes
    tick(cloud, cloud.clock.now() + timedelta(days=3))
    # Then nothing of hers is posted (and her sandbox post is gone from the demo feed)
    assert [post for post in feed(cloud) if run in post["text"] and "Alan" not in post["text"]] == []

    # When the erasure runs again
    again = erase(cloud, grace.employee_id)
    # Then it fails nothing and does nothing more
    assert again["erased_now"] is False and again["posts_cancelled"] == 0 and again["uploads_deleted"] == 0

    # When a later roster lists the same address
    roster(cloud, f"{run}-back", grace)
    # Then she is a new employee, with nothing of the old one
    found = admin(cloud, "POST", "/admin/employees/lookup", json={"email": grace.email})
    assert found.status_code == 200, found.text
    new_id = found.json()["employee_id"]
    assert new_id != grace.employee_id and found.json() == {"employee_id": new_id, "active": True, "erased": False}
    assert item(cloud, f"EMP#{grace.employee_id}", "PROFILE") == tombstone
    partition = cloud.client("dynamodb").query(
        TableName=cloud.resources["Table"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"EMP#{new_id}"}},
    )["Items"]
    assert [row["SK"]["S"] for row in partition] == ["PROFILE"]
    assert item(cloud, f"EMP#{new_id}", "PROFILE")["email"] == grace.email
    # And erasing the new one too, then uploading again, makes a third
    erase(cloud, new_id)
    roster(cloud, f"{run}-again", grace)
    third = admin(cloud, "POST", "/admin/employees/lookup", json={"email": grace.email}).json()["employee_id"]
    assert third not in {grace.employee_id, new_id}


def test_erasure_twice_at_once_or_with_a_post_due_that_minute_posts_nothing_and_fails_nothing(
    local_cloud: LocalCloud,
) -> None:
    cloud = local_cloud
    run = uuid.uuid4().hex[:8]
    people = [Person(f"due-{index}-{run}@example.com", f"Dora Dueminute {index} {run}") for index in range(3)]
    roster(cloud, run, *people)
    [content] = contents(cloud, run, 1)
    for person in people:
        # Given a post approved for "now" (due at the next minute)
        due = approve(cloud, person, content, f"Due now {person.employee_id} ({run})", when="now")
        publish_at = datetime.fromisoformat(str(due["publish_at"]))
        # When the clock reaches that minute while two erasures run
        results, errors = at_once(
            tick=lambda at=publish_at: tick(cloud, at + timedelta(minutes=1)),
            first=lambda who=person: erase(cloud, who.employee_id),
            second=lambda who=person: erase(cloud, who.employee_id),
        )
        # Then nothing failed, and exactly one of the erasures erased
        assert errors == [], errors
        assert sorted([results["first"]["erased_now"], results["second"]["erased_now"]]) == [False, True]
        approval = item(cloud, f"EMP#{person.employee_id}", f"APPROVAL#{content}#sandbox")
        if results["first"]["posts_in_flight"] or results["second"]["posts_in_flight"]:
            erase(cloud, person.employee_id)  # what the CLI asks for: finish what was being published
            approval = item(cloud, f"EMP#{person.employee_id}", f"APPROVAL#{content}#sandbox")
        # And the post either went out before the erasure (published by an active employee) or never
        assert approval["status"] in {"CANCELLED", "PUBLISHED"}, approval
        assert approval["pseudonymised_at"] and approval["text"] == ""
        assert due["schedule_name"] not in schedule_names(cloud)
        # And, either way, nothing of theirs is left in the demo feed or the table
        assert [post for post in feed(cloud) if person.employee_id in post["text"]] == []
        assert [row for row in whole_table(cloud) if person.found_in(json.dumps(row, default=str))] == []


def at_once(**actions: Callable[[], Any]) -> tuple[dict[str, Any], list[BaseException]]:
    """Runs the actions in threads at the same time: what each answered, and what any raised."""
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str, action: Callable[[], Any]) -> None:
        try:
            results[name] = action()
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name, action), name=name) for name, action in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results, errors


def _paris_in(cloud: LocalCloud, *, days: int) -> str:
    moment = (cloud.clock.now() + timedelta(days=days)).astimezone(ZoneInfo("Europe/Paris"))
    return moment.replace(hour=10, minute=0).strftime("%Y-%m-%dT%H:%M")


def test_the_cli_erases_by_address_and_says_when_there_is_nothing_left(
    local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = local_cloud
    run = uuid.uuid4().hex[:8]
    lin = Person(f"lin-{run}@example.com", f"Lin Cliffordson {run}")
    roster(cloud, run, lin)
    # When an operator erases her by address, twice
    assert cli.main(["erase", "--email", lin.email, "--api-url", cloud.api_url]) == 0
    assert cli.main(["erase", "--email", lin.email, "--api-url", cloud.api_url]) == 0
    # Then the first run erased her and the second found her erased; neither printed her address
    first, second = capsys.readouterr().out.strip().splitlines()
    assert first.startswith(f"{lin.employee_id}: erased;") and "1 roster files deleted" in first
    assert second.startswith(f"{lin.employee_id}: already erased;")
    assert not lin.found_in(first + second)
    assert item(cloud, f"EMP#{lin.employee_id}", "PROFILE")["erased_at"]
    # And an address nobody has is an error, not a guess
    assert cli.main(["erase", "--email", f"nobody-{run}@example.com", "--api-url", cloud.api_url]) == 1
