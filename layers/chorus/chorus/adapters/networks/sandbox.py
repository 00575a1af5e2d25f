"""The sandbox network: a feed kept in the table, shown by the local cloud at /_local/feed.

It behaves like a network that honours an idempotency key (as Mastodon does): publishing the
same key twice returns the first post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus import clock
from chorus.domain.connection import Credentials
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed
from chorus.store.codec import to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FEED_PK = "SANDBOX#feed"


class SandboxNetwork:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def publish(self, post: PostRequest, credentials: Credentials | None = None) -> Published:
        """Needs no credentials: the sandbox is the company's own feed."""
        item = {
            "PK": FEED_PK,
            "SK": f"POST#{post.idempotency_key}",
            "entity": "sandbox_post",
            "employee_id": post.employee_id,
            "text": post.text,
            "link": post.link,
            "title": post.title,
            "published_at": clock.now().isoformat(timespec="seconds"),
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=to_dynamo(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise PublishFailed(FailureKind.TRANSIENT, "the sandbox feed is unavailable") from exc
            # Same key published before: answer with the existing post, like an idempotent API.
        return Published(external_id=post.idempotency_key, url=f"/_local/feed#{post.idempotency_key}")
