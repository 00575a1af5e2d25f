"""The employee profile stays bounded: a year of decisions and points keeps it under
PROFILE_SIZE_BOUND (chorus.domain.employee), and it stops growing once a month of decisions is
behind it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.ingest_scale import moto_transactions_without_table_copies

from chorus.domain.approval import Decline
from chorus.domain.employee import OPEN_ENDED_MONTHS, PROFILE_SIZE_BOUND
from chorus.domain.scoring import Award, AwardKind
from chorus.store import keys
from chorus.store.decisions import DecisionStore
from chorus.store.scores import ScoreStore
from tests.conftest import TABLE
from tests.support.seed import content_id, employee_id, seed

FIRST_MONDAY = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
WEEKS = 52
PER_WEEK = 10  # content items a week, each shown for two weeks and decided the week it starts
# The largest uploaded fields the roster accepts (email 254, name 200), ten long groups.
EMAIL = "a" * 64 + "@" + ".".join(["x" * 63, "y" * 63, "z" * 57]) + ".com"
assert len(EMAIL) == 254
NAME = "N" * 200
GROUPS = [f"group-{n:02d}-" + "g" * 21 for n in range(10)]


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (numbers: about 1 byte per 2 digits + 1)."""

    def value_size(value: dict[str, Any]) -> int:
        ((kind, inner),) = value.items()
        if kind == "S":
            return len(inner.encode())
        if kind == "N":
            return len(inner.lstrip("-").replace(".", "")) // 2 + 2
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "SS":
            return sum(len(member.encode()) for member in inner)
        if kind == "L":
            return 3 + sum(1 + value_size(member) for member in inner)
        if kind == "M":
            return 3 + sum(len(name.encode()) + 1 + value_size(member) for name, member in inner.items())
        raise AssertionError(f"unexpected type {kind}")

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def content_rows(week: int) -> list[dict[str, Any]]:
    starts = FIRST_MONDAY + timedelta(weeks=week)
    rows = [
        {
            "id": f"w{week:02d}-{n}",
            "title": f"Week {week} item {n}",
            "url": f"https://example.com/{week}/{n}",
            "text": "Share",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(weeks=2)).isoformat(),
        }
        for n in range(PER_WEEK)
    ]
    if week % 4 == 0:  # and an evergreen item a month, without an end
        rows.append({"id": f"w{week:02d}-open"})
    return rows


def year_of_activity(decisions, scores, person, ends, aws, profile_key, sizes) -> None:
    for week in range(WEEKS):
        monday = FIRST_MONDAY + timedelta(weeks=week)
        for row in content_rows(week):
            decisions.record_decline(
                Decline(employee_id=person, content_id=content_id(row["id"]), declined_at=monday, content_version=1),
                content_ends_at=ends[row["id"]],
            )
        award = Award(event_id=f"e-{week}", kind=AwardKind.CLICK, employee_id=person, points=1, occurred_at=monday)
        scores.award(award, name=NAME, groups=[], hidden=False)  # score items are not the profile
        sizes.append(item_size(aws["dynamodb"].get_item(TableName=TABLE, Key=profile_key)["Item"]))


def test_a_year_of_decisions_and_points_keeps_the_profile_under_its_bound(aws):
    # Given the largest employee the roster accepts, and a year of content: ten items a week
    rows = [row for week in range(WEEKS) for row in content_rows(week)]
    seed(aws, [], [{"email": EMAIL, "name": NAME, "groups": GROUPS, "timezone": "America/Argentina/ComodRivadavia"}])
    for row in rows:  # active content at version 1 is all a decision checks
        aws["dynamodb"].put_item(
            TableName=TABLE,
            Item={
                "PK": {"S": keys.content_pk(content_id(row["id"]))},
                "SK": {"S": keys.META},
                "status": {"S": "active"},
                "version": {"N": "1"},
            },
        )
    decisions = DecisionStore(aws["dynamodb"], TABLE)
    scores = ScoreStore(aws["dynamodb"], TABLE)
    person = employee_id(EMAIL)
    ends = {row["id"]: datetime.fromisoformat(row["ends_at"]) if "ends_at" in row else None for row in rows}
    profile_key = {"PK": {"S": keys.employee_pk(person)}, "SK": {"S": keys.PROFILE}}
    sizes: list[int] = []
    # When, every week of the year, the employee decides on each new item and earns points
    with moto_transactions_without_table_copies() as cancelled:
        year_of_activity(decisions, scores, person, ends, aws, profile_key, sizes)
    assert cancelled == []
    # Then the profile never passed its documented bound
    assert max(sizes) <= PROFILE_SIZE_BOUND, sizes
    # And it stopped growing once the open-ended decisions roll over (half a year): the last
    # quarter peaks where the third did, give or take a month's calendar (unpruned, it would add
    # about 3 KB a quarter)
    assert max(sizes[-13:]) <= max(sizes[26:39]) + 150, sizes
    profile = aws["dynamodb"].get_item(TableName=TABLE, Key=profile_key)["Item"]
    assert not [name for name in profile if name.startswith(("impact", "decided#"))]
    assert len([name for name in profile if name.startswith("decided_")]) <= OPEN_ENDED_MONTHS + 3
    print(json.dumps({"profile_bytes_by_week": sizes, "bound": PROFILE_SIZE_BOUND}))
