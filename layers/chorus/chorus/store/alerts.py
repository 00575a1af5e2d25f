"""Operator alerts (ALERTS#operator / ALERT#network#kind): one item per problem, refreshed each
time it happens again, expiring (TTL) once it stops happening."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from pydantic import ValidationError

from chorus.domain.alerts import ALERT_LIFETIME, OperatorAlert
from chorus.domain.content import Network
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class AlertStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def raise_alert(self, network: Network, kind: str, message: str, now: datetime) -> None:
        """One UpdateItem: safe to repeat (a retried invocation only counts once more)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.OPERATOR_ALERTS, "SK": keys.operator_alert_sk(network.value, kind)}),
                UpdateExpression=(
                    "SET entity = :entity, network = :network, kind = :kind, message = :message, "
                    "first_seen = if_not_exists(first_seen, :now), last_seen = :now, expires_at = :expires "
                    "ADD occurrences :one"
                ),
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":entity": "operator_alert",
                        ":network": network.value,
                        ":kind": kind,
                        ":message": message[:300],
                        ":now": _iso(now),
                        ":expires": int((now + ALERT_LIFETIME).timestamp()),  # TTL
                        ":one": 1,
                    }
                ),
            )
        except ClientError as exc:
            raise StoreError("could not record the operator alert") from exc

    def active_alerts(self, now: datetime) -> list[OperatorAlert]:
        """Alerts raised within their lifetime (TTL deletes late, so expired ones are skipped)."""
        try:
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues=to_dynamo({":pk": keys.OPERATOR_ALERTS}),
            )
        except ClientError as exc:
            raise StoreError("could not read the operator alerts") from exc
        try:
            alerts = [OperatorAlert.model_validate(from_dynamo(item)) for item in response.get("Items", [])]
        except ValidationError as exc:
            raise StoreError("a stored operator alert is malformed") from exc
        return [alert for alert in alerts if alert.active(now)]
