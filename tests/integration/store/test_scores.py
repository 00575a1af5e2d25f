"""Leaderboard visibility racing an erasure: a score deleted in between is not brought back."""

from __future__ import annotations

from typing import Any

from chorus.store import keys
from chorus.store.scores import ScoreStore
from tests.conftest import TABLE
from tests.support.seed import employee_id, seed

ADA = "ada@example.com"


class DeletesBeforeEachUpdate:
    """A client whose every score update finds its item just deleted (an erasure in between)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **request: Any) -> Any:
        if request["Key"]["SK"]["S"].startswith("SCORE#"):
            self._client.delete_item(TableName=request["TableName"], Key=request["Key"])
        return self._client.update_item(**request)


def test_showing_again_does_not_recreate_a_score_deleted_meanwhile(aws):
    # Given an employee with a score on this month's board
    seed(aws, [], [{"email": ADA, "name": "Ada"}])
    who = employee_id(ADA)
    sk = keys.score_sk("M#2026-11", "ALL")
    aws["dynamodb"].put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": keys.employee_pk(who)},
            "SK": {"S": sk},
            "period": {"S": "M#2026-11"},
            "scope": {"S": "ALL"},
            "score": {"N": "10"},
        },
    )
    # When they show themselves again while an erasure deletes their scores
    ScoreStore(DeletesBeforeEachUpdate(aws["dynamodb"]), TABLE).set_hidden(who, hidden=False)
    # Then no bare score item is left on the board
    item = aws["dynamodb"].get_item(TableName=TABLE, Key={"PK": {"S": keys.employee_pk(who)}, "SK": {"S": sk}})
    assert "Item" not in item
