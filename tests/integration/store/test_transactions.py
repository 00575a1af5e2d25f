"""Transactions whose refusals are named by the action they guard, not by its position."""

from __future__ import annotations

from enum import Enum

import pytest

from chorus.errors import StoreError
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction
from tests.conftest import TABLE


class Tag(Enum):
    FIRST = "first"
    SECOND = "second"
    THIRD = "third"


def _put(sk: str, *, exists: bool = False) -> dict:
    return {
        "Put": {
            "TableName": TABLE,
            "Item": {"PK": {"S": "T#1"}, "SK": {"S": sk}, "n": {"N": "1"}},
            "ConditionExpression": "attribute_exists(PK)" if exists else "attribute_not_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


@pytest.fixture
def dynamodb(aws):
    client = aws["dynamodb"]
    client.put_item(TableName=TABLE, Item={"PK": {"S": "T#1"}, "SK": {"S": "taken"}, "n": {"N": "7"}})
    client.put_item(TableName=TABLE, Item={"PK": {"S": "T#1"}, "SK": {"S": "also taken"}, "n": {"N": "8"}})
    return client


def test_a_transaction_whose_conditions_hold_writes_every_action(dynamodb):
    write_transaction(dynamodb, [Guarded(_put("a"), Tag.FIRST), Guarded(_put("b"), Tag.SECOND)], failure="nope")

    items = dynamodb.query(
        TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "T#1"}}
    )["Items"]
    assert sorted(item["SK"]["S"] for item in items) == ["a", "also taken", "b", "taken"]


def test_the_refused_actions_are_told_by_their_tags_in_the_order_of_the_actions(dynamodb):
    # Given two refused conditions (both items exist) around one that holds
    actions = [
        Guarded(_put("taken"), Tag.FIRST),
        Guarded(_put("free"), Tag.SECOND),
        Guarded(_put("also taken"), Tag.THIRD),
    ]

    with pytest.raises(TransactionRefused) as refused:
        write_transaction(dynamodb, actions, failure="nope")

    assert refused.value.refusals() == [Tag.FIRST, Tag.THIRD]
    assert refused.value.refused(Tag.THIRD) and not refused.value.refused(Tag.SECOND)
    # What the refused item held, as plain values
    assert refused.value.item(Tag.FIRST) == {"PK": "T#1", "SK": "taken", "n": 7}
    # And nothing was written
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": "T#1"}, "SK": {"S": "free"}})


def test_an_untagged_refusal_is_a_cancellation_without_a_named_reason(dynamodb):
    with pytest.raises(TransactionRefused) as refused:
        write_transaction(dynamodb, [Guarded(_put("taken"))], failure="nope")

    assert refused.value.refusals() == []
    assert refused.value.codes == ["ConditionalCheckFailed"]


def test_a_request_dynamodb_rejects_outright_is_a_store_error(dynamodb):
    with pytest.raises(StoreError, match="could not write"):
        missing_table = {"Put": {**_put("x")["Put"], "TableName": "no-such-table"}}
        write_transaction(dynamodb, [Guarded(missing_table)], failure="could not write")
