"""DynamoDB access for an employee's decisions: approvals and declines as they are recorded,
the company's daily caps, and the reads the consent pages make.

Items live in the employee's partition (``EMP#id``) so the employee's whole state is one Query,
and one activity page is one BatchGetItem. Recording a decision is one transaction whose every
action names the error its condition failing means (``chorus.store.transactions``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError

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
from chorus.domain.employee import Employee, decision_entry, decision_set, ended_decision_sets
from chorus.domain.networks import networks
from chorus.errors import ChorusError, NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, iso_seconds, to_dynamo
from chorus.store.reads import batch_get, query_all
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# What each action of a decision means when its condition fails.
type Refusal = Callable[[], ChorusError]
_ALREADY_DECIDED: Refusal = partial(AlreadyDecided, "you already decided on this for that network")
_LIMIT: Refusal = partial(
    DailyLimitReached,
    "you already have as many posts that day on that network as your company allows; pick another day",
)
_INACTIVE: Refusal = partial(NotFound, "this employee is not active")
_CHANGED: Refusal = partial(ContentChanged, "this content was updated; review the new version")


@dataclass
class ActivityState:
    employee: Employee | None
    content: Content | None
    approvals: dict[Network, Approval] = field(default_factory=dict)
    decline: Decline | None = None
    connections: dict[Network, Connection] = field(default_factory=dict)


@dataclass
class EmployeeState:
    employee: Employee
    leaderboard_hidden: bool = False
    approvals: list[Approval] = field(default_factory=list)
    declines: list[Decline] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)


class DecisionStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ------------------------------------------------------------------ reads
    def activity(self, employee_id: str, content_id: str) -> ActivityState:
        """Employee, content, approvals per network and decline: one BatchGetItem."""
        pk = keys.employee_pk(employee_id)
        wanted = [
            {"PK": pk, "SK": keys.PROFILE},
            {"PK": keys.content_pk(content_id), "SK": keys.META},
            {"PK": pk, "SK": keys.decline_sk(content_id)},
            *({"PK": pk, "SK": keys.approval_sk(content_id, network.value)} for network in networks()),
            *({"PK": pk, "SK": keys.connection_sk(network.value)} for network in networks()),
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
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.employee_pk(employee_id)}),
        }
        items = [from_dynamo(item) for item in query_all(self._client, request, failure="could not read the employee")]
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

    def content_and_servers(
        self, content_id: str, employee_id: str, networks: list[Network]
    ) -> tuple[Content | None, dict[Network, str]]:
        """The content as stored now and the employee's server on each of ``networks`` they are
        connected to: one strongly consistent BatchGetItem (an approval for Mastodon needs the
        server's limit, and so the server, in the same read as the version it pins)."""
        pk = keys.employee_pk(employee_id)
        wanted = [{"PK": keys.content_pk(content_id), "SK": keys.META}]
        wanted += [{"PK": pk, "SK": keys.connection_sk(network.value)} for network in networks]
        content: Content | None = None
        servers: dict[Network, str] = {}
        for item in batch_get(self._client, self._table, wanted, consistent=True):
            if item.get("entity") == "content":
                content = Content.model_validate(item)
            elif item.get("entity") == "connection":
                connection = Connection.model_validate(item)
                if connection.instance_url:
                    servers[connection.network] = connection.instance_url
        return content, servers

    def content_servers_and_employee(
        self, content_id: str, employee_id: str, networks: list[Network]
    ) -> tuple[Content | None, dict[Network, str], Employee | None]:
        """As ``content_and_servers``, with the employee's profile in the same BatchGetItem (a
        compliance review compares the text with what was offered in the employee's language)."""
        pk = keys.employee_pk(employee_id)
        wanted = [{"PK": keys.content_pk(content_id), "SK": keys.META}, {"PK": pk, "SK": keys.PROFILE}]
        wanted += [{"PK": pk, "SK": keys.connection_sk(network.value)} for network in networks]
        content: Content | None = None
        employee: Employee | None = None
        servers: dict[Network, str] = {}
        for item in batch_get(self._client, self._table, wanted, consistent=True):
            entity = item.get("entity")
            if entity == "content":
                content = Content.model_validate(item)
            elif entity == "employee":
                employee = Employee.model_validate(item)
            elif entity == "connection":
                connection = Connection.model_validate(item)
                if connection.instance_url:
                    servers[connection.network] = connection.instance_url
        return content, servers, employee

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

    # ------------------------------------------------------------------ writes
    def record_approvals(
        self,
        approvals: list[Approval],
        previous_revisions: dict[Network, int],
        content_id: str,
        daily_limit: int = 0,
        *,
        content_ends_at: datetime | None,
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
        actions: list[Guarded[Refusal]] = []
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
            actions.append(Guarded({"Put": put}, _ALREADY_DECIDED))
            actions.append(Guarded(self._ledger_pointer(item["PK"], item["SK"], approval.approved_at)))
        if daily_limit:
            actions.extend(Guarded(self._count_for_day(approval, daily_limit), _LIMIT) for approval in approvals)
        decided = self._mark_decided(employee_id, content_id, version, content_ends_at, approvals[0].approved_at)
        actions.append(Guarded(decided, _INACTIVE))
        actions.append(Guarded(self._content_is(content_id, version), _CHANGED))
        self._decide(actions)

    def record_decline(self, decline: Decline, *, content_ends_at: datetime | None) -> None:
        """The decline of one content version (a newer version may be declined again)."""
        if decline.content_version is None:
            raise ValueError("record_decline needs the content version")
        item = {
            "PK": keys.employee_pk(decline.employee_id),
            "SK": keys.decline_sk(decline.content_id),
            "entity": "decline",
            **decline.model_dump(mode="json"),
        }
        decline_put = {
            "Put": {
                "TableName": self._table,
                "Item": to_dynamo(item),
                "ConditionExpression": (
                    "attribute_not_exists(PK) OR attribute_not_exists(content_version) OR content_version < :version"
                ),
                "ExpressionAttributeValues": to_dynamo({":version": decline.content_version}),
            }
        }
        self._decide(
            [
                Guarded(decline_put, _ALREADY_DECIDED),
                Guarded(self._ledger_pointer(item["PK"], item["SK"], decline.declined_at)),
                Guarded(
                    self._mark_decided(
                        decline.employee_id,
                        decline.content_id,
                        decline.content_version,
                        content_ends_at,
                        decline.declined_at,
                    ),
                    _INACTIVE,
                ),
                Guarded(self._content_is(decline.content_id, decline.content_version), _CHANGED),
            ]
        )

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
            item["GSI2SK"] = f"{iso_seconds(approval.publish_at)}#{approval.approval_id}"
        elif approval.status is ApprovalStatus.IN_REVIEW:
            # The review queue, oldest first; never on the SCHEDULED listing, so never swept.
            item["GSI2PK"] = keys.REVIEW
            item["GSI2SK"] = f"{iso_seconds(approval.approved_at)}#{approval.approval_id}"
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

    def _ledger_pointer(self, pk: str, sk: str, decided_at: datetime) -> dict[str, Any]:
        """Where the retention job finds this record once it is old enough to pseudonymise."""
        day = decided_at.astimezone(UTC).date().isoformat()
        pointer = {"PK": keys.ledger_day_pk(day), "SK": keys.ledger_pointer_sk(pk, sk), "entity": "ledger_pointer"}
        return {"Put": {"TableName": self._table, "Item": to_dynamo(pointer)}}

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

    def _mark_decided(
        self, employee_id: str, content_id: str, version: int, content_ends_at: datetime | None, decided_at: datetime
    ) -> dict[str, Any]:
        """The version decided, added to the profile's set of the month the content ends; the sets
        of content that ended before last month are removed in the same update, so the profile
        stays bounded (chorus.domain.employee.PROFILE_SIZE_BOUND)."""
        target = decision_set(content_ends_at, decided_at)
        ended = [name for name in ended_decision_sets(decided_at) if name != target]
        names = {"#decided": target, **{f"#ended{index}": name for index, name in enumerate(ended)}}
        expression = "ADD #decided :entry"
        if ended:
            expression += " REMOVE " + ", ".join(f"#ended{index}" for index in range(len(ended)))
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                "UpdateExpression": expression,
                "ConditionExpression": "active = :yes",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {
                    ":entry": {"SS": [decision_entry(content_id, version)]},
                    ":yes": {"BOOL": True},
                },
            }
        }

    def _decide(self, actions: list[Guarded[Refusal]]) -> None:
        """Records a decision. When several conditions fail, the error of the first such action
        is told: actions are listed in the order their errors matter to the employee."""
        try:
            write_transaction(self._client, actions, failure="could not record the decision")
        except TransactionRefused as refused:
            reasons = refused.refusals()
            if reasons:
                raise reasons[0]() from refused
            raise StoreError("the decision could not be recorded; try again") from refused

    def _batch_get(self, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
        return batch_get(self._client, self._table, wanted)
