"""DynamoDB access for email suppressions: the employee behind an address, and what a bounce or a
complaint changes on their profile.

Each change is one conditional UpdateItem that also records why (kind, SES feedback id, time), and
happens once: a redelivered event finds it recorded and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.digest import RunWeek
from chorus.domain.email_feedback import EmailFeedback, Recorded, Suppression
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.digest_runs import run_counter
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


# Prefix of the attributes recording each suppression: <prefix>_at (its presence makes the next
# attempt a no-op), <prefix>_reason, <prefix>_feedback_id.
_RECORD = {Suppression.UNDELIVERABLE: "undeliverable", Suppression.UNSUBSCRIBED: "complaint"}
# The week's digest run counter each suppression adds one to.
_COUNTER = {Suppression.UNDELIVERABLE: "bounced", Suppression.UNSUBSCRIBED: "complained"}
_SUPPRESSED = "suppressed"


class SuppressionStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def employee_for_address(self, address: str) -> str | None:
        """The employee whose (normalised) address this is, from the email lookup index."""
        try:
            response = self._client.query(
                TableName=self._table,
                IndexName="GSI1",
                KeyConditionExpression="GSI1PK = :address AND GSI1SK = :profile",
                ExpressionAttributeValues=to_dynamo({":address": keys.email_lookup(address), ":profile": keys.PROFILE}),
                Limit=1,
            )
        except ClientError as exc:
            raise StoreError("could not look the address up") from exc
        items = [from_dynamo(item) for item in response.get("Items", [])]
        pk = str(items[0]["PK"]) if items else ""
        return pk.removeprefix("EMP#") if pk.startswith("EMP#") else None

    def suppress(
        self, employee_id: str, suppression: Suppression, feedback: EmailFeedback, counted_in: RunWeek
    ) -> Recorded:
        """Records the suppression and counts it in the week's digest run (bounced or complained),
        in one transaction: a redelivered event finds it recorded, and counts nothing twice."""
        record = _RECORD[suppression]
        values: dict[str, Any] = {
            ":at": feedback.occurred_at.isoformat(),
            ":reason": f"{feedback.kind.value}: {feedback.reason}",
            ":feedback": feedback.feedback_id,
            ":zero": 0,
            ":one": 1,
        }
        assignments = [
            f"{record}_at = :at",
            f"{record}_reason = :reason",
            f"{record}_feedback_id = :feedback",
            "#v = if_not_exists(#v, :zero) + :one",
        ]
        if suppression is Suppression.UNSUBSCRIBED:
            # The same opt-out as the unsubscribe link: uploads never turn it back on.
            values[":no"] = False
            assignments += ["digest_opt_in = :no", "unsubscribed_at = if_not_exists(unsubscribed_at, :at)"]
        profile = Guarded(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                    "UpdateExpression": "SET " + ", ".join(assignments),
                    "ConditionExpression": f"attribute_exists(PK) AND attribute_not_exists({record}_at)",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": to_dynamo(values),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            _SUPPRESSED,
        )
        try:
            write_transaction(
                self._client,
                [profile, run_counter(self._table, counted_in, _COUNTER[suppression])],
                failure="could not record the suppression",
            )
        except TransactionRefused as refused:
            if not refused.refused(_SUPPRESSED):
                raise StoreError(f"could not record the suppression ({', '.join(refused.codes)})") from refused
            return Recorded.ALREADY if refused.item(_SUPPRESSED) else Recorded.NO_EMPLOYEE
        return Recorded.NOW
