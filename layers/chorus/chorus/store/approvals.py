"""DynamoDB access for an approval once recorded: cancelling it, publishing it (the SCHEDULED ->
PUBLISHING -> PUBLISHED | FAILED | NEEDS_RECONNECT | UNCONFIRMED transitions, each a conditional
write), rescheduling, retracting, and the listings the sweeper and retraction read.

Two sparse GSI2 listings hold every approval still to go out, so nothing waits unseen:
SCHEDULED by publish time, and PUBLISHING by the end of the attempt's lease (a time by which
the invocation that started it has certainly stopped). A PUBLISHING approval whose lease has
passed was left by an invocation that stopped mid-way; only its lease holder, or whoever takes
over the passed lease, may move it on (each transition out of PUBLISHING names the lease).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from chorus.domain.approval import PENDING, Approval, ApprovalStatus
from chorus.domain.connection import Connection
from chorus.domain.content import Content, Network
from chorus.domain.employee import Employee
from chorus.domain.publishing import PublishTarget, Quota
from chorus.domain.tracking import link_code
from chorus.errors import Conflict, NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, iso_seconds, to_dynamo
from chorus.store.connections import StoredConnection
from chorus.store.quotas import quota_key, quota_of
from chorus.store.reads import batch_get, query_all
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass
class PublishState:
    approval: Approval | None = None
    content: Content | None = None
    connection: StoredConnection | None = None
    employee: Employee | None = None
    # The network's allowance for the company's app, as last recorded (chorus.store.quotas).
    quota: Quota | None = None


# What the sweeper needs of a listed approval to hand it to the publisher.
_TARGET_ATTRIBUTES = {"#e": "employee_id", "#c": "content_id", "#n": "network", "#r": "revision"}


class ApprovalStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def cancel(
        self, employee_id: str, content_id: str, network: Network, now: datetime, *, reason: str | None = None
    ) -> Approval:
        """SCHEDULED or IN_REVIEW -> CANCELLED; refuses once publishing has started."""
        extra = {"cancelled_at": iso_seconds(now)}
        if reason:
            extra["cancel_reason"] = reason
        return self._transition(
            employee_id,
            content_id,
            network,
            to=ApprovalStatus.CANCELLED,
            allowed_from=tuple(sorted(PENDING)),
            extra=extra,
        )

    def publish_state(self, employee_id: str, content_id: str, network: Network) -> PublishState:
        """The approval, its content, the employee's profile and connection to the network, and
        the network's recorded quota: one BatchGetItem."""
        state = PublishState()
        pk = keys.employee_pk(employee_id)
        wanted = [
            {"PK": pk, "SK": keys.approval_sk(content_id, network.value)},
            {"PK": keys.content_pk(content_id), "SK": keys.META},
            {"PK": pk, "SK": keys.connection_sk(network.value)},
            {"PK": pk, "SK": keys.PROFILE},
            quota_key(network),
        ]
        for item in self._batch_get(wanted):
            entity = item.get("entity")
            if entity == "approval":
                state.approval = Approval.model_validate(item)
            elif entity == "content":
                state.content = Content.model_validate(item)
            elif entity == "connection":
                state.connection = StoredConnection(Connection.model_validate(item), bytes(item["tokens"]))
            elif entity == "employee":
                state.employee = Employee.model_validate(item)
            elif entity == "quota":
                state.quota = quota_of(item)
        return state

    def start_publishing(
        self, approval: Approval, now: datetime, lease_until: datetime, *, record_snapshot: bool = False
    ) -> Approval | None:
        """SCHEDULED -> PUBLISHING for this revision under a lease until ``lease_until``, and the
        post's tracked link to the snapshot's url, in one transaction (the link exists before the
        post goes out), on condition that the employee is still active. ``record_snapshot`` also
        stores the snapshot on the approval (one recorded before snapshots existed, pinned now).
        None if another invocation, a cancel or a deactivation won."""
        snapshot = approval.snapshot()
        if snapshot is None:
            raise ValueError("start_publishing needs an approval with an intact snapshot")
        code = link_code(approval.approval_id, approval.revision)
        link = {
            "PK": keys.link_pk(code),
            "SK": keys.META,
            "entity": "link",
            "code": code,
            "employee_id": approval.employee_id,
            "content_id": approval.content_id,
            "network": approval.network.value,
            "target": snapshot.link_url,
            "campaign": snapshot.campaign,
            "created_at": iso_seconds(now),
        }
        values: dict[str, Any] = {
            ":publishing": ApprovalStatus.PUBLISHING.value,
            ":scheduled": ApprovalStatus.SCHEDULED.value,
            ":revision": approval.revision,
            ":now": iso_seconds(now),
            **self._lease_listing(approval, lease_until),
        }
        sets = [
            "#status = :publishing",
            "publishing_at = :now",
            "lease_until = :lease",
            "GSI2PK = :listing",
            "GSI2SK = :position",
        ]
        if record_snapshot:
            pinned = {
                "link_url": snapshot.link_url,
                "title": snapshot.title,
                "campaign": snapshot.campaign,
                "snapshot_sha256": approval.snapshot_sha256,
                **({"image_url": snapshot.image_url} if snapshot.image_url else {}),
                **({"content_version": approval.content_version} if approval.content_version is not None else {}),
            }
            for name, value in pinned.items():
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value
        update = {
            "TableName": self._table,
            "Key": to_dynamo(
                {
                    "PK": keys.employee_pk(approval.employee_id),
                    "SK": keys.approval_sk(approval.content_id, approval.network.value),
                }
            ),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": "#status = :scheduled AND revision = :revision",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_dynamo(values),
        }
        actions: list[Guarded[None]] = [
            Guarded({"Update": update}),
            Guarded({"Put": {"TableName": self._table, "Item": to_dynamo(link)}}),
            Guarded(self._employee_active(approval.employee_id)),
        ]
        try:
            write_transaction(self._client, actions, failure="could not start publishing")
        except TransactionRefused:
            return None  # whatever was refused, this invocation does not publish
        return approval.model_copy(
            update={"status": ApprovalStatus.PUBLISHING, "publishing_at": now, "lease_until": lease_until}
        )

    def take_over(self, approval: Approval, now: datetime, lease_until: datetime) -> Approval | None:
        """A PUBLISHING approval whose lease has passed, under a new lease (one more attempt), on
        condition that the employee is still active. The first attempt's start is kept: it says
        how long ago the network may have received the post. None if the lease is not the one
        read (someone took it over first) or the employee left."""
        if approval.lease_until is None:
            raise ValueError("only a leased attempt can be taken over")
        values = {
            ":publishing": ApprovalStatus.PUBLISHING.value,
            ":revision": approval.revision,
            ":held": iso_seconds(approval.lease_until),
            ":now": iso_seconds(now),
            ":attempt": approval.attempt + 1,
            **self._lease_listing(approval, lease_until),
        }
        update = {
            "TableName": self._table,
            "Key": to_dynamo(self._key(approval)),
            "UpdateExpression": ("SET lease_until = :lease, attempt = :attempt, GSI2PK = :listing, GSI2SK = :position"),
            "ConditionExpression": (
                "#status = :publishing AND revision = :revision AND lease_until = :held AND lease_until < :now"
            ),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_dynamo(values),
        }
        actions: list[Guarded[None]] = [
            Guarded({"Update": update}),
            Guarded(self._employee_active(approval.employee_id)),
        ]
        try:
            write_transaction(self._client, actions, failure="could not take over the post")
        except TransactionRefused:
            return None
        return approval.model_copy(update={"lease_until": lease_until, "attempt": approval.attempt + 1})

    def unconfirm(self, approval: Approval, now: datetime, reason: str) -> Approval | None:
        """PUBLISHING (lease passed) -> UNCONFIRMED: the network may have the post, nothing will
        send it again. None if the lease is not the one read any more."""
        try:
            return self._transition(
                approval.employee_id,
                approval.content_id,
                approval.network,
                to=ApprovalStatus.UNCONFIRMED,
                allowed_from=(ApprovalStatus.PUBLISHING,),
                extra={"finished_at": iso_seconds(now), "failure_reason": reason[:300]},
                revision=approval.revision,
                lease_until=approval.lease_until,
            )
        except (Conflict, NotFound):
            return None

    def hold(self, approval: Approval, publish_at: datetime, schedule_name: str, reason: str) -> Approval | None:
        """SCHEDULED -> SCHEDULED later (the network's allowance is spent until then): nothing was
        sent. Conditioned on the attempt read, so of two deliveries one holds it. None otherwise."""
        return self._schedule_again(
            approval,
            publish_at,
            schedule_name,
            reason,
            condition="#status = :scheduled AND revision = :revision AND attempt = :was",
            values={":was": approval.attempt},
        )

    def finish(self, approval: Approval, status: ApprovalStatus, now: datetime, extra: dict[str, Any]) -> Approval:
        """PUBLISHING -> PUBLISHED / FAILED / NEEDS_RECONNECT, with what the network answered, by
        the holder of the attempt's lease."""
        return self._transition(
            approval.employee_id,
            approval.content_id,
            approval.network,
            to=status,
            allowed_from=(ApprovalStatus.PUBLISHING,),
            extra={"finished_at": iso_seconds(now), **extra},
            revision=approval.revision,
            lease_until=approval.lease_until,
        )

    def refuse(self, approval: Approval, now: datetime, reason: str) -> Approval | None:
        """SCHEDULED -> FAILED for this revision without publishing (its snapshot cannot be
        trusted); None if it is not scheduled any more."""
        try:
            return self._transition(
                approval.employee_id,
                approval.content_id,
                approval.network,
                to=ApprovalStatus.FAILED,
                allowed_from=(ApprovalStatus.SCHEDULED,),
                extra={"finished_at": iso_seconds(now), "failure_reason": reason[:300]},
                revision=approval.revision,
            )
        except (Conflict, NotFound):
            return None

    def reschedule(self, approval: Approval, publish_at: datetime, schedule_name: str, reason: str) -> Approval | None:
        """PUBLISHING -> SCHEDULED at a later time after a retryable failure (same consent, same
        text), by the holder of the attempt's lease."""
        condition = "#status = :publishing AND revision = :revision"
        values: dict[str, Any] = {":publishing": ApprovalStatus.PUBLISHING.value}
        if approval.lease_until is not None:
            condition += " AND lease_until = :held"
            values[":held"] = iso_seconds(approval.lease_until)
        return self._schedule_again(
            approval, publish_at, schedule_name, reason, condition=condition, values=values, leased=True
        )

    def due_pages(self, before: datetime) -> Iterator[list[PublishTarget]]:
        """SCHEDULED approvals whose time is before ``before`` (a lost or failed schedule), a
        Query page at a time, oldest first."""
        return self._listing_pages(keys.SCHEDULED, before, failure="could not list overdue posts")

    def expired_lease_pages(self, now: datetime) -> Iterator[list[PublishTarget]]:
        """PUBLISHING approvals whose lease has passed (their invocation stopped mid-way), a
        Query page at a time."""
        return self._listing_pages(keys.PUBLISHING, now, failure="could not list stalled posts")

    def _listing_pages(self, listing: str, before: datetime, *, failure: str) -> Iterator[list[PublishTarget]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK < :before",
            "ProjectionExpression": ", ".join(_TARGET_ATTRIBUTES),
            "ExpressionAttributeNames": _TARGET_ATTRIBUTES,
            "ExpressionAttributeValues": to_dynamo({":pk": listing, ":before": iso_seconds(before)}),
        }
        while True:
            try:
                response = self._client.query(**request)
            except ClientError as exc:
                raise StoreError(failure) from exc
            yield [PublishTarget.model_validate(from_dynamo(item)) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def retract_approval(self, approval: Approval, now: datetime) -> Approval | None:
        return self.retract(
            keys.employee_pk(approval.employee_id), keys.approval_sk(approval.content_id, approval.network.value), now
        )

    def retract(self, pk: str, sk: str, now: datetime) -> Approval | None:
        """SCHEDULED or IN_REVIEW -> RETRACTED for one approval of retracted content; None if it was
        not waiting to go out."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": pk, "SK": sk}),
                UpdateExpression="SET #status = :to, retracted_at = :now REMOVE GSI2PK, GSI2SK",
                ConditionExpression="#status IN (:scheduled, :in_review)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":to": ApprovalStatus.RETRACTED.value,
                        ":scheduled": ApprovalStatus.SCHEDULED.value,
                        ":in_review": ApprovalStatus.IN_REVIEW.value,
                        ":now": iso_seconds(now),
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise StoreError("could not retract an approval") from exc
        return Approval.model_validate(from_dynamo(response["Attributes"]))

    def approvals_of_content(self, content_id: str) -> list[tuple[str, str]]:
        """(employee PK, approval SK) of every approval of a content item, from the KEYS_ONLY index."""
        request = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.approvals_of(content_id)}),
        }
        items = query_all(self._client, request, failure="could not list approvals")
        return [(item["PK"]["S"], item["SK"]["S"]) for item in items]

    # ------------------------------------------------------------------ helpers
    def _key(self, approval: Approval) -> dict[str, str]:
        return {
            "PK": keys.employee_pk(approval.employee_id),
            "SK": keys.approval_sk(approval.content_id, approval.network.value),
        }

    def _employee_active(self, employee_id: str) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                "ConditionExpression": "active = :yes",
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }
        }

    @staticmethod
    def _lease_listing(approval: Approval, lease_until: datetime) -> dict[str, str]:
        lease = iso_seconds(lease_until)
        return {":lease": lease, ":listing": keys.PUBLISHING, ":position": f"{lease}#{approval.approval_id}"}

    def _schedule_again(
        self,
        approval: Approval,
        publish_at: datetime,
        schedule_name: str,
        reason: str,
        *,
        condition: str,
        values: dict[str, Any],
        leased: bool = False,
    ) -> Approval | None:
        """SCHEDULED at ``publish_at`` under a new schedule name, one attempt more, listed again."""
        removed = " REMOVE lease_until" if leased else ""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(self._key(approval)),
                UpdateExpression=(
                    "SET #status = :scheduled, publish_at = :at, schedule_name = :name, attempt = :attempt, "
                    "last_failure = :reason, GSI2PK = :listing, GSI2SK = :position" + removed
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        **values,
                        ":scheduled": ApprovalStatus.SCHEDULED.value,
                        ":revision": approval.revision,
                        ":at": iso_seconds(publish_at),
                        ":name": schedule_name,
                        ":attempt": approval.attempt + 1,
                        ":reason": reason,
                        ":listing": keys.SCHEDULED,
                        ":position": f"{iso_seconds(publish_at)}#{approval.approval_id}",
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise StoreError("could not reschedule the post") from exc
        return Approval.model_validate(from_dynamo(response["Attributes"]))

    def _transition(
        self,
        employee_id: str,
        content_id: str,
        network: Network,
        *,
        to: ApprovalStatus,
        allowed_from: tuple[ApprovalStatus, ...],
        extra: dict[str, Any],
        revision: int | None = None,
        lease_until: datetime | None = None,
    ) -> Approval:
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":to": to.value,
            **{f":x{index}": value for index, value in enumerate(extra.values())},
        }
        sets = ["#status = :to", *(f"{name} = :x{index}" for index, name in enumerate(extra))]
        allowed = []
        for index, status in enumerate(allowed_from):
            values[f":from{index}"] = status.value
            allowed.append(f":from{index}")
        condition = f"#status IN ({', '.join(allowed)})"
        if revision is not None:
            condition += " AND revision = :revision"
            values[":revision"] = revision
        if lease_until is not None:
            condition += " AND lease_until = :held"
            values[":held"] = iso_seconds(lease_until)
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.approval_sk(content_id, network.value)}),
                UpdateExpression="SET " + ", ".join(sets) + " REMOVE GSI2PK, GSI2SK",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_dynamo(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                old = cast("dict[str, Any] | None", exc.response.get("Item"))
                if not old:
                    raise NotFound("there is no such post") from exc
                current = str(from_dynamo(old).get("status", "")).lower().replace("_", " ")
                raise Conflict(f"this post is {current} and can no longer be changed") from exc
            raise StoreError("could not update the post") from exc
        return Approval.model_validate(from_dynamo(response["Attributes"]))

    def _batch_get(self, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
        return batch_get(self._client, self._table, wanted)
