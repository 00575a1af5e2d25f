"""DynamoDB access for report exports of every kind (EXPORT#id / META) and the roster census (CENSUS / ...).

An export record expires (TTL) with its files. The census is one TOTAL item and as many GROUPS
pages as the group counts need (an item holds 400 KB at most); readers take only the pages of the
run the TOTAL item names, so a census being rewritten is never read half old, half new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.points_report import Census, Export, ExportFile, ExportStatus, iso
from chorus.errors import NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Reports hold personal data: their record and files live a week (the bucket expires the files).
EXPORT_TTL = timedelta(days=7)
GROUPS_PER_PAGE = 2000  # group names are at most 64 characters: about 150 KB per page
_STALE_PAGE_TTL = timedelta(days=30)


class ExportStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, export: Export) -> None:
        item: dict[str, Any] = {
            "PK": keys.export_pk(export.export_id),
            "SK": keys.META,
            "entity": "export",
            "export_id": export.export_id,
            "kind": export.kind.value,
            "status": export.status.value,
            "requested_at": iso(export.requested_at),
            "expires_at": int((export.requested_at + EXPORT_TTL).timestamp()),
        }
        if export.period is not None:
            item |= {"period": export.period.value, "period_key": export.period_key}
        if export.criteria:
            item["criteria"] = export.criteria
        try:
            self._client.put_item(
                TableName=self._table, Item=to_dynamo(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as exc:
            raise StoreError("could not record the report request") from exc

    def get(self, export_id: str) -> Export:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.export_pk(export_id), "SK": keys.META}),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise StoreError("could not read the report") from exc
        if "Item" not in response:
            raise NotFound("no such report (reports are kept 7 days)")
        return Export.model_validate(from_dynamo(response["Item"]))

    def finish(
        self,
        export_id: str,
        status: ExportStatus,
        finished_at: datetime,
        *,
        employees: int = 0,
        files: dict[str, ExportFile] | None = None,
    ) -> bool:
        """pending -> ready or failed, once; False if another run finished it first."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.export_pk(export_id), "SK": keys.META}),
                UpdateExpression="SET #status = :status, finished_at = :at, employees = :employees, files = :files",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":status": status.value,
                        ":pending": ExportStatus.PENDING.value,
                        ":at": iso(finished_at),
                        ":employees": employees,
                        ":files": {name: file.model_dump() for name, file in (files or {}).items()},
                    }
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not record the report's files") from exc
        return True


class CensusStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def save(self, census: Census) -> None:
        run = iso(census.counted_at)
        groups = sorted(census.groups.items())
        pages = [dict(groups[start : start + GROUPS_PER_PAGE]) for start in range(0, len(groups), GROUPS_PER_PAGE)]
        expires_at = int((census.counted_at + _STALE_PAGE_TTL).timestamp())
        try:
            for number, page in enumerate(pages):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_dynamo(
                        {
                            "PK": keys.CENSUS,
                            "SK": keys.census_page_sk(number),
                            "entity": "census_page",
                            "run": run,
                            "groups": page,
                            "expires_at": expires_at,
                        }
                    ),
                )
            # Last: readers follow this item to the pages of its run.
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(
                    {
                        "PK": keys.CENSUS,
                        "SK": keys.CENSUS_TOTAL,
                        "entity": "census",
                        "run": run,
                        "active": census.active,
                        "pages": len(pages),
                    }
                ),
            )
        except ClientError as exc:
            raise StoreError("could not save the census") from exc

    def latest(self) -> Census | None:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.CENSUS}),
        }
        try:
            while True:
                response = self._client.query(**request)
                items.extend(from_dynamo(item) for item in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        except ClientError as exc:
            raise StoreError("could not read the census") from exc
        total = next((item for item in items if item["SK"] == keys.CENSUS_TOTAL), None)
        if total is None:
            return None
        groups: dict[str, int] = {}
        for page in items:
            if page.get("entity") == "census_page" and page.get("run") == total["run"]:
                groups.update({str(name): int(count) for name, count in page.get("groups", {}).items()})
        return Census(counted_at=datetime.fromisoformat(str(total["run"])), active=int(total["active"]), groups=groups)
