"""The digest's zone registry (``DIGEST#zones / META``): every time zone of an employee indexed on
the roster, so the quarter-hour tick reads one item and looks only at the zones in use.

Zones are only ever added (a string set, ADD is idempotent): a zone nobody is in any more costs
the tick one empty Query when one of its slots comes round. About 600 IANA zones exist; at 30
bytes each the item stays under 20 KB.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DigestZoneStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def zones(self) -> frozenset[str]:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={"PK": {"S": keys.DIGEST_ZONES}, "SK": {"S": keys.META}},
                ProjectionExpression="zones",
            )
        except ClientError as exc:
            raise StoreError("could not read the digest zones") from exc
        item = from_dynamo(response.get("Item", {}))
        return frozenset(str(zone) for zone in item.get("zones", ()))

    def register(self, zones: Iterable[str]) -> None:
        """Adds zones (before their employees are indexed: a wave never misses an employee)."""
        new = sorted(set(zones))
        if not new:
            return
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"PK": {"S": keys.DIGEST_ZONES}, "SK": {"S": keys.META}},
                UpdateExpression="ADD zones :zones SET entity = :entity",
                ExpressionAttributeValues={":zones": {"SS": new}, ":entity": {"S": "digest_zones"}},
            )
        except ClientError as exc:
            raise StoreError("could not register the digest zones") from exc
