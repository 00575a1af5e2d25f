"""DynamoDB access for points: the ledger, scores, leaderboards, balances and report counters.

An award is one TransactWriteItems: the ledger entry keyed by the award's source event
(conditional: exactly once), ADD to the employee's scores (month, quarter, all time; overall and
per group), ADD to the balance, ADD to the campaign and group counters the reports read. A
leaderboard is the sparse index GSI3 (partition ``LB#<period>#<scope>``, sort key ``score``):
its top k is one Query whatever the number of employees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.content import Content
from chorus.domain.employee import Employee
from chorus.domain.scoring import OVERALL, Award, AwardKind, Context, Period, period_keys, week_key
from chorus.errors import NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.reads import batch_get
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class _Refusal(Enum):
    """What an award's refused condition means."""

    ALREADY_AWARDED = "already awarded"  # the ledger entry of this event exists
    CLICK_CAP = "click cap"  # the post reached its click cap


# A week's impact item outlives the week after it, when the digest shows it, then TTL removes it.
IMPACT_LIFETIME = timedelta(days=28)
_COUNTERS = {AwardKind.APPROVED: "approvals", AwardKind.PUBLISHED: "publications", AwardKind.CLICK: "clicks"}


@dataclass(frozen=True)
class Ranked:
    rank: int
    employee_id: str
    name: str
    score: int


@dataclass(frozen=True)
class Standing:
    score: int
    rank: int | None
    above: list[Ranked]
    below: list[Ranked]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class ScoreStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ------------------------------------------------------------------ awards
    def award(self, award: Award, *, name: str, groups: list[str], hidden: bool, click_cap: int | None = None) -> bool:
        """Records the award once; False if this event was already awarded (a retried batch)."""
        pk = keys.employee_pk(award.employee_id)
        actions: list[Guarded[_Refusal]] = [
            Guarded(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_dynamo(
                            {
                                "PK": pk,
                                "SK": keys.points_sk(award.event_id),
                                "entity": "points",
                                "event_id": award.event_id,
                                "kind": award.kind.value,
                                "points": award.points,
                                "reason": award.reason,
                                "content_id": award.content_id,
                                "network": award.network,
                                "campaign": award.campaign,
                                "awarded_at": _iso(award.occurred_at),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                _Refusal.ALREADY_AWARDED,
            ),
            Guarded(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_dynamo({"PK": pk, "SK": keys.BALANCE}),
                        "UpdateExpression": "ADD balance :points, lifetime :earned SET entity = :entity",
                        "ExpressionAttributeValues": to_dynamo(
                            {":points": award.points, ":earned": max(award.points, 0), ":entity": "balance"}
                        ),
                    }
                }
            ),
        ]
        counter = _COUNTERS.get(award.kind)
        periods = period_keys(award.occurred_at)
        for period_key in periods.values():
            for scope in (OVERALL, *groups):
                actions.append(
                    Guarded(self._score_update(award, period_key, scope, name=name, hidden=hidden, counter=counter))
                )
        for period in (Period.MONTH, Period.ALL):
            for stats_key in (f"CAMPAIGN#{award.campaign}", *(f"GROUP#{group}" for group in groups)):
                actions.append(Guarded(self._stats_update(periods[period], stats_key, award, counter)))
        actions.append(Guarded(self._weekly_impact(award)))
        if award.kind is AwardKind.CLICK and award.content_id and award.network:
            actions.append(Guarded(self._count_click(award, click_cap), _Refusal.CLICK_CAP))
        try:
            write_transaction(self._client, actions, failure="could not award points")
        except TransactionRefused as refused:
            if refused.refused(_Refusal.ALREADY_AWARDED):
                return False  # already awarded
            if refused.refused(_Refusal.CLICK_CAP):
                # The post reached its click cap: the click is counted for impact, without points.
                self._count_click_without_points(award)
                return False
            raise StoreError(f"could not award points ({', '.join(refused.codes)})") from refused
        return True

    def _score_update(
        self, award: Award, period_key: str, scope: str, *, name: str, hidden: bool, counter: str | None
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":points": award.points,
            # Microseconds: ties are broken by who reached the score first.
            ":at": award.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            ":employee": award.employee_id,
            ":name": name,
            ":period": period_key,
            ":scope": scope,
            ":entity": "score",
        }
        expression = (
            "ADD score :points SET reached_at = :at, employee_id = :employee, #name = :name, "
            "period = :period, #scope = :scope, entity = :entity"
        )
        if counter:
            expression = expression.replace("ADD score :points", f"ADD score :points, {counter} :one")
            values[":one"] = 1
        if hidden:
            expression += " REMOVE GSI3PK"
        else:
            expression += ", GSI3PK = :board"
            values[":board"] = keys.leaderboard_pk(period_key, scope)
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(award.employee_id), "SK": keys.score_sk(period_key, scope)}),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": {"#name": "name", "#scope": "scope"},
                "ExpressionAttributeValues": to_dynamo(values),
            }
        }

    def _weekly_impact(self, award: Award) -> dict[str, Any]:
        """Points and visits of the week, in an item of their own beside the profile (the profile
        stays bounded): the digest reads last week's, then TTL removes it."""
        week = week_key(award.occurred_at)
        clicks = 1 if award.kind is AwardKind.CLICK else 0
        expires_at = award.occurred_at + IMPACT_LIFETIME
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(award.employee_id), "SK": keys.impact_sk(week)}),
                "UpdateExpression": "ADD points :points, clicks :clicks SET entity = :entity, expires_at = :expires",
                "ExpressionAttributeValues": to_dynamo(
                    {
                        ":points": award.points,
                        ":clicks": clicks,
                        ":entity": "impact",
                        ":expires": int(expires_at.timestamp()),
                    }
                ),
            }
        }

    def _stats_update(self, period_key: str, stats_key: str, award: Award, counter: str | None) -> dict[str, Any]:
        expression = "ADD points :points" + (f", {counter} :one" if counter else "") + " SET entity = :entity"
        values: dict[str, Any] = {":points": award.points, ":entity": "stats"}
        if counter:
            values[":one"] = 1
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.stats_pk(period_key), "SK": stats_key}),
                "UpdateExpression": expression,
                "ExpressionAttributeValues": to_dynamo(values),
            }
        }

    def _count_click(self, award: Award, click_cap: int | None) -> dict[str, Any]:
        assert award.content_id and award.network
        values: dict[str, Any] = {":one": 1, ":zero": 0}
        condition = None
        if click_cap is not None:
            condition = "attribute_not_exists(awarded_clicks) OR awarded_clicks < :cap"
            values[":cap"] = click_cap
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_dynamo(
                {"PK": keys.employee_pk(award.employee_id), "SK": keys.approval_sk(award.content_id, award.network)}
            ),
            "UpdateExpression": "ADD clicks :one, awarded_clicks :one",
            "ExpressionAttributeValues": to_dynamo({key: value for key, value in values.items() if key != ":zero"}),
        }
        if condition:
            update["ConditionExpression"] = condition
        return {"Update": update}

    def _count_click_without_points(self, award: Award) -> None:
        assert award.content_id and award.network
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(
                    {"PK": keys.employee_pk(award.employee_id), "SK": keys.approval_sk(award.content_id, award.network)}
                ),
                UpdateExpression="ADD clicks :one",
                ExpressionAttributeValues=to_dynamo({":one": 1}),
            )
        except ClientError as exc:
            raise StoreError("could not count the click") from exc

    def ledger_entry(self, employee_id: str, event_id: str) -> dict[str, Any]:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.points_sk(event_id)}),
            )
        except ClientError as exc:
            raise StoreError("could not read the ledger") from exc
        if "Item" not in response:
            raise NotFound("no such award")
        return from_dynamo(response["Item"])

    # ------------------------------------------------------------------ leaderboards
    def top(self, period_key: str, scope: str, k: int) -> list[Ranked]:
        """Top k, ties broken by who reached the score first, then by id. One Query; a second
        page only when ties straddle the k-th place."""
        rows: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :board",
            "ExpressionAttributeValues": to_dynamo({":board": keys.leaderboard_pk(period_key, scope)}),
            "ScanIndexForward": False,
            "Limit": k + 1,
        }
        while True:
            response = self._query(request)
            rows.extend(from_dynamo(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            boundary_tied = len(rows) > k and rows[-1]["score"] == rows[k - 1]["score"] if k else False
            if not last or (len(rows) > k and not boundary_tied):
                break
            request["ExclusiveStartKey"] = last
        rows.sort(key=lambda row: (-int(row["score"]), str(row.get("reached_at", "")), str(row["employee_id"])))
        return [
            Ranked(
                rank=index + 1,
                employee_id=str(row["employee_id"]),
                name=str(row.get("name", "")),
                score=int(row["score"]),
            )
            for index, row in enumerate(rows[:k])
        ]

    def standing(self, employee_id: str, period_key: str, scope: str, nearby: int = 2) -> Standing:
        """The employee's score, rank and neighbours on one board (rank None when hidden or 0)."""
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.score_sk(period_key, scope)}),
            )
        except ClientError as exc:
            raise StoreError("could not read the score") from exc
        item = from_dynamo(response["Item"]) if "Item" in response else None
        if item is None or "GSI3PK" not in item:
            return Standing(score=int(item["score"]) if item else 0, rank=None, above=[], below=[])
        score = int(item["score"])
        board = keys.leaderboard_pk(period_key, scope)
        higher = self._query(
            {
                "TableName": self._table,
                "IndexName": "GSI3",
                "KeyConditionExpression": "GSI3PK = :board AND score > :score",
                "ExpressionAttributeValues": to_dynamo({":board": board, ":score": score}),
                "Select": "COUNT",
            }
        )
        rank = int(higher.get("Count", 0)) + 1
        above = self._neighbours(board, score, above=True, limit=nearby)
        below = self._neighbours(board, score, above=False, limit=nearby + 1)
        below = [row for row in below if row.employee_id != employee_id][:nearby]
        return Standing(
            score=score,
            rank=rank,
            above=[
                Ranked(rank - len(above) + index, row.employee_id, row.name, row.score)
                for index, row in enumerate(above)
            ],
            below=[Ranked(rank + index + 1, row.employee_id, row.name, row.score) for index, row in enumerate(below)],
        )

    def _neighbours(self, board: str, score: int, *, above: bool, limit: int) -> list[Ranked]:
        response = self._query(
            {
                "TableName": self._table,
                "IndexName": "GSI3",
                "KeyConditionExpression": f"GSI3PK = :board AND score {'>' if above else '<='} :score",
                "ExpressionAttributeValues": to_dynamo({":board": board, ":score": score}),
                "ScanIndexForward": above,
                "Limit": limit,
            }
        )
        rows = [from_dynamo(item) for item in response.get("Items", [])]
        ranked = [Ranked(0, str(row["employee_id"]), str(row.get("name", "")), int(row["score"])) for row in rows]
        return list(reversed(ranked)) if above else ranked

    def set_hidden(self, employee_id: str, hidden: bool) -> None:
        """Hides (or shows again) the employee on every board: profile flag + each score item."""
        pk = keys.employee_pk(employee_id)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": pk, "SK": keys.PROFILE}),
                UpdateExpression="SET leaderboard_hidden = :hidden",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_dynamo({":hidden": hidden}),
            )
            scores = self._query(
                {
                    "TableName": self._table,
                    "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                    "ExpressionAttributeValues": to_dynamo({":pk": pk, ":prefix": "SCORE#"}),
                }
            )
            for raw in scores.get("Items", []):
                item = from_dynamo(raw)
                if hidden:
                    expression, values = "REMOVE GSI3PK", None
                else:
                    expression = "SET GSI3PK = :board"
                    values = to_dynamo({":board": keys.leaderboard_pk(str(item["period"]), str(item["scope"]))})
                request: dict[str, Any] = {
                    "TableName": self._table,
                    "Key": to_dynamo({"PK": pk, "SK": str(item["SK"])}),
                    "UpdateExpression": expression,
                }
                if values:
                    request["ExpressionAttributeValues"] = values
                self._client.update_item(**request)
        except ClientError as exc:
            raise StoreError("could not change leaderboard visibility") from exc

    # ------------------------------------------------------------------ reports
    def board_rows(self, period_key: str, scope: str) -> list[dict[str, Any]]:
        """Every visible score item of a board, best first (reports; paged)."""
        rows: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :board",
            "ExpressionAttributeValues": to_dynamo({":board": keys.leaderboard_pk(period_key, scope)}),
            "ScanIndexForward": False,
        }
        while True:
            response = self._query(request)
            rows.extend(from_dynamo(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return rows
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def stats(self, period_key: str) -> list[dict[str, Any]]:
        response = self._query(
            {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": to_dynamo({":pk": keys.stats_pk(period_key)}),
            }
        )
        return [from_dynamo(item) for item in response.get("Items", [])]

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self._client.query(**request))
        except ClientError as exc:
            raise StoreError("could not read scores") from exc


class ScoringLookups:
    """Profiles (with the leaderboard opt-out) and content for one stream batch: one BatchGetItem."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def context_for(self, employee_ids: Iterable[str], content_ids: Iterable[str]) -> Context:
        wanted = [{"PK": keys.employee_pk(e), "SK": keys.PROFILE} for e in sorted(set(employee_ids))]
        wanted += [{"PK": keys.content_pk(c), "SK": keys.META} for c in sorted(set(content_ids))]
        context = Context(employees={}, hidden=set(), contents={})
        for item in batch_get(self._client, self._table, wanted):
            if item.get("entity") == "employee":
                employee = Employee.model_validate(item)
                context.employees[employee.employee_id] = employee
                if item.get("leaderboard_hidden"):
                    context.hidden.add(employee.employee_id)
            elif item.get("entity") == "content":
                content = Content.model_validate(item)
                context.contents[content.content_id] = content
        return context
