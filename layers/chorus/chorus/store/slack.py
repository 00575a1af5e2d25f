"""DynamoDB access for Slack: the requests already seen (replays are refused) and what the
employee's profile says about Slack (their user id, when we looked, their digest channel)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.domain.slack import DigestChannel, SlackIdentity
from chorus.errors import NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, iso_seconds, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class SlackStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def first_sighting(self, signature: str, expires_at: datetime) -> bool:
        """True the first time a request signature is seen; False for a replay. Kept until
        ``expires_at`` (TTL): past it, the request's own timestamp is too old anyway."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(
                    {
                        "PK": keys.slack_request_pk(hashlib.sha256(signature.encode()).hexdigest()),
                        "SK": keys.META,
                        "entity": "slack_request",
                        "expires_at": int(expires_at.timestamp()),
                    }
                ),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not record the Slack request") from exc
        return True

    def claim_slack_digest(self, employee_id: str, week_id: str, expires_at: datetime) -> bool:
        """True if the week's digest was not yet sent to the employee on Slack; marks it sent."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(
                    {
                        "PK": keys.employee_pk(employee_id),
                        "SK": keys.digest_slack_sk(week_id),
                        "entity": "slack_digest",
                        "expires_at": int(expires_at.timestamp()),
                    }
                ),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not mark the Slack digest") from exc
        return True

    def release_slack_digest(self, employee_id: str, week_id: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.digest_slack_sk(week_id)}),
            )
        except ClientError as exc:
            raise StoreError("could not release the Slack digest mark") from exc

    def slack_identity(self, employee_id: str) -> SlackIdentity | None:
        """The employee's Slack user (None if not matched, erased or unknown), read consistently:
        a click is checked against the profile as it is now."""
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                ConsistentRead=True,
                ProjectionExpression="slack_user_id, locale, #tz, active, erased_at",
                ExpressionAttributeNames={"#tz": "timezone"},
            )
        except ClientError as exc:
            raise StoreError("could not read the employee's Slack user") from exc
        item = from_dynamo(response.get("Item", {}))
        if not item.get("slack_user_id") or not item.get("active") or "erased_at" in item:
            return None
        return SlackIdentity(
            slack_user_id=str(item["slack_user_id"]),
            locale=str(item.get("locale") or "en"),
            timezone=str(item.get("timezone") or "UTC"),
        )

    def record_slack_lookup(self, employee_id: str, slack_user_id: str | None, checked_at: datetime) -> None:
        """The result of looking the employee up by address: their Slack user id, or none found."""
        names = {"#v": "version"}
        values: dict[str, object] = {":at": iso_seconds(checked_at), ":one": 1}
        expression = "SET slack_checked_at = :at, #v = #v + :one"
        if slack_user_id is None:
            expression += " REMOVE slack_user_id"
        else:
            expression = "SET slack_checked_at = :at, slack_user_id = :user, #v = #v + :one"
            values[":user"] = slack_user_id
        self._update(employee_id, expression, names, values, "could not record the Slack lookup")

    def choose_digest_channel(self, employee_id: str, channel: DigestChannel) -> None:
        self._update(
            employee_id,
            "SET digest_channel = :channel, #v = #v + :one",
            {"#v": "version"},
            {":channel": channel.value, ":one": 1},
            "could not record the digest channel",
        )

    def _update(
        self, employee_id: str, expression: str, names: dict[str, str], values: dict[str, object], failure: str
    ) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(erased_at)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_dynamo(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound("unknown employee") from exc
            raise StoreError(failure) from exc
