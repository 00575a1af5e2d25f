"""DynamoDB access for the report function's roll-up: one partition (ROLLUP) of a few items, each
a JSON document far under 400 KB (domain/rollup.py's caps): TEAMS#<period key> per period and
CAMPAIGNS. The job overwrites them whole; readers get one item with one GetItem.

The job also walks the content library's listings (GSI2, active then retracted), one page of ids,
titles and campaigns at a time: the library's own index, never a Scan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.points_report import iso
from chorus.domain.rollup import CampaignRollup, ListedContent, TeamRollup
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Content items per listing Query: their funnels are then read 25 items per BatchGetItem.
CONTENT_PAGE = 1_000


class RollupStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ------------------------------------------------------------------ written by the job
    def save_teams(self, rollup: TeamRollup) -> None:
        self._put(keys.rollup_teams_sk(rollup.period_key), rollup.model_dump_json(), iso(rollup.computed_at))

    def save_campaigns(self, rollup: CampaignRollup) -> None:
        self._put(keys.ROLLUP_CAMPAIGNS, rollup.model_dump_json(), iso(rollup.computed_at))

    def content_pages(self) -> Iterator[list[ListedContent]]:
        """Every content item, active and retracted, CONTENT_PAGE at a time."""
        for listing in (keys.CONTENT_ACTIVE, keys.CONTENT_RETRACTED):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": "GSI2",
                "KeyConditionExpression": "GSI2PK = :listing",
                "ExpressionAttributeValues": to_dynamo({":listing": listing}),
                "ProjectionExpression": "content_id, title, campaign",
                "Limit": CONTENT_PAGE,
            }
            while True:
                try:
                    response = self._client.query(**request)
                except ClientError as exc:
                    raise StoreError("could not read the content library") from exc
                page = [from_dynamo(item) for item in response.get("Items", [])]
                if page:
                    yield [
                        ListedContent(
                            content_id=str(item["content_id"]),
                            title=str(item.get("title", "")),
                            campaign=str(item.get("campaign") or ""),
                        )
                        for item in page
                    ]
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # ------------------------------------------------------------------ read by the pages
    def teams(self, period_key: str) -> TeamRollup | None:
        body = self._get(keys.rollup_teams_sk(period_key))
        return TeamRollup.model_validate_json(body) if body else None

    def campaigns(self) -> CampaignRollup | None:
        body = self._get(keys.ROLLUP_CAMPAIGNS)
        return CampaignRollup.model_validate_json(body) if body else None

    def _put(self, sk: str, body: str, computed_at: str) -> None:
        item = {"PK": keys.ROLLUP, "SK": sk, "entity": "rollup", "computed_at": computed_at, "body": body}
        try:
            self._client.put_item(TableName=self._table, Item=to_dynamo(item))
        except ClientError as exc:
            raise StoreError("could not save the roll-up") from exc

    def _get(self, sk: str) -> str | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.ROLLUP, "SK": sk}),
                ProjectionExpression="body",
            )
        except ClientError as exc:
            raise StoreError("could not read the roll-up") from exc
        item = response.get("Item")
        return str(from_dynamo(item)["body"]) if item else None
