"""DynamoDB access for whether an employee gets the weekly digest: the marker of each week's
digest (claimed once per employee and week, so a redelivered batch sends nothing twice) and the
employee's opt-out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus import clock
from chorus.domain.digest import RunWeek
from chorus.errors import NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import iso_seconds, to_dynamo
from chorus.store.digest_runs import run_counter
from chorus.store.reads import batch_get
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_SUBSCRIBED = "subscribed"


class DigestMarkStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def claim_digest(self, employee_id: str, week_id: str, expires_at: datetime) -> bool:
        """True if this call is the first to claim the employee's digest for the week, and the
        employee is still on the roster: a batch planned before a deactivation or an erasure
        (it carries their name and address) sends them nothing. One transaction, one call."""
        marker = {
            "Put": {
                "TableName": self._table,
                "Item": to_dynamo(
                    {
                        "PK": keys.employee_pk(employee_id),
                        "SK": keys.digest_sk(week_id),
                        "entity": "digest",
                        "sent_at": iso_seconds(clock.now()),
                        "expires_at": int(expires_at.timestamp()),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        still_employed = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                "ConditionExpression": "active = :yes AND attribute_not_exists(erased_at)",
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }
        }
        try:
            write_transaction(
                self._client, [Guarded(marker), Guarded(still_employed)], failure="could not record the digest"
            )
        except TransactionRefused:
            return False  # sent already this week, or no longer on the roster
        return True

    def release_digest(self, employee_id: str, week_id: str) -> None:
        """Undoes a claim when sending failed, so a retry sends the digest."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.digest_sk(week_id)}),
            )
        except ClientError as exc:
            raise StoreError("could not release the digest marker") from exc

    def weekly_impacts(self, employee_ids: Sequence[str], week: str) -> dict[str, tuple[int, int]]:
        """(points, visits) of the week per employee who had any, read with BatchGetItem (one
        call per 100 employees); employees without an item had none."""
        wanted = [{"PK": keys.employee_pk(employee_id), "SK": keys.impact_sk(week)} for employee_id in employee_ids]
        found = batch_get(self._client, self._table, wanted, projection="PK, points, clicks")
        return {
            str(item["PK"]).removeprefix("EMP#"): (int(item.get("points", 0)), int(item.get("clicks", 0)))
            for item in found
        }

    def unsubscribe(self, employee_id: str, counted_in: RunWeek) -> bool:
        """Stops the employee's digest and counts it in the week's run, in one transaction; False
        (nothing changed, nothing counted) when they had already unsubscribed."""
        profile = Guarded(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                    "UpdateExpression": "SET digest_opt_in = :no, unsubscribed_at = :now, #v = #v + :one",
                    "ConditionExpression": (
                        "attribute_exists(PK) AND attribute_not_exists(erased_at) AND "
                        "(attribute_not_exists(digest_opt_in) OR digest_opt_in <> :no)"
                    ),
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": to_dynamo({":no": False, ":now": iso_seconds(clock.now()), ":one": 1}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            _SUBSCRIBED,
        )
        try:
            write_transaction(
                self._client,
                [profile, run_counter(self._table, counted_in, "unsubscribes")],
                failure="could not unsubscribe",
            )
        except TransactionRefused as refused:
            if not refused.refused(_SUBSCRIBED):
                raise StoreError(f"could not unsubscribe ({', '.join(refused.codes)})") from refused
            before = refused.item(_SUBSCRIBED)
            if before is None or "erased_at" in before:
                raise NotFound("unknown employee") from refused
            return False
        return True
