"""DynamoDB access for social connections, OAuth states, Mastodon app registrations and the
Mastodon servers' status limits (a cache).

Tokens are stored only as KMS ciphertext (the vault seals them before they get here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.connection import Connection, ConnectionStatus, NotOnRoster
from chorus.domain.content import Network
from chorus.domain.lengths import InstanceLimits
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class OAuthState:
    state: str
    employee_id: str
    network: Network
    code_verifier: str | None
    return_to: str
    redirect_uri: str
    instance_url: str | None
    expires_at: datetime
    # SHA-256 of the random value in the HttpOnly cookie of the browser that started the flow.
    browser_hash: str
    # AT Protocol OAuth (Bluesky): the authorization server the callback's ``iss`` must name, the
    # account the handle resolved to, and the flow's DPoP key, sealed by the vault.
    issuer: str | None = None
    expected_did: str | None = None
    sealed_dpop_key: bytes | None = None


@dataclass(frozen=True)
class StoredConnection:
    connection: Connection
    ciphertext: bytes


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# What the save's condition on the profile failing means.
_NOT_ACTIVE = "employee not active"

# A server's limits are kept this long after they were last asked for (TTL), so an unreachable
# server still gets its last known limit rather than the default.
INSTANCE_LIMITS_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class CachedInstanceLimits:
    limits: InstanceLimits
    fresh_until: datetime


class ConnectionStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ------------------------------------------------------------------ OAuth state
    def put_state(self, state: OAuthState) -> None:
        item = {
            "PK": keys.oauth_state_pk(state.state),
            "SK": keys.META,
            "entity": "oauth_state",
            "employee_id": state.employee_id,
            "network": state.network.value,
            "code_verifier": state.code_verifier,
            "return_to": state.return_to,
            "redirect_uri": state.redirect_uri,
            "instance_url": state.instance_url,
            "browser_hash": state.browser_hash,
            "issuer": state.issuer,
            "expected_did": state.expected_did,
            "sealed_dpop_key": state.sealed_dpop_key,
            "expires_at": int(state.expires_at.timestamp()),  # TTL
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo({name: value for name, value in item.items() if value is not None}),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            raise StoreError("could not start the connection") from exc

    def take_state(self, state: str, network: Network, browser_hash: str, now: datetime) -> OAuthState | None:
        """Single use: the state is deleted as it is read, and only by the browser that started the
        flow, for the network it started (a condition of the delete: anyone else consumes nothing).
        An expired state (TTL lags) is refused."""
        try:
            response = self._client.delete_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.oauth_state_pk(state), "SK": keys.META}),
                ConditionExpression="browser_hash = :browser AND network = :network",
                ExpressionAttributeValues=to_dynamo({":browser": browser_hash, ":network": network.value}),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise StoreError("could not read the connection state") from exc
        if "Attributes" not in response:
            return None
        item = from_dynamo(response["Attributes"])
        expires_at = datetime.fromtimestamp(int(item["expires_at"]), UTC)
        if expires_at <= now:
            return None
        return OAuthState(
            state=state,
            employee_id=item["employee_id"],
            network=Network(item["network"]),
            code_verifier=item.get("code_verifier"),
            return_to=item["return_to"],
            redirect_uri=item["redirect_uri"],
            instance_url=item.get("instance_url"),
            expires_at=expires_at,
            browser_hash=item["browser_hash"],
            issuer=item.get("issuer"),
            expected_did=item.get("expected_did"),
            sealed_dpop_key=bytes(item["sealed_dpop_key"]) if "sealed_dpop_key" in item else None,
        )

    # ------------------------------------------------------------------ connections
    def save(self, connection: Connection, ciphertext: bytes) -> None:
        """Stores the sealed tokens, on condition that the employee is still active (one
        transaction): a connection completed after a deactivation or an erasure stores nothing
        (NotOnRoster), and one stored before it is deleted by the withdrawal that follows."""
        item: dict[str, Any] = {
            "PK": keys.employee_pk(connection.employee_id),
            "SK": keys.connection_sk(connection.network.value),
            "entity": "connection",
            "tokens": ciphertext,
            **{name: value for name, value in connection.model_dump(mode="json").items() if value is not None},
        }
        if connection.expires_at is not None:
            # Sparse listing by expiry: the sweeper reminds and expires without a Scan.
            item["GSI2PK"] = keys.CONNECTION_EXPIRY
            item["GSI2SK"] = f"{_iso(connection.expires_at)}#{connection.employee_id}#{connection.network.value}"
        employee_active = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(connection.employee_id), "SK": keys.PROFILE}),
                "ConditionExpression": "active = :yes",
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }
        }
        actions: list[Guarded[str]] = [
            Guarded({"Put": {"TableName": self._table, "Item": to_dynamo(item)}}),
            Guarded(employee_active, _NOT_ACTIVE),
        ]
        try:
            write_transaction(self._client, actions, failure="could not save the connection")
        except TransactionRefused as refused:
            if refused.refused(_NOT_ACTIVE):
                raise NotOnRoster("you are no longer on your company's roster; nothing was connected") from refused
            raise StoreError("could not save the connection; try again") from refused

    def get(self, employee_id: str, network: Network) -> StoredConnection | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.connection_sk(network.value)}),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise StoreError("could not read the connection") from exc
        if "Item" not in response:
            return None
        item = from_dynamo(response["Item"])
        return StoredConnection(Connection.model_validate(item), bytes(item["tokens"]))

    def rotate(self, connection: Connection, ciphertext: bytes) -> bool:
        """Replaces the tokens only if nobody rotated them since we read them (X refresh tokens are
        single use: two refreshes racing must not both persist)."""
        values: dict[str, Any] = {":tokens": ciphertext, ":read": connection.token_version, ":one": 1}
        expression = "SET tokens = :tokens, token_version = token_version + :one REMOVE refresh_claimed_until"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(
                    {"PK": keys.employee_pk(connection.employee_id), "SK": keys.connection_sk(connection.network.value)}
                ),
                UpdateExpression=expression,
                ConditionExpression="token_version = :read",
                ExpressionAttributeValues=to_dynamo(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not store the refreshed tokens") from exc
        return True

    def claim_refresh(self, connection: Connection, now: datetime, until: datetime) -> bool:
        """One refresher at a time for tokens whose refresh token is single use and whose reuse
        ends the session (AT Protocol OAuth): the claim holds while the tokens are still the ones
        read and nobody else holds a live claim; the rotation releases it."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(
                    {"PK": keys.employee_pk(connection.employee_id), "SK": keys.connection_sk(connection.network.value)}
                ),
                UpdateExpression="SET refresh_claimed_until = :until",
                ConditionExpression=(
                    "token_version = :read AND "
                    "(attribute_not_exists(refresh_claimed_until) OR refresh_claimed_until <= :now)"
                ),
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":until": int(until.timestamp()),
                        ":now": int(now.timestamp()),
                        ":read": connection.token_version,
                    }
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not claim the token refresh") from exc
        return True

    def delete(self, employee_id: str, network: Network) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.connection_sk(network.value)}),
            )
        except ClientError as exc:
            raise StoreError("could not delete the connection") from exc

    def mark(
        self, connection: Connection, *, status: ConnectionStatus | None = None, reminded: datetime | None = None
    ) -> None:
        sets: list[str] = []
        values: dict[str, Any] = {}
        if status is not None:
            sets.append("#status = :status")
            values[":status"] = status.value
        if reminded is not None:
            sets.append("reminder_sent_at = :reminded")
            values[":reminded"] = _iso(reminded)
        if not sets:
            return
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_dynamo(
                {"PK": keys.employee_pk(connection.employee_id), "SK": keys.connection_sk(connection.network.value)}
            ),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeValues": to_dynamo(values),
        }
        if status is not None:
            request["ExpressionAttributeNames"] = {"#status": "status"}
            if status is ConnectionStatus.EXPIRED:  # leaves the expiry listing: nothing more to remind
                request["UpdateExpression"] += " REMOVE GSI2PK, GSI2SK"
        try:
            self._client.update_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return
            raise StoreError("could not update the connection") from exc

    def expiring_before(self, moment: datetime) -> list[Connection]:
        """Connections (still listed, i.e. not yet marked expired) that end before ``moment``."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK < :until",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.CONNECTION_EXPIRY, ":until": _iso(moment)}),
        }
        found: list[Connection] = []
        while True:
            try:
                response = self._client.query(**request)
            except ClientError as exc:
                raise StoreError("could not list expiring connections") from exc
            found.extend(Connection.model_validate(from_dynamo(item)) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # ------------------------------------------------------------------ Mastodon apps
    def mastodon_app(self, host: str) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(
                TableName=self._table, Key=to_dynamo({"PK": keys.mastodon_app_pk(host), "SK": keys.META})
            )
        except ClientError as exc:
            raise StoreError("could not read the Mastodon app") from exc
        return from_dynamo(response["Item"]) if "Item" in response else None

    def save_mastodon_app(self, host: str, client_id: str, client_secret: bytes, redirect_uri: str) -> None:
        item = {
            "PK": keys.mastodon_app_pk(host),
            "SK": keys.META,
            "entity": "mastodon_app",
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
        }
        try:
            self._client.put_item(TableName=self._table, Item=to_dynamo(item))
        except ClientError as exc:
            raise StoreError("could not save the Mastodon app") from exc

    # ------------------------------------------------------------------ Mastodon servers' limits
    def instance_limits(self, host: str) -> CachedInstanceLimits | None:
        try:
            response = self._client.get_item(
                TableName=self._table, Key=to_dynamo({"PK": keys.mastodon_instance_pk(host), "SK": keys.META})
            )
        except ClientError as exc:
            raise StoreError("could not read the Mastodon server's limits") from exc
        if "Item" not in response:
            return None
        item = from_dynamo(response["Item"])
        return CachedInstanceLimits(
            InstanceLimits(int(item["max_characters"]), int(item["characters_reserved_per_url"])),
            datetime.fromisoformat(item["fresh_until"]),
        )

    def save_instance_limits(self, host: str, limits: InstanceLimits, fresh_until: datetime) -> None:
        item = {
            "PK": keys.mastodon_instance_pk(host),
            "SK": keys.META,
            "entity": "mastodon_instance",
            "max_characters": limits.max_characters,
            "characters_reserved_per_url": limits.characters_reserved_per_url,
            "fresh_until": _iso(fresh_until),
            "expires_at": int((fresh_until + INSTANCE_LIMITS_KEPT).timestamp()),  # TTL
        }
        try:
            self._client.put_item(TableName=self._table, Item=to_dynamo(item))
        except ClientError as exc:
            raise StoreError("could not save the Mastodon server's limits") from exc
