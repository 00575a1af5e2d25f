"""DynamoDB access for an approval once recorded: cancelling it, publishing it (the SCHEDULED ->
PUBLISHING -> PUBLISHED | FAILED | NEEDS_RECONNECT transitions, each a conditional write),
rescheduling, retracting, and the listings the sweeper and retraction read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from chorus.domain.approval import Approval, ApprovalStatus
from chorus.domain.connection import Connection
from chorus.domain.content import Content, Network
from chorus.domain.employee import Employee
from chorus.domain.tracking import link_code
from chorus.errors import Conflict, NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, iso_seconds, to_dynamo
from chorus.store.connections import StoredConnection
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


class ApprovalStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def cancel(
        self, employee_id: str, content_id: str, network: Network, now: datetime, *, reason: str | None = None
    ) -> Approval:
        """SCHEDULED -> CANCELLED; refuses once publishing has started."""
        extra = {"cancelled_at": iso_seconds(now)}
        if reason:
            extra["cancel_reason"] = reason
        return self._transition(
            employee_id,
            content_id,
            network,
            to=ApprovalStatus.CANCELLED,
            allowed_from=(ApprovalStatus.SCHEDULED,),
            extra=extra,
        )

    def publish_state(self, employee_id: str, content_id: str, network: Network) -> PublishState:
        """The approval, its content, the employee's profile and connection to the network: one
        BatchGetItem."""
        state = PublishState()
        pk = keys.employee_pk(employee_id)
        wanted = [
            {"PK": pk, "SK": keys.approval_sk(content_id, network.value)},
            {"PK": keys.content_pk(content_id), "SK": keys.META},
            {"PK": pk, "SK": keys.connection_sk(network.value)},
            {"PK": pk, "SK": keys.PROFILE},
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
        return state

    def start_publishing(self, approval: Approval, now: datetime, *, record_snapshot: bool = False) -> Approval | None:
        """SCHEDULED -> PUBLISHING for this revision, and the post's tracked link to the
        snapshot's url, in one transaction (the link exists before the post goes out), on
        condition that the employee is still active. ``record_snapshot`` also stores the snapshot
        on the approval (one recorded before snapshots existed, pinned now). None if another
        invocation, a cancel or a deactivation won."""
        snapshot = approval.snapshot()
        if snapshot is None:
            raise ValueError("start_publishing needs an approval with an intact snapshot")
        code = link_code(approval.approval_id)
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
        }
        sets = ["#status = :publishing", "publishing_at = :now"]
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
            "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE GSI2PK, GSI2SK",
            "ConditionExpression": "#status = :scheduled AND revision = :revision",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_dynamo(values),
        }
        employee_active = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(approval.employee_id), "SK": keys.PROFILE}),
                "ConditionExpression": "active = :yes",
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }
        }
        actions: list[Guarded[None]] = [
            Guarded({"Update": update}),
            Guarded({"Put": {"TableName": self._table, "Item": to_dynamo(link)}}),
            Guarded(employee_active),
        ]
        try:
            write_transaction(self._client, actions, failure="could not start publishing")
        except TransactionRefused:
            return None  # whatever was refused, this invocation does not publish
        return approval.model_copy(update={"status": ApprovalStatus.PUBLISHING})

    def finish(self, approval: Approval, status: ApprovalStatus, now: datetime, extra: dict[str, Any]) -> Approval:
        """PUBLISHING -> PUBLISHED / FAILED / NEEDS_RECONNECT, with what the network answered."""
        return self._transition(
            approval.employee_id,
            approval.content_id,
            approval.network,
            to=status,
            allowed_from=(ApprovalStatus.PUBLISHING,),
            extra={"finished_at": iso_seconds(now), **extra},
            revision=approval.revision,
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
        """PUBLISHING -> SCHEDULED at a later time after a retryable failure (same consent, same text)."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(
                    {
                        "PK": keys.employee_pk(approval.employee_id),
                        "SK": keys.approval_sk(approval.content_id, approval.network.value),
                    }
                ),
                UpdateExpression=(
                    "SET #status = :scheduled, publish_at = :at, schedule_name = :name, attempt = :attempt, "
                    "last_failure = :reason, GSI2PK = :listing, GSI2SK = :position"
                ),
                ConditionExpression="#status = :publishing AND revision = :revision",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":scheduled": ApprovalStatus.SCHEDULED.value,
                        ":publishing": ApprovalStatus.PUBLISHING.value,
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

    def overdue(self, before: datetime, limit: int = 100) -> list[Approval]:
        """SCHEDULED posts whose time passed (a lost or failed schedule): one Query on the listing."""
        try:
            response = self._client.query(
                TableName=self._table,
                IndexName="GSI2",
                KeyConditionExpression="GSI2PK = :pk AND GSI2SK < :before",
                ExpressionAttributeValues=to_dynamo({":pk": keys.SCHEDULED, ":before": iso_seconds(before)}),
                Limit=limit,
            )
        except ClientError as exc:
            raise StoreError("could not list overdue posts") from exc
        return [Approval.model_validate(from_dynamo(item)) for item in response.get("Items", [])]

    def retract_approval(self, approval: Approval, now: datetime) -> Approval | None:
        return self.retract(
            keys.employee_pk(approval.employee_id), keys.approval_sk(approval.content_id, approval.network.value), now
        )

    def retract(self, pk: str, sk: str, now: datetime) -> Approval | None:
        """SCHEDULED -> RETRACTED for one approval of retracted content; None if it was not scheduled."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": pk, "SK": sk}),
                UpdateExpression="SET #status = :to, retracted_at = :now REMOVE GSI2PK, GSI2SK",
                ConditionExpression="#status = :from",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":to": ApprovalStatus.RETRACTED.value,
                        ":from": ApprovalStatus.SCHEDULED.value,
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
