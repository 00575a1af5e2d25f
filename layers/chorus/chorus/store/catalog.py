"""DynamoDB access for content items and the employee roster.

Uploads upsert in groups of 25: one BatchGetItem per 100 rows tells new, changed and
unchanged rows apart (unchanged rows cost no write and emit no stream record), then one
TransactWriteItems per 25 changed rows writes them. Each write is an UpdateItem that sets
only the fields an upload owns (an employee's digest opt-out and an admin's retraction are
never overwritten) and is conditioned on the version read, so a concurrent change is never
clobbered: the group is re-read and retried instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from chorus import clock
from chorus.domain.content import Content, ContentStatus
from chorus.domain.digest import COMPANY_SLOT, UNZONED, Wave
from chorus.domain.employee import Employee, employee_id_for
from chorus.domain.library import LibraryFilter, Window
from chorus.domain.listing import Page
from chorus.errors import Conflict, FieldProblem, InvalidInput, NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.digest_zones import DigestZoneStore
from chorus.store.reads import batch_get, listing_page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

TRANSACTION_SIZE = 25  # DynamoDB allows 100; moto and older SDKs cap at 25, and 25 meets the target
BATCH_GET_SIZE = 100
MAX_ATTEMPTS = 4
# The content listings' sort key for an item without a start: before every dated one.
UNSORTED = "0000"
# Queries one library page may take to fill itself when filters leave out most items.
LIBRARY_READS = 3


# What an upload sets only on an item it creates: an admin's retraction and an employee's
# digest opt-out are theirs to change, never an upload's.
_CREATED_DEFAULTS: dict[str, dict[str, Any]] = {
    "content": {"status": ContentStatus.ACTIVE.value},
    "employee": {"digest_opt_in": True},
}


class UpsertResult(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class _Write:
    """One entity to upsert: its key, fingerprint and the fields an upload owns."""

    key: dict[str, str]
    fingerprint: str
    fields: dict[str, Any]
    # Decides index attributes from what is stored (e.g. a retracted item leaves the listing).
    index_fields: Callable[[dict[str, Any] | None], tuple[dict[str, Any], list[str]]]
    # For a profile found erased: the write of the same row as the next generation's employee.
    successor: Callable[[dict[str, Any]], _Write] | None = None


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


class CatalogStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._digest_zones = DigestZoneStore(client, table_name)

    # ------------------------------------------------------------------ content
    @contextmanager
    def upsert_batch(self) -> Iterator[UpsertBatch]:
        """Upserts spread over many calls share write transactions; the rest is written on exit."""
        batch = UpsertBatch(self)
        yield batch
        batch.flush()

    def upsert_contents(self, contents: Sequence[Content]) -> list[UpsertResult]:
        with self.upsert_batch() as batch:
            return batch.add_contents(contents)

    def get_content(self, content_id: str) -> Content:
        item = self._get(keys.content_pk(content_id), keys.META)
        if item is None:
            raise NotFound(f"content {content_id} does not exist")
        return _content_from_item(item)

    def get_contents(self, content_ids: Sequence[str]) -> list[Content]:
        """The content items that exist among ``content_ids`` (BatchGetItem: one call per 100)."""
        wanted = [{"PK": keys.content_pk(content_id), "SK": keys.META} for content_id in content_ids]
        return [_content_from_item(item) for item in batch_get(self._client, self._table, wanted)]

    def retract_content(self, content_id: str) -> Content:
        """Idempotent: retracting twice leaves the first retraction time in place."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.content_pk(content_id), "SK": keys.META}),
                UpdateExpression=(
                    "SET #status = :retracted, retracted_at = if_not_exists(retracted_at, :now), "
                    "#version = #version + :one, GSI2PK = :retracted_listing, "
                    "GSI2SK = if_not_exists(GSI2SK, :unsorted)"
                ),
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#status": "status", "#version": "version"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":retracted": ContentStatus.RETRACTED.value,
                        ":now": _now(),
                        ":one": 1,
                        ":retracted_listing": keys.CONTENT_RETRACTED,
                        ":unsorted": f"{UNSORTED}#{content_id}",
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound(f"content {content_id} does not exist") from exc
            raise StoreError("could not retract content") from exc
        return _content_from_item(from_dynamo(response["Attributes"]))

    def list_active_content(self, limit: int, start: dict[str, Any] | None = None) -> Page[Content]:
        return listing_page(
            self._client, self._table, keys.CONTENT_ACTIVE, limit=limit, start=start, parse=_content_from_item
        )

    def library_page(
        self, wanted: LibraryFilter, now: datetime, limit: int, start: dict[str, Any] | None = None
    ) -> Page[Content]:
        """One page of the library, newest start first: a Query of the state's listing (GSI2),
        the filters applied by DynamoDB. A filtered page reads on (at most LIBRARY_READS queries)
        until it holds ``limit`` items; the next page starts after the last item shown."""
        listing = keys.CONTENT_RETRACTED if wanted.status is ContentStatus.RETRACTED else keys.CONTENT_ACTIVE
        if start is not None and start.get("GSI2PK") != listing:
            raise InvalidInput("bad page token", [FieldProblem("next", "belongs to another listing")])
        query = _library_query(self._table, listing, wanted, now, limit)
        found: list[dict[str, Any]] = []
        next_key = start
        for _read in range(LIBRARY_READS):
            if next_key:
                query["ExclusiveStartKey"] = to_dynamo(next_key)
            try:
                response = self._client.query(**query)
            except ClientError as exc:
                raise StoreError("could not read the content library") from exc
            items = [from_dynamo(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            room = limit - len(found)
            if len(items) > room:
                found.extend(items[:room])
                next_key = _listing_key(found[-1])
                break
            found.extend(items)
            next_key = from_dynamo(last) if last else None
            if next_key is None or len(found) >= limit:
                break
        return Page(items=[_content_from_item(item) for item in found], next_token=next_key)

    def _content_write(self, content: Content) -> _Write:
        fields: dict[str, Any] = {
            "entity": "content",
            "content_id": content.content_id,
            "external_id": content.external_id,
            "title": content.title,
            # What the library's search matches (DynamoDB's contains() is case-sensitive).
            "title_search": content.title.casefold(),
            "url": content.url,
            "text": content.text,
            "texts": {network.value: text for network, text in content.texts.items()},
            "image_url": content.image_url,
            "campaign": content.campaign,
            "tags": content.tags,
            "groups": content.groups,
            "starts_at": _iso(content.starts_at),
            "ends_at": _iso(content.ends_at),
            "points": content.points,
            "points_publish": content.points_publish,
            "points_click": content.points_click,
            "click_cap": content.click_cap,
        }
        listing_sort = _iso(content.starts_at) or UNSORTED

        def index_fields(stored: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
            retracted = stored is not None and stored.get("status") == ContentStatus.RETRACTED.value
            listing = keys.CONTENT_RETRACTED if retracted else keys.CONTENT_ACTIVE
            return {"GSI2PK": listing, "GSI2SK": f"{listing_sort}#{content.content_id}"}, []

        return _Write(
            key={"PK": keys.content_pk(content.content_id), "SK": keys.META},
            fingerprint=content.fingerprint(),
            fields=fields,
            index_fields=index_fields,
        )

    # ------------------------------------------------------------------ employees
    def upsert_employees(self, employees: Sequence[Employee]) -> list[UpsertResult]:
        with self.upsert_batch() as batch:
            return batch.add_employees(employees)

    def get_employee(self, employee_id: str) -> Employee:
        item = self._get(keys.employee_pk(employee_id), keys.PROFILE)
        if item is None:
            raise NotFound(f"employee {employee_id} does not exist")
        return Employee.model_validate(item)

    def employee_by_email(self, email: str) -> Employee | None:
        """The employee a roster upload of this address would update now; once they are erased
        (and nobody uploaded the address since), their tombstone. None if never uploaded."""
        root = self._get(keys.employee_pk(employee_id_for(email)), keys.PROFILE)
        if root is None or "erased_at" not in root:
            return Employee.model_validate(root) if root else None
        generation = int(root.get("generation", 1))
        current = self._get(keys.employee_pk(employee_id_for(email, generation)), keys.PROFILE)
        if current is not None:
            return Employee.model_validate(current)
        previous = self._get(keys.employee_pk(employee_id_for(email, generation - 1)), keys.PROFILE)
        return Employee.model_validate(previous) if previous else None

    def deactivate_employee(self, employee: Employee) -> bool:
        """active -> inactive, leaving the digest roster. True if this call changed it.

        The stored fingerprint becomes that of the inactive employee, so a later roster upload
        that lists them as active again reactivates them (the roster stays the source of truth).
        """
        inactive = employee.model_copy(update={"active": False})
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee.employee_id), "SK": keys.PROFILE}),
                UpdateExpression=(
                    "SET active = :no, fingerprint = :fingerprint, updated_at = :now, #version = #version + :one "
                    "REMOVE GSI2PK, GSI2SK"
                ),
                ConditionExpression="active = :yes",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues=to_dynamo(
                    {":no": False, ":yes": True, ":fingerprint": inactive.fingerprint(), ":now": _now(), ":one": 1}
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not deactivate the employee") from exc
        return True

    def active_roster_page(
        self, limit: int, start: dict[str, Any] | None = None, *, wave: Wave | None = None
    ) -> Page[Employee]:
        """One page of the sparse roster index (active employees only): no Scan on any hot path.

        With ``wave``, only its employees (the index sorts by zone, then digest slot), or with
        ``UNZONED`` those indexed before it did."""
        prefix = None
        if wave is not None:
            prefix = (
                keys.UNZONED_ROSTER_PREFIX if wave.zone == UNZONED else keys.roster_wave_prefix(wave.zone, wave.slot)
            )
        return listing_page(
            self._client,
            self._table,
            keys.ROSTER_ACTIVE,
            limit=limit,
            start=start,
            parse=Employee.model_validate,
            sort_prefix=prefix,
        )

    def set_digest_slot(self, employee: Employee, slot: str | None) -> None:
        """The employee's own digest time (None: the company's), and their roster index entry
        with it. Refused (Conflict) if the roster changed their zone or status meanwhile."""
        names = {"#slot": "digest_slot", "#version": "version", "#zone": "timezone", "#active": "active"}
        values: dict[str, Any] = {":one": 1, ":zone": employee.timezone, ":active": employee.active}
        assignments = ["#version = #version + :one"]
        removals: list[str] = []
        if slot is None:
            removals.append("#slot")
        else:
            assignments.append("#slot = :slot")
            values[":slot"] = slot
        if employee.active:
            self._digest_zones.register([employee.timezone])
            assignments.append("GSI2SK = :entry")
            values[":entry"] = keys.roster_sk(employee.timezone, slot or COMPANY_SLOT, employee.employee_id)
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee.employee_id), "SK": keys.PROFILE}),
                UpdateExpression=expression,
                ConditionExpression="#zone = :zone AND #active = :active AND attribute_not_exists(erased_at)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_dynamo(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict("your profile changed meanwhile; please try again") from exc
            raise StoreError("could not save the digest time") from exc

    def _employee_write(self, employee: Employee) -> _Write:
        fields: dict[str, Any] = {
            "entity": "employee",
            "employee_id": employee.employee_id,
            "email": employee.email,
            "name": employee.name,
            "groups": employee.groups,
            "timezone": employee.timezone,
            "locale": employee.locale,
            "active": employee.active,
            "GSI1PK": keys.email_lookup(employee.email),
            "GSI1SK": keys.PROFILE,
        }

        def index_fields(stored: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
            if employee.active:
                # The digest slot is the employee's own choice (/me): an upload keeps it.
                slot = str((stored or {}).get("digest_slot") or COMPANY_SLOT)
                entry = keys.roster_sk(employee.timezone, slot, employee.employee_id)
                return {"GSI2PK": keys.ROSTER_ACTIVE, "GSI2SK": entry}, []
            return {}, ["GSI2PK", "GSI2SK"]

        def successor(erased: dict[str, Any]) -> _Write:
            # The erased profile at the address's first id says which generation is current: the
            # row becomes that employee (a new one), never the erased one again.
            generation = int(erased.get("generation", 1))
            return self._employee_write(
                employee.model_copy(update={"employee_id": employee_id_for(employee.email, generation)})
            )

        return _Write(
            key={"PK": keys.employee_pk(employee.employee_id), "SK": keys.PROFILE},
            fingerprint=employee.fingerprint(),
            fields=fields,
            index_fields=index_fields,
            successor=successor,
        )

    # ------------------------------------------------------------------ bulk seeding
    def created_items(
        self, employees: Sequence[Employee] = (), contents: Sequence[Content] = ()
    ) -> list[dict[str, Any]]:
        """The items (DynamoDB JSON) an upload writes when it creates these employees and content
        items, for a benchmark to put a roster of 100,000 in bulk: moto copies the whole table for
        every item of a transaction, which an upload of that size never gets through."""
        writes = [self._employee_write(employee) for employee in employees]
        writes += [self._content_write(content) for content in contents]
        now = _now()
        items: list[dict[str, Any]] = []
        for write in writes:
            index_set, _ = write.index_fields(None)
            fields = {name: value for name, value in {**write.fields, **index_set}.items() if value is not None}
            item = {**write.key, **fields, "fingerprint": write.fingerprint, "created_at": now, "updated_at": now}
            item |= {"version": 1, **_CREATED_DEFAULTS.get(str(write.fields.get("entity")), {})}
            items.append(to_dynamo(item))
        return items

    # ------------------------------------------------------------------ upsert engine
    def _classify(self, writes: list[_Write]) -> tuple[list[UpsertResult], list[tuple[_Write, dict[str, Any] | None]]]:
        """One BatchGetItem: which writes are new, changed (to write) or unchanged (skipped).

        A row whose profile is erased is the next generation's employee: those rows are read
        again under that employee's key (a second BatchGetItem only when there are such rows)."""
        stored = self._read_versions([write.key for write in writes])
        successors = {
            index: write.successor(current)
            for index, write in enumerate(writes)
            if write.successor is not None
            and (current := stored.get(_key_id(write.key))) is not None
            and "erased_at" in current
        }
        if successors:
            stored.update(self._read_versions([write.key for write in successors.values()]))
            writes = [successors.get(index, write) for index, write in enumerate(writes)]
        results: list[UpsertResult] = []
        changed: list[tuple[_Write, dict[str, Any] | None]] = []
        for write in writes:
            current = stored.get(_key_id(write.key))
            if current is None:
                results.append(UpsertResult.CREATED)
                changed.append((write, None))
            elif current.get("fingerprint") == write.fingerprint:
                results.append(UpsertResult.UNCHANGED)
            else:
                results.append(UpsertResult.UPDATED)
                changed.append((write, current))
        return results, changed

    def _register_zones(self, group: list[tuple[_Write, dict[str, Any] | None]], registered: set[str]) -> None:
        """Registers the zones of the group's active employees that this upload has not yet: before
        they are indexed, so a wave never misses one; once per zone per upload, not per row."""
        zones = {
            str(write.fields["timezone"])
            for write, _ in group
            if write.fields.get("entity") == "employee" and write.fields.get("active")
        } - registered
        self._digest_zones.register(zones)
        registered.update(zones)

    def _write_transaction(self, group: list[tuple[_Write, dict[str, Any] | None]]) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        cast("TransactWriteItemTypeDef", {"Update": self._update_action(write, stored)})
                        for write, stored in group
                    ]
                )
                return
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if code != "TransactionCanceledException" or attempt == MAX_ATTEMPTS:
                    raise StoreError(f"could not write {len(group)} items ({code})") from exc
            # Someone changed an item between our read and write (or a transaction conflict):
            # read again and redo the group against what is stored now.
            time.sleep(0.05 * 2**attempt)
            fresh = self._read_versions([write.key for write, _ in group])
            group = [(write, fresh.get(_key_id(write.key))) for write, _ in group]

    def _update_action(self, write: _Write, stored: dict[str, Any] | None) -> dict[str, Any]:
        index_set, index_remove = write.index_fields(stored)
        to_set = {name: value for name, value in {**write.fields, **index_set}.items() if value is not None}
        to_remove = [name for name, value in write.fields.items() if value is None] + index_remove
        names: dict[str, str] = {}
        values: dict[str, Any] = {":fingerprint": write.fingerprint, ":now": _now(), ":zero": 0, ":one": 1}
        assignments = [
            "fingerprint = :fingerprint",
            "updated_at = :now",
            "created_at = if_not_exists(created_at, :now)",
            "#version = if_not_exists(#version, :zero) + :one",
        ]
        names["#version"] = "version"
        for index, (name, value) in enumerate(sorted(to_set.items())):
            names[f"#f{index}"] = name
            values[f":v{index}"] = value
            assignments.append(f"#f{index} = :v{index}")
        entity = write.fields.get("entity")
        for index, (name, value) in enumerate(_CREATED_DEFAULTS.get(str(entity), {}).items()):
            names[f"#d{index}"] = name
            values[f":d{index}"] = value
            assignments.append(f"#d{index} = if_not_exists(#d{index}, :d{index})")
        expression = "SET " + ", ".join(assignments)
        if to_remove:
            for index, name in enumerate(to_remove):
                names[f"#r{index}"] = name
            expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(to_remove)))
        if stored is None:
            condition = "attribute_not_exists(PK)"
        else:
            condition = "#version = :expected"
            values[":expected"] = stored.get("version", 0)
            if entity == "employee":
                # An upload never writes into an erased profile (it would bring the person back).
                condition += " AND attribute_not_exists(erased_at)"
        return {
            "TableName": self._table,
            "Key": to_dynamo(write.key),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_dynamo(values),
        }

    def _read_versions(self, item_keys: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
        items = batch_get(
            self._client,
            self._table,
            item_keys,
            projection="PK, SK, fingerprint, #version, #status, erased_at, generation, digest_slot",
            names={"#version": "version", "#status": "status"},
            consistent=True,
        )
        return {_key_id(item): item for item in items}

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(TableName=self._table, Key=to_dynamo({"PK": pk, "SK": sk}))
        except ClientError as exc:
            raise StoreError("could not read item") from exc
        item = response.get("Item")
        return from_dynamo(item) if item else None


class UpsertBatch:
    """Collects changed items across calls and writes them 25 per transaction.

    A file with few changes scattered over many rows then costs ceil(changes / 25) writes,
    not one per read group.
    """

    def __init__(self, store: CatalogStore) -> None:
        self._store = store
        self._pending: list[tuple[_Write, dict[str, Any] | None]] = []
        self._zones: set[str] = set()

    def add_contents(self, contents: Sequence[Content]) -> list[UpsertResult]:
        return self._add([self._store._content_write(content) for content in contents])

    def add_employees(self, employees: Sequence[Employee]) -> list[UpsertResult]:
        return self._add([self._store._employee_write(employee) for employee in employees])

    def _add(self, writes: list[_Write]) -> list[UpsertResult]:
        results: list[UpsertResult] = []
        for start in range(0, len(writes), BATCH_GET_SIZE):
            group_results, changed = self._store._classify(writes[start : start + BATCH_GET_SIZE])
            results.extend(group_results)
            self._pending.extend(changed)
            while len(self._pending) >= TRANSACTION_SIZE:
                self._write(self._pending[:TRANSACTION_SIZE])
                del self._pending[:TRANSACTION_SIZE]
        return results

    def flush(self) -> None:
        while self._pending:
            self._write(self._pending[:TRANSACTION_SIZE])
            del self._pending[:TRANSACTION_SIZE]

    def _write(self, group: list[tuple[_Write, dict[str, Any] | None]]) -> None:
        self._store._register_zones(group, self._zones)
        self._store._write_transaction(group)


def _key_id(key: dict[str, Any]) -> str:
    return f"{key['PK']}|{key['SK']}"


def _library_query(table: str, listing: str, wanted: LibraryFilter, now: datetime, limit: int) -> dict[str, Any]:
    now_iso = _iso(now) or ""
    values: dict[str, Any] = {":listing": listing}
    names: dict[str, str] = {}
    key_condition = "GSI2PK = :listing"
    filters: list[str] = []
    if wanted.window is Window.UPCOMING:
        key_condition += " AND GSI2SK > :after_now"
        values[":after_now"] = f"{now_iso}$"  # "$" sorts after the "#" that follows the time
    elif wanted.window is not None:
        key_condition += " AND GSI2SK < :after_now"
        values[":after_now"] = f"{now_iso}$"
        values[":now"] = now_iso
        ended = "ends_at <= :now"
        filters.append(ended if wanted.window is Window.PAST else "(attribute_not_exists(ends_at) OR ends_at > :now)")
    if wanted.search_key:
        # Items stored before the search attribute existed match on their title as written.
        filters.append("(contains(title_search, :search) OR contains(title, :raw_search))")
        values[":search"] = wanted.search_key
        values[":raw_search"] = wanted.search.strip()
    if wanted.campaign:
        filters.append("campaign = :campaign")
        values[":campaign"] = wanted.campaign
    if wanted.network is not None:
        filters.append("attribute_exists(texts.#network)")
        names["#network"] = wanted.network.value
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": "GSI2",
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeValues": to_dynamo(values),
        "ScanIndexForward": False,
        "Limit": limit if not filters else max(limit * 4, 100),
    }
    if filters:
        query["FilterExpression"] = " AND ".join(filters)
    if names:
        query["ExpressionAttributeNames"] = names
    return query


def _listing_key(item: dict[str, Any]) -> dict[str, Any]:
    """Where a GSI2 query resumes after ``item``: the index's key and the table's."""
    return {name: item[name] for name in ("PK", "SK", "GSI2PK", "GSI2SK")}


def _content_from_item(item: dict[str, Any]) -> Content:
    return Content.model_validate(item)
