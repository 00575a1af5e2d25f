"""DynamoDB access for the admin console's sign-ins in progress and sessions (CONSOLE#...).

Only hashes of the browser's secrets are stored. A sign-in attempt is taken back with a
DeleteItem that returns it, so a state is used once even by two racing callbacks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.console import ConsoleSession, SignInAttempt
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class ConsoleSessionStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def save_attempt(self, attempt: SignInAttempt) -> None:
        item = {
            "PK": keys.console_sign_in_pk(attempt.state_hash),
            "SK": keys.META,
            "entity": "console_sign_in",
            "browser_hash": attempt.browser_hash,
            "nonce": attempt.nonce,
            "verifier": attempt.verifier,
            "redirect_uri": attempt.redirect_uri,
            "started_at": _iso(attempt.started_at),
            "expires_at": int(attempt.expires_at().timestamp()),
        }
        self._put(item, "could not start the sign-in")

    def take_attempt(self, state_hash: str) -> SignInAttempt | None:
        """The attempt, deleted in the same call (None: unknown or already used)."""
        try:
            response = self._client.delete_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.console_sign_in_pk(state_hash), "SK": keys.META}),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            raise StoreError("could not read the sign-in") from exc
        if "Attributes" not in response:
            return None
        item = from_dynamo(response["Attributes"])
        return SignInAttempt(
            state_hash=state_hash,
            browser_hash=str(item["browser_hash"]),
            nonce=str(item["nonce"]),
            verifier=str(item["verifier"]),
            redirect_uri=str(item["redirect_uri"]),
            started_at=datetime.fromisoformat(str(item["started_at"])),
        )

    def save_session(self, session: ConsoleSession) -> None:
        item = {
            "PK": keys.console_session_pk(session.session_hash),
            "SK": keys.META,
            "entity": "console_session",
            "subject": session.subject,
            "display_name": session.display_name,
            "email": session.email,
            "csrf_token": session.csrf_token,
            "created_at": _iso(session.created_at),
            "last_seen": _iso(session.last_seen),
            "expires_at": int(session.expires_at().timestamp()),
        }
        self._put(item, "could not start the session")

    def session(self, session_hash: str) -> ConsoleSession | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.console_session_pk(session_hash), "SK": keys.META}),
                # A session just ended (sign-out) must not be read back from a stale replica.
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise StoreError("could not read the session") from exc
        if "Item" not in response:
            return None
        item = from_dynamo(response["Item"])
        return ConsoleSession(
            session_hash=session_hash,
            subject=str(item["subject"]),
            display_name=str(item.get("display_name", "")),
            email=str(item.get("email", "")),
            csrf_token=str(item["csrf_token"]),
            created_at=datetime.fromisoformat(str(item["created_at"])),
            last_seen=datetime.fromisoformat(str(item["last_seen"])),
        )

    def touch(self, session_hash: str, seen_at: datetime) -> None:
        """Moves last_seen forward; a session deleted meanwhile stays deleted."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.console_session_pk(session_hash), "SK": keys.META}),
                UpdateExpression="SET last_seen = :seen",
                ConditionExpression="attribute_exists(PK) AND last_seen < :seen",
                ExpressionAttributeValues=to_dynamo({":seen": _iso(seen_at)}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return
            raise StoreError("could not keep the session") from exc

    def end_session(self, session_hash: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.console_session_pk(session_hash), "SK": keys.META}),
            )
        except ClientError as exc:
            raise StoreError("could not end the session") from exc

    def _put(self, item: dict[str, Any], failure: str) -> None:
        try:
            self._client.put_item(
                TableName=self._table, Item=to_dynamo(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as exc:
            raise StoreError(failure) from exc
