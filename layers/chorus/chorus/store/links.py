"""DynamoDB access for tracked links (LINK#code / META) and their counted clicks (LINK#code / CLICK#visitor).

The link item is written by the approval transaction; this module only reads it. A click is one
conditional PutItem: the same visitor counts at most once per window (``CLICK_WINDOW`` unless the
template's VisitorHashRetentionHours says otherwise), and the item expires (TTL) when it ends.
The scoring function picks clicks up from the table's stream.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from pydantic import ValidationError

from chorus.domain.clicks import CLICK_WINDOW, TrackedLink
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class LinkStore:
    def __init__(self, client: DynamoDBClient, table_name: str, *, window: timedelta = CLICK_WINDOW) -> None:
        """``window``: how long a visitor counts once, and so how long their keyed hash is kept."""
        self._client = client
        self._table = table_name
        self._window = window

    def get(self, code: str) -> TrackedLink | None:
        # Eventually consistent: a link is written once at approval, long before anyone clicks it.
        try:
            response = self._client.get_item(
                TableName=self._table, Key=to_dynamo({"PK": keys.link_pk(code), "SK": keys.META})
            )
        except ClientError as exc:
            raise StoreError("could not read the link") from exc
        if "Item" not in response:
            return None
        try:
            return TrackedLink.model_validate(from_dynamo(response["Item"]))
        except ValidationError as exc:
            raise StoreError("the stored link is malformed") from exc

    def record_click(self, link: TrackedLink, visitor: str, now: datetime) -> bool:
        """True if the click counted; False if this visitor already clicked within the window."""
        clicked_at = now.astimezone(UTC)
        item = {
            "PK": keys.link_pk(link.code),
            "SK": keys.click_sk(visitor),
            "entity": "click",
            "code": link.code,
            "employee_id": link.employee_id,
            "content_id": link.content_id,
            "network": link.network.value,
            "campaign": link.campaign,
            "clicked_at": clicked_at.isoformat(timespec="seconds"),
            "expires_at": int((clicked_at + self._window).timestamp()),  # TTL
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(item),
                # A previous click whose window ended still counts as absent (TTL deletes lazily).
                ConditionExpression="attribute_not_exists(PK) OR expires_at < :now",
                ExpressionAttributeValues=to_dynamo({":now": int(clicked_at.timestamp())}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not record the click") from exc
        return True
