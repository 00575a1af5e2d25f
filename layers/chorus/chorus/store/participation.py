"""DynamoDB access for the monthly snapshots of participation by group (PARTICIPATION / <month>):
one small partition the census run writes once a day and the console reads in one Query."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.participation import MonthParticipation
from chorus.domain.points_report import iso
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.reads import query_items

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class ParticipationStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record(
        self,
        month_key: str,
        participants: Mapping[str, int],
        *,
        active: Mapping[str, int] | None,
        counted_at: datetime,
    ) -> None:
        """Sets the month's participants per group, and its active employees per group unless
        ``active`` is None (a closed month keeps the census of its own time)."""
        expression = "SET participants = :participants, counted_at = :at, entity = :entity"
        values: dict[str, Any] = {
            ":participants": dict(participants),
            ":at": iso(counted_at),
            ":entity": "participation",
        }
        if active is not None:
            expression += ", active = :active"
            values[":active"] = dict(active)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.PARTICIPATION, "SK": month_key}),
                UpdateExpression=expression,
                ExpressionAttributeValues=to_dynamo(values),
            )
        except ClientError as exc:
            raise StoreError("could not record participation by group") from exc

    def months(self, first: str, last: str) -> dict[str, MonthParticipation]:
        """The snapshots of the months from ``first`` to ``last`` (period keys, which sort by date)."""
        items = query_items(
            self._client,
            {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk AND SK BETWEEN :first AND :last",
                "ExpressionAttributeValues": to_dynamo({":pk": keys.PARTICIPATION, ":first": first, ":last": last}),
            },
            failure="could not read participation by group",
        )
        snapshots = (_snapshot(from_dynamo(item)) for item in items)
        return {snapshot.month_key: snapshot for snapshot in snapshots}


def _snapshot(plain: dict[str, Any]) -> MonthParticipation:
    return MonthParticipation(
        month_key=str(plain["SK"]),
        participants={str(name): int(count) for name, count in plain.get("participants", {}).items()},
        active={str(name): int(count) for name, count in plain.get("active", {}).items()},
        counted_at=datetime.fromisoformat(str(plain["counted_at"])) if plain.get("counted_at") else None,
    )
