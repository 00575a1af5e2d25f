"""DynamoDB access for the compliance review (ReviewEditedPosts): the queue of approvals waiting
for a reviewer, and the reviewer's decision recorded on the approval itself, so the consent ledger
holds both (the employee's approval, then who reviewed it, when, the outcome and the note).

The queue is a sparse GSI2 listing (``REVIEW``, by the time the employee approved): an approval
is on it only while IN_REVIEW. Every decision is conditioned on the approval being IN_REVIEW at
the revision the reviewer saw, so a decision submitted twice acts once, and a cancelled,
retracted or withdrawn approval is never scheduled by a late review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.approval import Approval, ApprovalStatus
from chorus.domain.content import Content, ContentStatus, Network
from chorus.domain.employee import Employee
from chorus.domain.listing import Page
from chorus.domain.review import Reviewer, ReviewOutcome, ReviewRefusal
from chorus.errors import StoreError
from chorus.store import keys
from chorus.store.codec import iso_seconds, to_dynamo
from chorus.store.reads import batch_get, listing_page
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass
class ReviewState:
    approval: Approval | None = None
    content: Content | None = None
    employee: Employee | None = None


class ReviewStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def queue(self, limit: int, start: dict[str, Any] | None) -> Page[Approval]:
        """One page of the approvals waiting for review, oldest first: one Query."""
        return listing_page(
            self._client, self._table, keys.REVIEW, limit=limit, start=start, parse=Approval.model_validate
        )

    def decision_state(self, employee_id: str, content_id: str, network: Network) -> ReviewState:
        """The approval, its content and the employee as stored now: one strongly consistent
        BatchGetItem (a decision acts on what is there)."""
        pk = keys.employee_pk(employee_id)
        wanted = [
            self._key(employee_id, content_id, network),
            {"PK": keys.content_pk(content_id), "SK": keys.META},
            {"PK": pk, "SK": keys.PROFILE},
        ]
        state = ReviewState()
        for item in batch_get(self._client, self._table, wanted, consistent=True):
            entity = item.get("entity")
            if entity == "approval":
                state.approval = Approval.model_validate(item)
            elif entity == "content":
                state.content = Content.model_validate(item)
            elif entity == "employee":
                state.employee = Employee.model_validate(item)
        return state

    def approve(
        self, approval: Approval, reviewer: Reviewer, now: datetime, publish_at: datetime, schedule_name: str
    ) -> ReviewRefusal | None:
        """IN_REVIEW -> SCHEDULED at ``publish_at``, listed for the sweeper, in one transaction
        with: the employee still active, and the content still active at the version the snapshot
        was taken from. Nothing of the snapshot is written: the post is the employee's approval.
        The reason when refused (None: scheduled)."""
        update = {
            "TableName": self._table,
            "Key": to_dynamo(self._key(approval.employee_id, approval.content_id, approval.network)),
            "UpdateExpression": (
                "SET #status = :scheduled, publish_at = :at, schedule_name = :name, GSI2PK = :listing, "
                "GSI2SK = :position, " + _REVIEW_FIELDS
            ),
            "ConditionExpression": "#status = :in_review AND revision = :revision",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_dynamo(
                {
                    ":scheduled": ApprovalStatus.SCHEDULED.value,
                    ":in_review": ApprovalStatus.IN_REVIEW.value,
                    ":revision": approval.revision,
                    ":at": iso_seconds(publish_at),
                    ":name": schedule_name,
                    ":listing": keys.SCHEDULED,
                    ":position": f"{iso_seconds(publish_at)}#{approval.approval_id}",
                    **_review_values(reviewer, now, ReviewOutcome.APPROVED, ""),
                }
            ),
        }
        version = approval.content_version
        content_check = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.content_pk(approval.content_id), "SK": keys.META}),
                "ConditionExpression": "#status = :active AND #version = :version",
                "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
                "ExpressionAttributeValues": to_dynamo(
                    {":active": ContentStatus.ACTIVE.value, ":version": -1 if version is None else version}
                ),
            }
        }
        employee_check = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(approval.employee_id), "SK": keys.PROFILE}),
                "ConditionExpression": "active = :yes",
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }
        }
        actions: list[Guarded[ReviewRefusal]] = [
            Guarded({"Update": update}, ReviewRefusal.NOT_IN_REVIEW),
            Guarded(employee_check, ReviewRefusal.EMPLOYEE_INACTIVE),
            Guarded(content_check, ReviewRefusal.CONTENT_CHANGED),
        ]
        try:
            write_transaction(self._client, actions, failure="could not record the review")
        except TransactionRefused as refused:
            reasons: list[ReviewRefusal] = refused.refusals()
            if not reasons:
                raise StoreError("the review could not be recorded; try again") from refused
            return reasons[0]
        return None

    def close(
        self,
        approval: Approval,
        reviewer: Reviewer,
        now: datetime,
        outcome: ReviewOutcome,
        note: str,
    ) -> bool:
        """IN_REVIEW -> REJECTED (the reviewer rejected it) or CANCELLED (it lapsed), off the queue,
        never scheduled. False if it was not IN_REVIEW at that revision any more."""
        status = ApprovalStatus.REJECTED if outcome is ReviewOutcome.REJECTED else ApprovalStatus.CANCELLED
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(self._key(approval.employee_id, approval.content_id, approval.network)),
                UpdateExpression="SET #status = :to, " + _REVIEW_FIELDS + " REMOVE GSI2PK, GSI2SK",
                ConditionExpression="#status = :in_review AND revision = :revision",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":to": status.value,
                        ":in_review": ApprovalStatus.IN_REVIEW.value,
                        ":revision": approval.revision,
                        **_review_values(reviewer, now, outcome, note),
                    }
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StoreError("could not record the review") from exc
        return True

    @staticmethod
    def _key(employee_id: str, content_id: str, network: Network) -> dict[str, str]:
        return {"PK": keys.employee_pk(employee_id), "SK": keys.approval_sk(content_id, network.value)}


_REVIEW_FIELDS = (
    "reviewed_at = :reviewed_at, reviewer_subject = :reviewer_subject, reviewer_name = :reviewer_name, "
    "review_outcome = :review_outcome, review_note = :review_note"
)


def _review_values(reviewer: Reviewer, now: datetime, outcome: ReviewOutcome, note: str) -> dict[str, Any]:
    return {
        ":reviewed_at": iso_seconds(now),
        ":reviewer_subject": reviewer.subject,
        ":reviewer_name": reviewer.name,
        ":review_outcome": outcome.value,
        ":review_note": note,
    }
