"""DynamoDB access for consent: approvals, declines, digest markers and digest opt-outs.

Items live in the employee's partition (``EMP#id``) so the employee's whole state is one Query,
and one activity page is one BatchGetItem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError

from chorus import clock
from chorus.domain.approval import (
    REAPPROVABLE,
    AlreadyDecided,
    Approval,
    ApprovalStatus,
    ContentChanged,
    DailyLimitReached,
    Decline,
)
from chorus.domain.connection import Connection
from chorus.domain.content import Content, ContentStatus, Network
from chorus.domain.employee import DECIDED_PREFIX, Employee
from chorus.domain.tracking import link_code
from chorus.errors import Conflict, NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.connections import StoredConnection
from chorus.store.reads import batch_get

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PUBLISHABLE_NETWORKS = tuple(Network)


@dataclass
class ActivityState:
    employee: Employee | None
    content: Content | None
    approvals: dict[Network, Approval] = field(default_factory=dict)
    decline: Decline | None = None
    connections: dict[Network, Connection] = field(default_factory=dict)


@dataclass
class PublishState:
    approval: Approval | None = None
    content: Content | None = None
    connection: StoredConnection | None = None
    employee: Employee | None = None


@dataclass
class EmployeeState:
    employee: Employee
    leaderboard_hidden: bool = False
    approvals: list[Approval] = field(default_factory=list)
    declines: list[Decline] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class ConsentStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ------------------------------------------------------------------ digest markers
    def claim_digest(self, employee_id: str, week_id: str, expires_at: datetime) -> bool:
        """True if this call is the first to claim the employee's digest for the week."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(
                    {
                        "PK": keys.employee_pk(employee_id),
                        "SK": keys.digest_sk(week_id),
                        "entity": "digest",
                        "sent_at": _iso(clock.now()),
                        "expires_at": int(expires_at.timestamp()),
                    }
                ),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not record the digest") from exc
        return True

    def release_digest(self, employee_id: str, week_id: str) -> None:
        """Undoes a claim when sending failed, so a retry sends the digest."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.digest_sk(week_id)}),
            )
        except ClientError as exc:
            raise StoreError("could not release the digest marker") from exc

    def unsubscribe(self, employee_id: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                UpdateExpression="SET digest_opt_in = :no, unsubscribed_at = :now, #v = #v + :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues=to_dynamo({":no": False, ":now": _iso(clock.now()), ":one": 1}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise NotFound("unknown employee") from exc
            raise StoreError("could not unsubscribe") from exc

    # ------------------------------------------------------------------ reads
    def activity(self, employee_id: str, content_id: str) -> ActivityState:
        """Employee, content, approvals per network and decline: one BatchGetItem."""
        pk = keys.employee_pk(employee_id)
        wanted = [
            {"PK": pk, "SK": keys.PROFILE},
            {"PK": keys.content_pk(content_id), "SK": keys.META},
            {"PK": pk, "SK": keys.decline_sk(content_id)},
            *({"PK": pk, "SK": keys.approval_sk(content_id, network.value)} for network in PUBLISHABLE_NETWORKS),
            *({"PK": pk, "SK": keys.connection_sk(network.value)} for network in PUBLISHABLE_NETWORKS),
        ]
        state = ActivityState(employee=None, content=None)
        for item in self._batch_get(wanted):
            entity = item.get("entity")
            if entity == "employee":
                state.employee = Employee.model_validate(item)
            elif entity == "content":
                state.content = Content.model_validate(item)
            elif entity == "approval":
                approval = Approval.model_validate(item)
                state.approvals[approval.network] = approval
            elif entity == "decline":
                state.decline = Decline.model_validate(item)
            elif entity == "connection":
                connection = Connection.model_validate(item)
                state.connections[connection.network] = connection
        return state

    def employee_state(self, employee_id: str) -> EmployeeState:
        """Everything in the employee's partition: one Query (paged only past 1 MB)."""
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.employee_pk(employee_id)}),
        }
        while True:
            try:
                response = self._client.query(**request)
            except ClientError as exc:
                raise StoreError("could not read the employee") from exc
            items.extend(from_dynamo(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        profile = next((item for item in items if item.get("entity") == "employee"), None)
        if profile is None:
            raise NotFound("unknown employee")
        return EmployeeState(
            employee=Employee.model_validate(profile),
            leaderboard_hidden=bool(profile.get("leaderboard_hidden")),
            approvals=[Approval.model_validate(item) for item in items if item.get("entity") == "approval"],
            declines=[Decline.model_validate(item) for item in items if item.get("entity") == "decline"],
            connections=[Connection.model_validate(item) for item in items if item.get("entity") == "connection"],
        )

    def current_content(self, content_id: str) -> Content | None:
        """The content as stored now (strongly consistent: the approval pins this version)."""
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.content_pk(content_id), "SK": keys.META}),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise StoreError("could not read the content") from exc
        item = response.get("Item")
        return Content.model_validate(from_dynamo(item)) if item else None

    def approvals_of_content(self, content_id: str) -> list[tuple[str, str]]:
        """(employee PK, approval SK) of every approval of a content item, from the KEYS_ONLY index."""
        found: list[tuple[str, str]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.approvals_of(content_id)}),
        }
        while True:
            try:
                response = self._client.query(**request)
            except ClientError as exc:
                raise StoreError("could not list approvals") from exc
            found.extend((item["PK"]["S"], item["SK"]["S"]) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # ------------------------------------------------------------------ writes
    def record_approvals(
        self,
        approvals: list[Approval],
        previous_revisions: dict[Network, int],
        content_id: str,
        daily_limit: int = 0,
    ) -> None:
        """One transaction: every approval (new, or replacing a cancelled one), the content still
        active and still the version the approvals' snapshots were taken from (every upload
        change and retraction bumps the version), the employee still active and that version
        marked as decided for the digest."""
        if not approvals:
            raise ValueError("record_approvals needs at least one approval")
        employee_id = approvals[0].employee_id
        version = approvals[0].content_version
        if version is None or any(approval.content_version != version for approval in approvals):
            raise ValueError("record_approvals needs approvals of one content version")
        actions: list[dict[str, Any]] = []
        for approval in approvals:
            item = self._approval_item(approval)
            previous = previous_revisions.get(approval.network)
            if previous is None:
                condition, values = "attribute_not_exists(PK)", {}
            else:
                allowed = sorted(status.value for status in REAPPROVABLE)
                names = ", ".join(f":again{index}" for index in range(len(allowed)))
                condition = f"#status IN ({names}) AND revision = :previous"
                values = {":previous": previous, **{f":again{index}": value for index, value in enumerate(allowed)}}
            put: dict[str, Any] = {
                "TableName": self._table,
                "Item": to_dynamo(item),
                "ConditionExpression": condition,
            }
            if values:
                put["ExpressionAttributeNames"] = {"#status": "status"}
                put["ExpressionAttributeValues"] = to_dynamo(values)
            actions.append({"Put": put})
        actions.append(self._content_is(content_id, version))
        counters = [self._count_for_day(approval, daily_limit) for approval in approvals] if daily_limit else []
        actions.extend(counters)
        actions.append(self._mark_decided(employee_id, content_id, version))
        self._transact(
            actions, conflict=len(approvals), limits=range(len(approvals) + 1, len(approvals) + 1 + len(counters))
        )

    def record_decline(self, decline: Decline) -> None:
        """The decline of one content version (a newer version may be declined again)."""
        if decline.content_version is None:
            raise ValueError("record_decline needs the content version")
        item = {
            "PK": keys.employee_pk(decline.employee_id),
            "SK": keys.decline_sk(decline.content_id),
            "entity": "decline",
            **decline.model_dump(mode="json"),
        }
        actions = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_dynamo(item),
                    "ConditionExpression": (
                        "attribute_not_exists(PK) OR attribute_not_exists(content_version) "
                        "OR content_version < :version"
                    ),
                    "ExpressionAttributeValues": to_dynamo({":version": decline.content_version}),
                }
            },
            self._content_is(decline.content_id, decline.content_version),
            self._mark_decided(decline.employee_id, decline.content_id, decline.content_version),
        ]
        self._transact(actions, conflict=1)

    def cancel(
        self, employee_id: str, content_id: str, network: Network, now: datetime, *, reason: str | None = None
    ) -> Approval:
        """SCHEDULED -> CANCELLED; refuses once publishing has started."""
        extra = {"cancelled_at": _iso(now)}
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
            "created_at": _iso(now),
        }
        values: dict[str, Any] = {
            ":publishing": ApprovalStatus.PUBLISHING.value,
            ":scheduled": ApprovalStatus.SCHEDULED.value,
            ":revision": approval.revision,
            ":now": _iso(now),
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
        actions = [{"Update": update}, {"Put": {"TableName": self._table, "Item": to_dynamo(link)}}, employee_active]
        try:
            self._client.transact_write_items(TransactItems=cast("list[TransactWriteItemTypeDef]", actions))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"TransactionCanceledException", "ConditionalCheckFailedException"}:
                return None
            raise StoreError("could not start publishing") from exc
        return approval.model_copy(update={"status": ApprovalStatus.PUBLISHING})

    def finish(self, approval: Approval, status: ApprovalStatus, now: datetime, extra: dict[str, Any]) -> Approval:
        """PUBLISHING -> PUBLISHED / FAILED / NEEDS_RECONNECT, with what the network answered."""
        return self._transition(
            approval.employee_id,
            approval.content_id,
            approval.network,
            to=status,
            allowed_from=(ApprovalStatus.PUBLISHING,),
            extra={"finished_at": _iso(now), **extra},
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
                extra={"finished_at": _iso(now), "failure_reason": reason[:300]},
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
                        ":at": _iso(publish_at),
                        ":name": schedule_name,
                        ":attempt": approval.attempt + 1,
                        ":reason": reason,
                        ":listing": keys.SCHEDULED,
                        ":position": f"{_iso(publish_at)}#{approval.approval_id}",
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
                ExpressionAttributeValues=to_dynamo({":pk": keys.SCHEDULED, ":before": _iso(before)}),
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
                    {":to": ApprovalStatus.RETRACTED.value, ":from": ApprovalStatus.SCHEDULED.value, ":now": _iso(now)}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise StoreError("could not retract an approval") from exc
        return Approval.model_validate(from_dynamo(response["Attributes"]))

    # ------------------------------------------------------------------ helpers
    def _approval_item(self, approval: Approval) -> dict[str, Any]:
        item = {
            "PK": keys.employee_pk(approval.employee_id),
            "SK": keys.approval_sk(approval.content_id, approval.network.value),
            "entity": "approval",
            "GSI1PK": keys.approvals_of(approval.content_id),
            "GSI1SK": f"{approval.employee_id}#{approval.network.value}",
            **{name: value for name, value in approval.model_dump(mode="json").items() if value is not None},
        }
        if approval.status is ApprovalStatus.SCHEDULED:
            # Sparse listing of posts waiting to go out, by time: the sweeper finds overdue ones.
            item["GSI2PK"] = keys.SCHEDULED
            item["GSI2SK"] = f"{_iso(approval.publish_at)}#{approval.approval_id}"
        return item

    def _count_for_day(self, approval: Approval, daily_limit: int) -> dict[str, Any]:
        """One more post that day (the employee's local day) on that network, if under the limit."""
        day = approval.publish_at.astimezone(ZoneInfo(approval.timezone)).date()
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo(
                    {
                        "PK": keys.employee_pk(approval.employee_id),
                        "SK": keys.day_count_sk(approval.network.value, day.isoformat()),
                    }
                ),
                "UpdateExpression": "ADD posts :one SET expires_at = :expires, entity = :entity",
                "ConditionExpression": "attribute_not_exists(posts) OR posts < :limit",
                "ExpressionAttributeValues": to_dynamo(
                    {
                        ":one": 1,
                        ":limit": daily_limit,
                        ":entity": "day_count",
                        ":expires": int((approval.publish_at + timedelta(days=3)).timestamp()),
                    }
                ),
            }
        }

    def release_day_slot(self, approval: Approval) -> None:
        """A cancelled post frees its place in that day's count (best effort, never below zero)."""
        day = approval.publish_at.astimezone(ZoneInfo(approval.timezone)).date()
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(
                    {
                        "PK": keys.employee_pk(approval.employee_id),
                        "SK": keys.day_count_sk(approval.network.value, day.isoformat()),
                    }
                ),
                UpdateExpression="ADD posts :minus",
                ConditionExpression="posts > :zero",
                ExpressionAttributeValues=to_dynamo({":minus": -1, ":zero": 0}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StoreError("could not update the day's count") from exc

    def _content_is(self, content_id: str, version: int) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.content_pk(content_id), "SK": keys.META}),
                "ConditionExpression": "#status = :active AND #version = :version",
                "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
                "ExpressionAttributeValues": to_dynamo({":active": ContentStatus.ACTIVE.value, ":version": version}),
            }
        }

    def _mark_decided(self, employee_id: str, content_id: str, version: int) -> dict[str, Any]:
        """The version decided, in the profile's decided#<content id> attribute (overwritten by a
        later version's decision, so the profile grows by one attribute per content item)."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                "UpdateExpression": "SET #decided = :version",
                "ConditionExpression": "active = :yes",
                "ExpressionAttributeNames": {"#decided": DECIDED_PREFIX + content_id},
                "ExpressionAttributeValues": {":version": {"N": str(version)}, ":yes": {"BOOL": True}},
            }
        }

    def _transact(self, actions: list[dict[str, Any]], *, conflict: int, limits: range = range(0)) -> None:
        """Runs a transaction; the first ``conflict`` actions are the records whose existence means
        "already decided", the next is the content check (if any), ``limits`` are the daily
        counters, the last is the employee check."""
        try:
            self._client.transact_write_items(TransactItems=cast("list[TransactWriteItemTypeDef]", actions))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise StoreError("could not record the decision") from exc
            reasons = [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]
            failed = [index for index, code in enumerate(reasons) if code == "ConditionalCheckFailed"]
            if any(index < conflict for index in failed):
                raise AlreadyDecided("you already decided on this for that network") from exc
            if any(index in limits for index in failed):
                raise DailyLimitReached(
                    "you already have as many posts that day on that network as your company allows; pick another day"
                ) from exc
            if len(actions) - 1 in failed:
                raise NotFound("this employee is not active") from exc
            if failed:
                raise ContentChanged("this content was updated; review the new version") from exc
            raise StoreError("the decision could not be recorded; try again") from exc

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
