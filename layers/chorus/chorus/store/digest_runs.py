"""The digest run of each week (``DIGESTRUN#<week> / META``): requests, planning and send counters,
and the claim of each planned roster page (``DIGESTRUN#<week> / PAGE#<run>#<page>``).

A request adds one to ``requests``; each roster page, once planned, adds its counts in the same
transaction that marks the page done, so a page planned twice (a redelivered message) is counted
once. Each sender adds its counts once per batch, never reading the per-employee markers. ADD is
atomic: concurrent planners and senders never lose a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.digest import DigestRun, PageClaim, PageCounts, RunWeek
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.reads import batch_get
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _run(week_id: str, values: dict[str, Any]) -> DigestRun:

    def moment(name: str) -> datetime | None:
        text = values.get(name)
        return datetime.fromisoformat(str(text)).astimezone(UTC) if text else None

    def number(name: str) -> int:
        return int(values.get(name, 0))

    return DigestRun(
        week_id=week_id,
        requests=number("requests"),
        pages=number("pages"),
        employees=number("employees"),
        unsubscribed=number("unsubscribed"),
        nothing_to_share=number("nothing_to_share"),
        runs_planned=number("runs_planned"),
        waves=frozenset(str(zone) for zone in values.get("waves", ())),
        queued=number("queued"),
        sent=number("sent"),
        already_sent=number("already_sent"),
        failed=number("failed"),
        bounced=number("bounced"),
        complained=number("complained"),
        unsubscribes=number("unsubscribes"),
        first_requested_at=moment("first_requested_at"),
        last_requested_at=moment("last_requested_at"),
    )


def run_counter(table: str, week: RunWeek, counter: str) -> Guarded[str]:
    """A transaction's action adding one to a counter of the week's run: the same transaction
    records what is counted, so an event handled twice counts once."""
    return Guarded(
        {
            "Update": {
                "TableName": table,
                "Key": to_dynamo({"PK": keys.digest_run_pk(week.week_id), "SK": keys.META}),
                "UpdateExpression": (
                    "ADD #counter :one SET entity = :entity, expires_at = if_not_exists(expires_at, :expires)"
                ),
                "ExpressionAttributeNames": {"#counter": counter},
                "ExpressionAttributeValues": to_dynamo(
                    {":one": 1, ":entity": "digest_run", ":expires": int(week.expires_at.timestamp())}
                ),
            }
        }
    )


class DigestRunStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _key(self, week_id: str) -> dict[str, Any]:
        return to_dynamo({"PK": keys.digest_run_pk(week_id), "SK": keys.META})

    def _page_key(self, week_id: str, run_id: str, page: int) -> dict[str, Any]:
        return to_dynamo({"PK": keys.digest_run_pk(week_id), "SK": keys.digest_page_sk(run_id, page)})

    def record_request(self, week_id: str, now: datetime, expires_at: datetime) -> DigestRun:
        """Counts one request to send the week's digest; returns the run as it stands after it."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(week_id),
                UpdateExpression=(
                    "ADD requests :one "
                    "SET entity = :entity, last_requested_at = :now, expires_at = :expires, "
                    "first_requested_at = if_not_exists(first_requested_at, :now)"
                ),
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":one": 1,
                        ":entity": "digest_run",
                        ":now": now.isoformat(),
                        ":expires": int(expires_at.timestamp()),
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            raise StoreError("could not record the digest run") from exc
        return _run(week_id, from_dynamo(response.get("Attributes", {})))

    def record_waves(self, week_id: str, waves: list[str], expires_at: datetime) -> None:
        """Adds the waves started ("<zone> <slot>"; a set: a retried tick adds nothing)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(week_id),
                UpdateExpression=(
                    "ADD waves :waves SET entity = :entity, expires_at = if_not_exists(expires_at, :expires)"
                ),
                ExpressionAttributeValues={
                    ":waves": {"SS": waves},
                    ":entity": {"S": "digest_run"},
                    ":expires": {"N": str(int(expires_at.timestamp()))},
                },
            )
        except ClientError as exc:
            raise StoreError("could not record the digest waves") from exc

    def claim_page(
        self,
        week_id: str,
        run_id: str,
        page: int,
        *,
        owner: str,
        stale_before: datetime,
        now: datetime,
        expires_at: datetime,
    ) -> PageClaim:
        """Claims a roster page for the message ``owner`` (its SQS message id, the same on every
        redelivery). A claim older than ``stale_before`` passes to whoever asks: a message that
        went to the dead-letter queue does not hold its page for ever."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._page_key(week_id, run_id, page),
                UpdateExpression="SET #owner = :owner, claimed_at = :now, entity = :entity, expires_at = :expires",
                ConditionExpression=(
                    "attribute_not_exists(done_at) AND "
                    "(attribute_not_exists(#owner) OR #owner = :owner OR claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":owner": owner,
                        ":now": now.isoformat(),
                        ":stale": stale_before.isoformat(),
                        ":entity": "digest_page",
                        ":expires": int(expires_at.timestamp()),
                    }
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StoreError("could not claim the roster page") from exc
        else:
            return PageClaim.CLAIMED
        # Refused: only a duplicate or a redelivery after success gets here, so the read is rare.
        try:
            response = self._client.get_item(
                TableName=self._table, Key=self._page_key(week_id, run_id, page), ConsistentRead=True
            )
        except ClientError as exc:
            raise StoreError("could not read the roster page claim") from exc
        return PageClaim.DONE if "done_at" in response.get("Item", {}) else PageClaim.TAKEN

    def finish_page(
        self, week_id: str, run_id: str, page: int, counts: PageCounts, *, owner: str, now: datetime
    ) -> bool:
        """Marks the page done and adds its counts to the week's run, in one transaction: False
        (and nothing counted) when the page was already done."""
        added = "ADD pages :one, employees :employees, queued :queued, unsubscribed :unsubscribed, "
        added += "nothing_to_share :nothing" + (", runs_planned :one" if counts.last else "")
        actions = [
            Guarded(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._page_key(week_id, run_id, page),
                        "UpdateExpression": "SET done_at = :now",
                        "ConditionExpression": "attribute_not_exists(done_at) AND #owner = :owner",
                        "ExpressionAttributeNames": {"#owner": "owner"},
                        "ExpressionAttributeValues": to_dynamo({":now": now.isoformat(), ":owner": owner}),
                    }
                },
                "done",
            ),
            Guarded(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._key(week_id),
                        "UpdateExpression": added + " SET entity = :entity",
                        "ExpressionAttributeValues": to_dynamo(
                            {
                                ":one": 1,
                                ":employees": counts.employees,
                                ":queued": counts.recipients,
                                ":unsubscribed": counts.unsubscribed,
                                ":nothing": counts.nothing_to_share,
                                ":entity": "digest_run",
                            }
                        ),
                    }
                }
            ),
        ]
        try:
            write_transaction(self._client, actions, failure="could not count the planned roster page")
        except TransactionRefused as refused:
            if refused.refused("done"):
                return False
            raise StoreError(f"could not count the planned roster page ({', '.join(refused.codes)})") from refused
        return True

    def record_sends(self, week_id: str, *, sent: int, already_sent: int, failed: int, expires_at: datetime) -> None:
        """Adds one batch's counts (one write per batch, whatever its size)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(week_id),
                UpdateExpression=(
                    "ADD sent :sent, already_sent :already, failed :failed "
                    "SET entity = :entity, expires_at = if_not_exists(expires_at, :expires)"
                ),
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":sent": sent,
                        ":already": already_sent,
                        ":failed": failed,
                        ":entity": "digest_run",
                        ":expires": int(expires_at.timestamp()),
                    }
                ),
            )
        except ClientError as exc:
            raise StoreError("could not count the digest batch") from exc

    def run(self, week_id: str) -> DigestRun:
        """The week's run; all zeros when nobody asked for that week's digest."""
        try:
            response = self._client.get_item(TableName=self._table, Key=self._key(week_id), ConsistentRead=True)
        except ClientError as exc:
            raise StoreError("could not read the digest run") from exc
        return _run(week_id, from_dynamo(response.get("Item", {})))

    def runs(self, week_ids: Sequence[str]) -> list[DigestRun]:
        """The runs of these weeks that exist (one BatchGetItem per 100 weeks)."""
        wanted = [{"PK": keys.digest_run_pk(week_id), "SK": keys.META} for week_id in week_ids]
        return [
            _run(str(item["PK"]).removeprefix(keys.digest_run_pk("")), item)
            for item in batch_get(self._client, self._table, wanted)
        ]
