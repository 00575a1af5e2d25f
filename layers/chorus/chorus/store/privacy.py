"""DynamoDB access for employees' rights and the retention of their records: everything held on
one employee (their download), erasure (pseudonymise, delete, tombstone), and the consent
ledger's retention (pointers by day, pseudonymised once old enough).

What each item holds and why is docs/privacy.md; tests/integration/handlers/test_data_map.py
checks every attribute the stores write is listed there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
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


@dataclass(frozen=True)
class Backfill:
    """The one-off scan that gives pointers to records decided before pointers existed: whether
    it is done, where its next page starts, the earliest day it found."""

    done: bool
    start: dict[str, Any] | None
    earliest: date | None


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

    def pseudonymise_decline(self, pk: str, sk: str, now: datetime, *, decided_before: str) -> bool:
        """A decline's reason (the employee's words) goes; that they declined stays."""
        return self._update(
            pk,
            sk,
            expression="SET #reason = :empty, pseudonymised_at = :now",
            condition="entity = :decline AND attribute_not_exists(pseudonymised_at) AND declined_at < :before",
            names={"#reason": "reason"},
            values={":empty": "", ":now": iso_seconds(now), ":decline": "decline", ":before": decided_before},
            failure="could not pseudonymise a decline",
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
        requests = [{"DeleteRequest": {"Key": to_dynamo({"PK": pk, "SK": sk})}} for pk, sk in item_keys]
        self._batch_write(requests, "could not delete items")
        return len(item_keys)

    def _batch_write(self, requests: list[Any], failure: str) -> None:
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = requests[start : start + BATCH_WRITE_LIMIT]
            for attempt in range(MAX_ATTEMPTS):
                try:
                    response = self._client.batch_write_item(RequestItems={self._table: pending})
                except ClientError as exc:
                    raise StoreError(failure) from exc
                pending = list((response.get("UnprocessedItems") or {}).get(self._table, []))
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise StoreError(f"{failure}: DynamoDB kept leaving writes unprocessed")

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

    # ------------------------------------------------------------------ the ledger's retention
    def ledger_cursor(self) -> date | None:
        """The last ledger day the retention job went through."""
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.LEDGER_RETENTION_CURSOR, "SK": keys.META}),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise StoreError("could not read the retention cursor") from exc
        item = response.get("Item")
        return date.fromisoformat(str(from_dynamo(item)["day"])) if item else None

    def advance_ledger_cursor(self, day: date, now: datetime) -> None:
        """Only forward: two runs at once never move it back."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(
                    {
                        "PK": keys.LEDGER_RETENTION_CURSOR,
                        "SK": keys.META,
                        "entity": "retention_cursor",
                        "day": day.isoformat(),
                        "updated_at": iso_seconds(now),
                    }
                ),
                ConditionExpression="attribute_not_exists(PK) OR #day < :day",
                ExpressionAttributeNames={"#day": "day"},
                ExpressionAttributeValues=to_dynamo({":day": day.isoformat()}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StoreError("could not record the retention cursor") from exc

    def backfill_position(self) -> Backfill:
        """How far the one-off scan for records from before the pointers has got."""
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.LEDGER_BACKFILL, "SK": keys.META}),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise StoreError("could not read the retention backfill") from exc
        item = from_dynamo(response["Item"]) if "Item" in response else {}
        start = item.get("start")
        return Backfill(
            done=bool(item.get("done")),
            start=json.loads(str(start)) if start else None,
            earliest=date.fromisoformat(str(item["earliest"])) if item.get("earliest") else None,
        )

    def save_backfill_position(self, backfill: Backfill, now: datetime) -> None:
        item: dict[str, Any] = {
            "PK": keys.LEDGER_BACKFILL,
            "SK": keys.META,
            "entity": "retention_backfill",
            "done": backfill.done,
            "updated_at": iso_seconds(now),
        }
        if backfill.start:
            item["start"] = json.dumps(backfill.start)
        if backfill.earliest:
            item["earliest"] = backfill.earliest.isoformat()
        try:
            self._client.put_item(TableName=self._table, Item=to_dynamo(item))
        except ClientError as exc:
            raise StoreError("could not record the retention backfill") from exc

    def decided_records(
        self, start: dict[str, Any] | None
    ) -> tuple[list[tuple[date, str, str]], dict[str, Any] | None]:
        """One page of a Scan for approvals and declines: (the day each was decided, PK, SK), and
        where the next page starts (None after the last)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "entity IN (:approval, :decline)",
            "ProjectionExpression": "PK, SK, approved_at, declined_at",
            "ExpressionAttributeValues": to_dynamo({":approval": "approval", ":decline": "decline"}),
        }
        if start:
            request["ExclusiveStartKey"] = start
        try:
            response = self._client.scan(**request)
        except ClientError as exc:
            raise StoreError("could not scan the ledger") from exc
        found: list[tuple[date, str, str]] = []
        for raw in response.get("Items", []):
            item = from_dynamo(raw)
            decided = str(item.get("approved_at") or item.get("declined_at") or "")
            if decided:
                day = datetime.fromisoformat(decided.replace("Z", "+00:00")).astimezone(UTC).date()
                found.append((day, str(item["PK"]), str(item["SK"])))
        following = response.get("LastEvaluatedKey")
        return found, dict(following) if following else None

    def add_pointers(self, records: list[tuple[date, str, str]]) -> None:
        """Pointers for records decided before pointers existed (BatchWriteItem, 25 a call)."""
        items = [
            {
                "PK": keys.ledger_day_pk(day.isoformat()),
                "SK": keys.ledger_pointer_sk(pk, sk),
                "entity": "ledger_pointer",
            }
            for day, pk, sk in records
        ]
        puts = [{"PutRequest": {"Item": to_dynamo(item)}} for item in items]
        self._batch_write(puts, "could not add ledger pointers")

    def ledger_pointers(self, day: date) -> list[tuple[str, str, str]]:
        """(pointer sort key, record PK, record SK) of every record decided that day."""
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.ledger_day_pk(day.isoformat())}),
        }
        pointers: list[tuple[str, str, str]] = []
        for raw in query_all(self._client, request, failure="could not read the ledger"):
            pointer = str(from_dynamo(raw)["SK"])
            pk, _, sk = pointer.partition("|")
            pointers.append((pointer, pk, sk))
        return pointers

    def pseudonymise_record(self, pk: str, sk: str, now: datetime, *, decided_before: str) -> bool:
        """The approval or decline a ledger pointer names, if it was decided before that day."""
        if sk.startswith(keys.APPROVAL_PREFIX):
            return self.pseudonymise_approval(pk, sk, now, decided_before=decided_before)
        if sk.startswith(keys.DECLINE_PREFIX):
            return self.pseudonymise_decline(pk, sk, now, decided_before=decided_before)
        return False

    def drop_pointer(self, day: date, pointer: str) -> None:
        self.delete_items([(keys.ledger_day_pk(day.isoformat()), pointer)])

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
