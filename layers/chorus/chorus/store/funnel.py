"""Funnel counters per content item: atomic ADDs on one of FUNNEL_SHARDS items, picked by the
source event (a retried event writes the same shard), added up when read (one BatchGetItem of
FUNNEL_SHARDS keys per item, 25 items per call).

Whoever counts makes it idempotent: the scorer adds its counters in the award's transaction
(guarded by the award's ledger entry), the opened beacon after the conditional put of the
employee's opened marker, the digest after the weekly marker it claimed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.funnel import FUNNEL_COUNTERS, FUNNEL_SHARDS, Funnel
from chorus.domain.scoring import shard_of
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import to_dynamo
from chorus.store.reads import batch_get

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def funnel_add(table: str, content_id: str, source_event: str, counts: dict[str, int]) -> dict[str, Any]:
    """The transaction action adding ``counts`` to the content's funnel."""
    unknown = set(counts) - set(FUNNEL_COUNTERS)
    if unknown:
        raise ValueError(f"not funnel counters: {sorted(unknown)}")
    names = {f"#c{index}": name for index, name in enumerate(counts)}
    values: dict[str, Any] = {f":c{index}": count for index, count in enumerate(counts.values())}
    values[":entity"] = "funnel"
    values[":content"] = content_id
    return {
        "Update": {
            "TableName": table,
            "Key": to_dynamo(
                {
                    "PK": keys.content_funnel_pk(content_id, shard_of(source_event, FUNNEL_SHARDS)),
                    "SK": keys.CONTENT_FUNNEL,
                }
            ),
            "UpdateExpression": "ADD "
            + ", ".join(f"#c{index} :c{index}" for index in range(len(counts)))
            + " SET entity = :entity, content_id = :content",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_dynamo(values),
        }
    }


class FunnelStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def funnels(self, content_ids: Sequence[str]) -> dict[str, Funnel]:
        """Each item's funnel (zero where nothing was counted yet)."""
        wanted = [
            {"PK": keys.content_funnel_pk(content_id, shard), "SK": keys.CONTENT_FUNNEL}
            for content_id in content_ids
            for shard in range(FUNNEL_SHARDS)
        ]
        found = {content_id: Funnel() for content_id in content_ids}
        for item in batch_get(self._client, self._table, wanted):
            content_id = str(item["content_id"])
            counts = {name: int(item.get(name, 0)) for name in FUNNEL_COUNTERS}
            found[content_id] = found[content_id].plus(Funnel.from_counts(counts))
        return found

    def add_sent(self, sent: dict[str, int], source_event: str) -> None:
        """Digests sent per content item, after the sends' weekly markers were claimed."""
        for content_id, count in sorted(sent.items()):
            if count <= 0:
                continue
            update = funnel_add(self._table, content_id, source_event, {"sent": count})["Update"]
            try:
                self._client.update_item(**update)
            except ClientError as exc:
                raise StoreError("could not count digests sent") from exc

    def mark_opened(self, content_id: str, employee_id: str, expires_at: int) -> bool:
        """Counts the employee's first opening of the item's page; False if counted before.

        A conditional put of the employee's marker, then the ADD: a crash between the two loses
        that one opening (it is never counted twice), at half a transaction's write cost."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(
                    {
                        "PK": keys.employee_pk(employee_id),
                        "SK": keys.opened_sk(content_id),
                        "entity": "opened",
                        "expires_at": expires_at,
                    }
                ),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not count the page opened") from exc
        update = funnel_add(self._table, content_id, f"opened:{content_id}:{employee_id}", {"opened": 1})
        try:
            self._client.update_item(**update["Update"])
        except ClientError as exc:
            raise StoreError("could not count the page opened") from exc
        return True
