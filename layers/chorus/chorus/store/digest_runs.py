"""The digest run of each week (``DIGESTRUN#<week> / META``): requests and send counters.

The planner adds one request (and the recipients it queued) per run; each sender adds its
counts once per batch, so the record costs one write per 25 emails, never a read of the
per-employee markers. ADD is atomic: concurrent senders never lose a count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.digest import DigestRun
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _run(week_id: str, item: dict[str, Any]) -> DigestRun:
    values = from_dynamo(item)

    def moment(name: str) -> datetime | None:
        text = values.get(name)
        return datetime.fromisoformat(str(text)).astimezone(UTC) if text else None

    return DigestRun(
        week_id=week_id,
        requests=int(values.get("requests", 0)),
        queued=int(values.get("queued", 0)),
        sent=int(values.get("sent", 0)),
        already_sent=int(values.get("already_sent", 0)),
        failed=int(values.get("failed", 0)),
        first_requested_at=moment("first_requested_at"),
        last_requested_at=moment("last_requested_at"),
    )


class DigestRunStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _key(self, week_id: str) -> dict[str, Any]:
        return to_dynamo({"PK": keys.digest_run_pk(week_id), "SK": keys.META})

    def record_plan(self, week_id: str, queued: int, now: datetime, expires_at: datetime) -> DigestRun:
        """Counts one request to send the week's digest; returns the run as it stands after it."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(week_id),
                UpdateExpression=(
                    "ADD requests :one, queued :queued "
                    "SET entity = :entity, last_requested_at = :now, expires_at = :expires, "
                    "first_requested_at = if_not_exists(first_requested_at, :now)"
                ),
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":one": 1,
                        ":queued": queued,
                        ":entity": "digest_run",
                        ":now": now.isoformat(),
                        ":expires": int(expires_at.timestamp()),
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            raise StoreError("could not record the digest run") from exc
        return _run(week_id, response.get("Attributes", {}))

    def record_sends(self, week_id: str, *, sent: int, already_sent: int, failed: int, expires_at: datetime) -> None:
        """Adds one batch's counts (one write per batch, whatever its size)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(week_id),
                UpdateExpression=(
                    "ADD sent :sent, already_sent :already, failed :failed "
                    "SET entity = :entity, expires_at = if_not_exists(expires_at, :expires)"
                ),
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":sent": sent,
                        ":already": already_sent,
                        ":failed": failed,
                        ":entity": "digest_run",
                        ":expires": int(expires_at.timestamp()),
                    }
                ),
            )
        except ClientError as exc:
            raise StoreError("could not count the digest batch") from exc

    def run(self, week_id: str) -> DigestRun:
        """The week's run; all zeros when nobody asked for that week's digest."""
        try:
            response = self._client.get_item(TableName=self._table, Key=self._key(week_id), ConsistentRead=True)
        except ClientError as exc:
            raise StoreError("could not read the digest run") from exc
        return _run(week_id, response.get("Item", {}))
