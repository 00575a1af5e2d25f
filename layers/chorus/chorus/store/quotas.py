"""A network's allowance for the company's app as its answers stated it (QUOTA#network / APP).

One item per network, read with the approval (``ApprovalStore.publish_state``) so knowing it
costs no call. Concurrent publishers report their answers in any order: within one window (one
reset time) the item keeps the lowest figure, and a newer window replaces an older one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.content import Network
from chorus.domain.publishing import Quota, QuotaScope
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import iso_seconds, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Gone (TTL) a day after its window ends: by then it says nothing.
KEPT_AFTER_RESET = timedelta(days=1)


def quota_key(network: Network) -> dict[str, str]:
    return {"PK": keys.quota_pk(network.value), "SK": keys.APP_QUOTA}


def quota_of(item: dict[str, Any]) -> Quota:
    return Quota(
        scope=QuotaScope.APP,
        remaining=int(item["remaining"]),
        resets_at=datetime.fromtimestamp(int(item["resets_epoch"]), UTC),
        limit=int(item["quota_limit"]) if item.get("quota_limit") is not None else None,
    )


class QuotaStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record_quota(self, network: Network, quota: Quota, now: datetime) -> None:
        """One conditional UpdateItem; an answer older than what is recorded changes nothing."""
        epoch = int(quota.resets_at.timestamp())
        values: dict[str, Any] = {
            ":entity": "quota",
            ":network": network.value,
            ":remaining": quota.remaining,
            ":epoch": epoch,
            ":resets": iso_seconds(quota.resets_at),
            ":now": iso_seconds(now),
            ":expires": int((quota.resets_at + KEPT_AFTER_RESET).timestamp()),  # TTL
        }
        sets = [
            "entity = :entity",
            "network = :network",
            "remaining = :remaining",
            "resets_epoch = :epoch",
            "resets_at = :resets",
            "recorded_at = :now",
            "expires_at = :expires",
        ]
        if quota.limit is not None:
            sets.append("quota_limit = :limit")
            values[":limit"] = quota.limit
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(quota_key(network)),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=(
                    "attribute_not_exists(resets_epoch) OR resets_epoch < :epoch "
                    "OR (resets_epoch = :epoch AND remaining > :remaining)"
                ),
                ExpressionAttributeValues=to_dynamo(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return
            raise StoreError("could not record the network's quota") from exc
