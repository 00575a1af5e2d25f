"""TransactWriteItems whose refusals are named: each action carries what its condition failing means.

DynamoDB cancels a whole transaction when one condition fails and answers one reason per action,
in the order of the actions. Rather than reading those reasons by position, every action is a
``Guarded`` holding a tag (a typed error, or any marker the store maps), and a cancelled
transaction raises ``TransactionRefused`` listing the tags whose condition failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from chorus.errors import StoreError
from chorus.store.codec import from_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

CONDITION_FAILED = "ConditionalCheckFailed"


@dataclass(frozen=True)
class Guarded[T]:
    """One action of a transaction (``{"Put": ...}``, ``{"Update": ...}``...) and what it means
    when its condition fails (None: an action without a condition, or one never refused alone)."""

    action: dict[str, Any]
    refusal: T | None = None


@dataclass(frozen=True)
class _Reason[T]:
    refusal: T | None
    code: str
    item: dict[str, Any] | None


class TransactionRefused[T](Exception):
    """DynamoDB cancelled the transaction; what each action's reason was, by its tag."""

    def __init__(self, reasons: list[_Reason[T]]) -> None:
        super().__init__(", ".join(reason.code for reason in reasons))
        self._reasons = reasons

    @property
    def codes(self) -> list[str]:
        return [reason.code for reason in self._reasons]

    def refusals(self) -> list[T]:
        """The tags of the actions whose condition failed, in the order of the actions."""
        return [
            reason.refusal for reason in self._reasons if reason.code == CONDITION_FAILED and reason.refusal is not None
        ]

    def refused(self, refusal: T) -> bool:
        return refusal in self.refusals()

    def item(self, refusal: T) -> dict[str, Any] | None:
        """The item as it was, for an action refused with ``ReturnValuesOnConditionCheckFailure``."""
        for reason in self._reasons:
            if reason.refusal == refusal and reason.code == CONDITION_FAILED:
                return reason.item
        return None


def write_transaction[T](client: DynamoDBClient, actions: Sequence[Guarded[T]], *, failure: str) -> None:
    """Runs the actions as one transaction. A cancellation raises ``TransactionRefused``; any other
    error a ``StoreError(failure)``."""
    try:
        client.transact_write_items(
            TransactItems=cast("list[TransactWriteItemTypeDef]", [guarded.action for guarded in actions])
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise StoreError(failure) from exc
        answered = cast("list[dict[str, Any]]", exc.response.get("CancellationReasons", []))
        reasons: list[_Reason[T]] = []
        for index, guarded in enumerate(actions):
            answer = answered[index] if index < len(answered) else {}
            old = answer.get("Item")
            reasons.append(
                _Reason(guarded.refusal, str(answer.get("Code") or "None"), from_dynamo(old) if old else None)
            )
        raise TransactionRefused(reasons) from exc
