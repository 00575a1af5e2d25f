"""The sandbox network's feed, kept in the table (the local cloud shows it at /_local/feed)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class SandboxFeedStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, key: str, *, employee_id: str, text: str, link: str, title: str, published_at: datetime) -> bool:
        """Adds the post under ``key``; False if a post with that key is already in the feed."""
        item = {
            "PK": keys.SANDBOX_FEED,
            "SK": keys.sandbox_post_sk(key),
            "entity": "sandbox_post",
            "employee_id": employee_id,
            "text": text,
            "link": link,
            "title": title,
            "published_at": published_at.isoformat(timespec="seconds"),
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=to_dynamo(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("the sandbox feed is unavailable") from exc
        return True
