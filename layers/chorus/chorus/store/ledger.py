"""DynamoDB reads of the consent ledger for the console: one employee's approvals (a Query of
their partition) and one content item's (the KEYS_ONLY GSI1 listing, then one BatchGetItem),
a page at a time; for an export, the approvals decided on one UTC day (a Query of the day's
ledger pointers, then BatchGetItem of the approvals they name)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.approval import Approval
from chorus.domain.ledger import LedgerEntry
from chorus.domain.listing import Page
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.reads import batch_get

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _entry(item: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(approval=Approval.model_validate(item), pseudonymised_at=item.get("pseudonymised_at"))


class LedgerStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def approvals_of_employee(self, employee_id: str, limit: int, start: dict[str, Any] | None) -> Page[LedgerEntry]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": to_dynamo(
                {":pk": keys.employee_pk(employee_id), ":prefix": keys.APPROVAL_PREFIX}
            ),
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_dynamo(start)
        response = self._query(request)
        last = response.get("LastEvaluatedKey")
        return Page(
            items=[_entry(from_dynamo(item)) for item in response.get("Items", [])],
            next_token=from_dynamo(last) if last else None,
        )

    def approvals_of_content(self, content_id: str, limit: int, start: dict[str, Any] | None) -> Page[LedgerEntry]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.approvals_of(content_id)}),
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_dynamo(start)
        response = self._query(request)
        wanted = [{"PK": item["PK"]["S"], "SK": item["SK"]["S"]} for item in response.get("Items", [])]
        found = {(item["PK"], item["SK"]): item for item in batch_get(self._client, self._table, wanted)}
        last = response.get("LastEvaluatedKey")
        return Page(
            # In the index's order (by employee, then network); an approval deleted since is left out.
            items=[_entry(found[key["PK"], key["SK"]]) for key in wanted if (key["PK"], key["SK"]) in found],
            next_token=from_dynamo(last) if last else None,
        )

    def approvals_decided_on(self, day: date, limit: int, start: dict[str, Any] | None) -> Page[LedgerEntry]:
        """The approvals whose ledger pointer is under ``day``: the retention job drops a pointer
        when it pseudonymises the record, so older approvals are found by employee or content."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.ledger_day_pk(day.isoformat())}),
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = to_dynamo(start)
        response = self._query(request)
        wanted = []
        for item in response.get("Items", []):
            pk, _, sk = item["SK"]["S"].partition("|")
            # Declines have pointers too; a key attribute cannot be filtered in the Query itself.
            if sk.startswith(keys.APPROVAL_PREFIX):
                wanted.append({"PK": pk, "SK": sk})
        found = {(item["PK"], item["SK"]): item for item in batch_get(self._client, self._table, wanted)}
        last = response.get("LastEvaluatedKey")
        return Page(
            items=[_entry(found[key["PK"], key["SK"]]) for key in wanted if (key["PK"], key["SK"]) in found],
            next_token=from_dynamo(last) if last else None,
        )

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self._client.query(**request))
        except ClientError as exc:
            raise StoreError("could not read the consent ledger") from exc
