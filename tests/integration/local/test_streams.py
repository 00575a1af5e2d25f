"""Stream records keep reaching their functions after moto rolls a cancelled transaction back.

moto cancels a transaction by putting a copy of the table in place of the one it wrote to; a
poller that kept reading the first table's stream would never see another record. These tests
cancel a transaction first, then expect every later record delivered once.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests
from boto3.dynamodb.types import TypeDeserializer

from chorus.domain.content import content_id_for
from chorus.domain.employee import employee_id_for
from chorus_local.cli import EXIT_DEGRADED, main
from chorus_local.cloud import LocalCloud
from chorus_local.streams import StreamMapping, StreamPoller
from tests.support.local_cloud import activity_link, approval_form, eventually, upload


def _cancel_a_transaction(cloud: LocalCloud) -> None:
    """What a double-tapped Approve does to the table: a transaction whose condition fails."""
    table = cloud.resources["Table"]
    client = cloud.client("dynamodb")
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"PK": {"S": "T#1"}, "SK": {"S": "A"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"PK": {"S": "T#missing"}, "SK": {"S": "X"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )


def test_records_after_a_cancelled_transaction_reach_the_function(local_cloud: LocalCloud) -> None:
    # Given the scoring function's stream mapping, with the function replaced by a recorder
    seen: list[dict[str, Any]] = []
    local_cloud.override_handler("ScoringFunction", lambda event, _context: seen.extend(event["Records"]))
    table = local_cloud.resources["Table"]
    client = local_cloud.client("dynamodb")
    marker = uuid.uuid4().hex

    def approval(number: int) -> dict[str, Any]:
        return {
            "PK": {"S": f"EMP#{marker}"},
            "SK": {"S": f"APPROVAL#c{number}#x"},
            "entity": {"S": "approval"},
        }

    problems_before = local_cloud.problems.total
    client.put_item(TableName=table, Item=approval(1))
    assert eventually(lambda: len([r for r in seen if marker in json.dumps(r)]) == 1)
    # When a transaction is cancelled, then two more approvals are written
    _cancel_a_transaction(local_cloud)
    client.put_item(TableName=table, Item=approval(2))
    client.put_item(TableName=table, Item=approval(3))
    # Then both reach the function, once each, and nothing of the cancelled transaction does
    mine = eventually(lambda: [r for r in seen if marker in json.dumps(r)] if len(seen) >= 3 else [])
    time.sleep(0.5)  # a few more polls: nothing arrives twice
    mine = [r for r in seen if marker in json.dumps(r)]
    assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in mine] == ["APPROVAL#c1#x", "APPROVAL#c2#x", "APPROVAL#c3#x"]
    assert not [r for r in seen if r["dynamodb"]["Keys"]["PK"]["S"] == "T#1"]
    assert local_cloud.problems.total == problems_before


def test_a_double_tapped_approve_is_still_scored_when_published(local_cloud: LocalCloud) -> None:
    # Given an employee and a content item worth points to approve and to publish
    run = uuid.uuid4().hex[:8]
    email = f"double-{run}@example.com"
    upload(local_cloud, "employees", f"{run}.csv", f"email,name,timezone\n{email},Dee,Europe/Paris\n")
    upload(
        local_cloud,
        "content",
        f"{run}.csv",
        f"id,title,url,text,points,points_publish\nd-{run},Double,https://example.com/{run},Share me,10,7\n",
    )
    employee, content = employee_id_for(email), content_id_for(f"d-{run}", "", "")
    problems_before = local_cloud.problems.total
    token = activity_link(local_cloud, employee, content, local_cloud.clock.now() + timedelta(days=2))
    body = approval_form(
        local_cloud, employee, content, network="sandbox", text_sandbox=f"Approved twice ({run})", when="now"
    )
    headers = {"content-type": "application/x-www-form-urlencoded", "origin": local_cloud.api_url}
    # When the employee presses Approve twice quickly (the second is refused: already decided)
    for _ in range(2):
        answer = requests.post(
            f"{local_cloud.api_url}/a/{token}", data=body, headers=headers, allow_redirects=False, timeout=30
        )
        assert answer.status_code == 303, answer.text
    # And the clock passes the publication time (past any quiet hours)
    local_cloud.scheduler.tick_to(local_cloud.clock.now() + timedelta(hours=12))
    # Then the approval and the publication are both scored, once
    table = local_cloud.resources["Table"]
    client = local_cloud.client("dynamodb")
    deserialize = TypeDeserializer().deserialize

    def ledger() -> list[int]:
        items = client.query(
            TableName=table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :points)",
            ExpressionAttributeValues={":pk": {"S": f"EMP#{employee}"}, ":points": {"S": "POINTS#"}},
        )["Items"]
        return sorted(int(deserialize(item["points"])) for item in items)

    assert eventually(lambda: ledger() == [7, 10]), ledger()
    assert local_cloud.problems.total == problems_before


def _mapping(cloud: LocalCloud, stream_arn: str) -> StreamMapping:
    return StreamMapping(
        function=cloud.functions["ScoringFunction"],
        stream_arn=stream_arn,
        starting_position="LATEST",
        batch_size=10,
        patterns=[],
        report_failures=False,
        max_retries=0,
        on_failure=None,
    )


def test_poller_errors_show_in_health_and_status(local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a poller whose function fails on every record, and one whose table is gone
    failing = _mapping(local_cloud, local_cloud.stack.get_att("Table", "StreamArn"))
    gone = _mapping(local_cloud, failing.stream_arn.replace(local_cloud.resources["Table"], "no-such-table"))

    def broken(_event: Any, _context: Any) -> None:
        raise RuntimeError("boom")

    local_cloud.override_handler("ScoringFunction", broken)
    poller = StreamPoller(
        local_cloud.runtime,
        local_cloud.client,
        local_cloud.streams,
        [failing],
        local_cloud.stack.region,
        problems=local_cloud.problems,
    )
    poller.open(failing)
    poller.mappings.append(gone)
    # When a record arrives and the poller polls
    local_cloud.client("dynamodb").put_item(
        TableName=local_cloud.resources["Table"], Item={"PK": {"S": f"P#{uuid.uuid4().hex}"}, "SK": {"S": "x"}}
    )
    poller.poll_all()
    # Then /_local/health says what went wrong, for which function
    health = requests.get(f"{local_cloud.api_url}/_local/health", timeout=10).json()
    assert health["status"] == "degraded"
    latest = health["problems"][-2:]
    assert [problem["source"] for problem in latest] == ["stream poller", "stream poller"]
    assert latest[0]["error"] == "1 record(s) given up on after 1 attempt(s), no OnFailure destination"
    assert latest[0]["function"] == local_cloud.functions["ScoringFunction"].name
    assert latest[1]["error"].startswith("ResourceNotFoundException")
    # And so does `chorus local status`, with its own exit code
    capsys.readouterr()
    assert main(["local", "status", "--api-url", local_cloud.api_url]) == EXIT_DEGRADED
    printed = capsys.readouterr().out
    assert "PROBLEMS" in printed and "given up on after 1 attempt(s)" in printed
