"""DynamoDB access for employees' rights: everything held on one employee (their download), and
erasure (pseudonymise, delete, tombstone).

What each item holds and why is docs/privacy.md; tests/integration/handlers/test_data_map.py
checks every attribute the stores write is listed there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.networks import Network
from chorus.domain.privacy import APPROVAL_NEUTRAL_VALUES, APPROVAL_REMOVED
from chorus.domain.tracking import link_code
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, iso_seconds, to_dynamo
from chorus.store.reads import batch_get, query_all
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_WRITE_LIMIT = 25
MAX_ATTEMPTS = 5


@dataclass
class PersonalRecords:
    """Every item held on one employee, as stored: their partition by entity, and the tracked
    links of their posts."""

    employee_id: str
    profile: dict[str, Any] | None
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)

    def of(self, entity: str) -> list[dict[str, Any]]:
        return self.items.get(entity, [])


class ErasureConflict(StoreError):
    """The profile changed while it was being erased (an upload, another erasure): read again."""


class PersonalDataStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ------------------------------------------------------------------ what is held
    def records(self, employee_id: str) -> PersonalRecords:
        """The employee's partition (one Query, paged past 1 MB) and their posts' tracked links
        (one BatchGetItem per 100 approvals)."""
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.employee_pk(employee_id)}),
            "ConsistentRead": True,
        }
        found = PersonalRecords(employee_id, profile=None)
        for raw in query_all(self._client, request, failure="could not read the employee's records"):
            item = from_dynamo(raw)
            if item.get("SK") == keys.PROFILE:
                found.profile = item
            else:
                found.items.setdefault(str(item.get("entity", "")), []).append(item)
        wanted = [{"PK": keys.link_pk(link_code(str(a["approval_id"]))), "SK": keys.META} for a in found.of("approval")]
        found.links = batch_get(self._client, self._table, wanted) if wanted else []
        return found

    # ------------------------------------------------------------------ pseudonymising
    def pseudonymise_approval(
        self, pk: str, sk: str, now: datetime, *, decided_before: str | None = None, skip_in_flight: bool = False
    ) -> bool:
        """Leaves the proof of consent (hashes, snapshot of the company's content, times, where it
        was published) and drops the words: the text, the user agent, the post's address, the time
        zone. False if there was nothing to do (already done, gone, newer than ``decided_before``,
        or being published and ``skip_in_flight``)."""
        values: dict[str, Any] = {f":{name}": value for name, value in APPROVAL_NEUTRAL_VALUES.items()}
        values[":now"] = iso_seconds(now)
        sets = [f"#{name} = :{name}" for name in APPROVAL_NEUTRAL_VALUES] + ["pseudonymised_at = :now"]
        names = {f"#{name}": name for name in APPROVAL_NEUTRAL_VALUES}
        condition = "entity = :approval AND attribute_not_exists(pseudonymised_at)"
        values[":approval"] = "approval"
        if decided_before is not None:
            condition += " AND approved_at < :before"
            values[":before"] = decided_before
        if skip_in_flight:
            condition += " AND #status <> :publishing"
            names["#status"] = "status"
            values[":publishing"] = "PUBLISHING"
        expression = "SET " + ", ".join(sets) + " REMOVE " + ", ".join(APPROVAL_REMOVED)
        return self._update(
            pk,
            sk,
            expression=expression,
            condition=condition,
            names=names,
            values=values,
            failure="could not pseudonymise a post",
        )

    def forget_reason(self, pk: str, sk: str) -> bool:
        """An admin's reason for reversing points may name the person."""
        return self._update(
            pk,
            sk,
            expression="REMOVE #reason",
            condition="attribute_exists(#reason) AND #reason <> :empty",
            names={"#reason": "reason"},
            values={":empty": ""},
            failure="could not update the points ledger",
        )

    def leave_listing(self, pk: str, sk: str) -> bool:
        """Out of the open redemptions an admin hands over (nobody is left to hand them to)."""
        return self._update(
            pk,
            sk,
            expression="REMOVE GSI2PK, GSI2SK",
            condition="attribute_exists(GSI2PK)",
            names={},
            values={},
            failure="could not update an item",
        )

    def delete_personal(self, records: PersonalRecords, entities: tuple[str, ...]) -> int:
        """Deletes the employee's items of these entities, and their posts on the sandbox network
        (the demo's feed is ours; posts on real networks are the employee's, on their accounts)."""
        doomed = [(str(item["PK"]), str(item["SK"])) for entity in entities for item in records.of(entity)]
        # The sandbox's post id is the key it was published under (its idempotency key).
        doomed += [
            (keys.SANDBOX_FEED, keys.sandbox_post_sk(str(approval["external_post_id"])))
            for approval in records.of("approval")
            if approval.get("network") == Network.SANDBOX.value and approval.get("external_post_id")
        ]
        return self.delete_items(doomed)

    def delete_items(self, item_keys: list[tuple[str, str]]) -> int:
        """BatchWriteItem deletes, 25 a call, unprocessed ones retried with backoff."""
        for start in range(0, len(item_keys), BATCH_WRITE_LIMIT):
            requests: list[Any] = [
                {"DeleteRequest": {"Key": to_dynamo({"PK": pk, "SK": sk})}}
                for pk, sk in item_keys[start : start + BATCH_WRITE_LIMIT]
            ]
            for attempt in range(MAX_ATTEMPTS):
                try:
                    response = self._client.batch_write_item(RequestItems={self._table: requests})
                except ClientError as exc:
                    raise StoreError("could not delete the employee's items") from exc
                requests = list((response.get("UnprocessedItems") or {}).get(self._table, []))
                if not requests:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise StoreError("DynamoDB kept leaving deletes unprocessed")
        return len(item_keys)

    # ------------------------------------------------------------------ the tombstone
    def erase_profile(self, profile: dict[str, Any], now: datetime, *, root: tuple[str, int] | None) -> None:
        """Replaces the profile by a tombstone: the pseudonymous id, inactive, when it was erased.

        The profile at the address's first id records which generation comes next, so a later
        roster upload of the address makes a new employee: ``root`` is that first id and this
        employee's generation when it is another item (None when this profile is the first id).
        One transaction, conditioned on the profile being the version read."""
        employee_id = str(profile["employee_id"])
        version = int(profile.get("version", 0))
        tombstone: dict[str, Any] = {
            "PK": keys.employee_pk(employee_id),
            "SK": keys.PROFILE,
            "entity": "employee",
            "employee_id": employee_id,
            "active": False,
            "erased_at": iso_seconds(now),
            "version": version + 1,
        }
        if root is None:
            tombstone["generation"] = 1
        put = {
            "Put": {
                "TableName": self._table,
                "Item": to_dynamo(tombstone),
                "ConditionExpression": "#version = :read AND attribute_not_exists(erased_at)",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": to_dynamo({":read": version}),
            }
        }
        actions: list[Guarded[str]] = [Guarded(put, "profile")]
        if root is not None:
            root_id, generation = root
            actions.append(
                Guarded(
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_dynamo({"PK": keys.employee_pk(root_id), "SK": keys.PROFILE}),
                            "UpdateExpression": "SET #generation = :next",
                            "ConditionExpression": "attribute_exists(erased_at) AND #generation = :current",
                            "ExpressionAttributeNames": {"#generation": "generation"},
                            "ExpressionAttributeValues": to_dynamo({":next": generation + 1, ":current": generation}),
                        }
                    },
                    "root",
                )
            )
        try:
            write_transaction(self._client, actions, failure="could not erase the profile")
        except TransactionRefused as refused:
            raise ErasureConflict(f"the profile changed while it was erased ({', '.join(refused.codes)})") from refused

    def profile(self, employee_id: str) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise StoreError("could not read the profile") from exc
        item = response.get("Item")
        return from_dynamo(item) if item else None

    # ------------------------------------------------------------------ helpers
    def _update(
        self,
        pk: str,
        sk: str,
        *,
        expression: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
        failure: str,
    ) -> bool:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_dynamo({"PK": pk, "SK": sk}),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = to_dynamo(values)
        try:
            self._client.update_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError(failure) from exc
        return True
