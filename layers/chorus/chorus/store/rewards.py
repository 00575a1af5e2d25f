"""DynamoDB access for rewards, point balances and redemptions.

Redeeming is one TransactWriteItems of five actions, so the balance never goes below zero and
the stock is never oversold, however many redemptions race:

- the balance (``EMP#id / BALANCE``): ``ADD balance -cost`` if ``balance >= cost``;
- the reward (``REWARD#id / META``): ``ADD stock -1`` if ``stock > 0``, it is active and its
  cost is still the one the employee is charged;
- the redemption (``EMP#id / REDEEM#ts#id``), listed on GSI2 ``REDEEM#open`` until fulfilled,
  then on ``REDEEM#fulfilled`` (by fulfilment time);
- a marker (``EMP#id / REDEEMID#id``) holding the redemption's sort key: the redemption id is
  the client's idempotency key, and since the redemption's own key carries the time, this
  marker is what makes a second press of the same button redeem nothing;
- the employee's profile (``EMP#id / PROFILE``) still active (a ConditionCheck).

Each action is tagged with the condition it guards (``_Guard``); the tags of the refused ones
become a typed error.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from chorus.domain.listing import Page
from chorus.domain.rewards import (
    Contact,
    EmployeeInactive,
    IdempotencyKeyReused,
    NotEnoughPoints,
    OutOfStock,
    Redemption,
    RedemptionNotFound,
    RedemptionStatus,
    Reward,
    RewardNotFound,
)
from chorus.errors import Conflict, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.reads import batch_get, listing_page
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# ---------------------------------------------------------------------------------- keys
REWARDS = "REWARDS"
OPEN_REDEMPTIONS = "REDEEM#open"
FULFILLED_REDEMPTIONS = "REDEEM#fulfilled"
LISTINGS = {RedemptionStatus.REQUESTED: OPEN_REDEMPTIONS, RedemptionStatus.FULFILLED: FULFILLED_REDEMPTIONS}
REDEMPTION_PREFIX = "REDEEM#"
MAX_ATTEMPTS = 3
_RETRYABLE = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


class _Guard(Enum):
    """The condition each action of a redemption guards."""

    BALANCE = "enough points"
    REWARD = "reward available at that cost"
    REDEMPTION = "redemption new"
    MARKER = "request key unused"
    EMPLOYEE = "employee active"


def reward_pk(reward_id: str) -> str:
    return f"REWARD#{reward_id}"


def redemption_sk(requested_at: str, redemption_id: str) -> str:
    return f"{REDEMPTION_PREFIX}{requested_at}#{redemption_id}"


def redemption_marker_sk(redemption_id: str) -> str:
    return f"REDEEMID#{redemption_id}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _reward_from(item: dict[str, Any]) -> Reward:
    return Reward.model_validate(item)


def _redemption_from(item: dict[str, Any]) -> Redemption:
    return Redemption.model_validate(item)


class RewardStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ------------------------------------------------------------------ catalogue
    def create_reward(self, reward: Reward) -> Reward:
        item = {
            "PK": reward_pk(reward.reward_id),
            "SK": keys.META,
            "entity": "reward",
            "GSI2PK": REWARDS,
            "GSI2SK": f"{reward.name.casefold()}#{reward.reward_id}",
            **{name: value for name, value in reward.model_dump(mode="json").items() if value is not None},
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=to_dynamo(item), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict(f"reward {reward.reward_id} already exists") from exc
            raise StoreError("could not create the reward") from exc
        return reward

    def get_reward(self, reward_id: str) -> Reward:
        item = self._get(reward_pk(reward_id), keys.META)
        if item is None:
            raise RewardNotFound(f"reward {reward_id} does not exist")
        return _reward_from(item)

    def list_rewards(self) -> list[Reward]:
        """Every reward, by name: one Query on the GSI2 listing (paged only past 1 MB)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": REWARDS}),
        }
        rewards: list[Reward] = []
        while True:
            try:
                response = self._client.query(**request)
            except ClientError as exc:
                raise StoreError("could not list rewards") from exc
            rewards.extend(_reward_from(from_dynamo(item)) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return rewards
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def restock(self, reward_id: str, add: int) -> Reward:
        if add < 1:
            raise ValueError("restock adds at least one item")
        return self._update_reward(reward_id, "ADD stock :add", {":add": add}, "could not restock the reward")

    def retire(self, reward_id: str) -> Reward:
        """Out of the catalogue employees see: nobody can redeem it any more (the redemption's
        condition wants it active); its redemptions stay. Retiring again changes nothing."""
        return self._update_reward(reward_id, "SET active = :false", {":false": False}, "could not retire the reward")

    def _update_reward(self, reward_id: str, expression: str, values: dict[str, Any], failure: str) -> Reward:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": reward_pk(reward_id), "SK": keys.META}),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_dynamo(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise RewardNotFound(f"reward {reward_id} does not exist") from exc
            raise StoreError(failure) from exc
        return _reward_from(from_dynamo(response["Attributes"]))

    # ------------------------------------------------------------------ balance
    def balance(self, employee_id: str) -> tuple[int, int]:
        """(spendable points, points earned ever); (0, 0) before the first points."""
        item = self._get(keys.employee_pk(employee_id), keys.BALANCE) or {}
        return int(item.get("balance", 0)), int(item.get("lifetime", 0))

    # ------------------------------------------------------------------ redemptions
    def redeem(self, employee_id: str, reward_id: str, redemption_id: str, now: datetime) -> Redemption:
        """Spends the reward's cost and one item of its stock, and records the redemption, at once.

        Idempotent on ``redemption_id``: the same id again returns the first redemption.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            item = self._get(reward_pk(reward_id), keys.META)
            if item is None:
                existing = self._find(employee_id, redemption_id)
                if existing is not None:
                    return self._same_reward(existing, reward_id)
                raise RewardNotFound(f"reward {reward_id} does not exist")
            reward = _reward_from(item)
            redemption = Redemption(
                redemption_id=redemption_id,
                employee_id=employee_id,
                reward_id=reward.reward_id,
                reward_name=reward.name,
                cost=reward.cost,
                requested_at=now.astimezone(UTC).replace(microsecond=0),
            )
            try:
                write_transaction(self._client, self._redeem_actions(redemption), failure="could not redeem the reward")
            except TransactionRefused as refused:
                outcome = self._cancelled(refused, employee_id, redemption_id, reward_id)
                if outcome is not None:
                    return outcome
                if attempt < MAX_ATTEMPTS:
                    # A concurrent write (a points award, a price change): read again and retry.
                    time.sleep(0.02 * 2**attempt)
                continue
            return redemption
        raise StoreError("the redemption kept conflicting with other writes; try again")

    def redemption(self, employee_id: str, redemption_id: str) -> Redemption:
        found = self._find(employee_id, redemption_id)
        if found is None:
            raise RedemptionNotFound(f"redemption {redemption_id} does not exist")
        return found

    def redemptions_of(self, employee_id: str, limit: int = 50) -> list[Redemption]:
        """The employee's latest redemptions, newest first: one Query of their partition."""
        try:
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                ExpressionAttributeValues=to_dynamo(
                    {":pk": keys.employee_pk(employee_id), ":prefix": REDEMPTION_PREFIX}
                ),
                ScanIndexForward=False,
                Limit=limit,
            )
        except ClientError as exc:
            raise StoreError("could not read the redemptions") from exc
        return [_redemption_from(from_dynamo(item)) for item in response.get("Items", [])]

    def open_redemptions(self, limit: int, start: dict[str, Any] | None = None) -> Page[Redemption]:
        """Redemptions still to hand over, oldest first: one page of the sparse GSI2 listing."""
        return listing_page(
            self._client, self._table, OPEN_REDEMPTIONS, limit=limit, start=start, parse=_redemption_from
        )

    def latest_redemptions(
        self, status: RedemptionStatus, limit: int, start: dict[str, Any] | None = None
    ) -> Page[Redemption]:
        """Requested ones newest request first, or fulfilled ones newest fulfilment first: one page.

        Redemptions fulfilled before the fulfilled listing existed left GSI2 and are not in it."""
        return listing_page(
            self._client,
            self._table,
            LISTINGS[status],
            limit=limit,
            start=start,
            parse=_redemption_from,
            newest_first=True,
        )

    def contacts(self, employee_ids: list[str]) -> dict[str, Contact]:
        """Name and email of each employee who has a profile: one BatchGetItem of at most 100 keys
        per call, projected to what the admin is shown. Erased employees read as empty."""
        unique = dict.fromkeys(employee_ids)
        wanted = [{"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE} for employee_id in unique]
        found = batch_get(
            self._client,
            self._table,
            wanted,
            projection="employee_id, #name, email",
            names={"#name": "name"},
        )
        return {
            str(item["employee_id"]): Contact(name=str(item.get("name", "")), email=str(item.get("email", "")))
            for item in found
        }

    def fulfil(self, employee_id: str, redemption: str, now: datetime) -> Redemption:
        """requested -> fulfilled, from the open listing to the fulfilled one. ``redemption`` is its
        id or its sort key.

        Idempotent: fulfilling again returns the redemption as it is, with its first fulfilment time.
        """
        sk = redemption if redemption.startswith(REDEMPTION_PREFIX) else self._marked_sk(employee_id, redemption)
        if sk is None:
            raise RedemptionNotFound(f"redemption {redemption} does not exist")
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": sk}),
                UpdateExpression="SET #status = :fulfilled, fulfilled_at = :now, GSI2PK = :listing, GSI2SK = :order",
                ConditionExpression="#status = :requested",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":fulfilled": RedemptionStatus.FULFILLED.value,
                        ":requested": RedemptionStatus.REQUESTED.value,
                        ":now": _iso(now),
                        ":listing": FULFILLED_REDEMPTIONS,
                        ":order": f"{_iso(now)}#{employee_id}#{sk.rsplit('#', 1)[-1]}",
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                old = cast("dict[str, Any] | None", exc.response.get("Item"))
                if not old:
                    raise RedemptionNotFound(f"redemption {redemption} does not exist") from exc
                return _redemption_from(from_dynamo(old))
            raise StoreError("could not fulfil the redemption") from exc
        return _redemption_from(from_dynamo(response["Attributes"]))

    # ------------------------------------------------------------------ helpers
    def _redeem_actions(self, redemption: Redemption) -> list[Guarded[_Guard]]:
        pk = keys.employee_pk(redemption.employee_id)
        requested_at = _iso(redemption.requested_at)
        sk = redemption_sk(requested_at, redemption.redemption_id)
        item = {
            "PK": pk,
            "SK": sk,
            "entity": "redemption",
            "GSI2PK": OPEN_REDEMPTIONS,
            "GSI2SK": f"{requested_at}#{redemption.employee_id}#{redemption.redemption_id}",
            **{name: value for name, value in redemption.model_dump(mode="json").items() if value is not None},
        }
        marker = {
            "PK": pk,
            "SK": redemption_marker_sk(redemption.redemption_id),
            "entity": "redemption_key",
            "redemption_sk": sk,
            "reward_id": redemption.reward_id,
        }
        balance = {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": pk, "SK": keys.BALANCE}),
                "UpdateExpression": "ADD balance :minus",
                "ConditionExpression": "balance >= :cost",
                "ExpressionAttributeValues": to_dynamo({":minus": -redemption.cost, ":cost": redemption.cost}),
            }
        }
        reward = {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": reward_pk(redemption.reward_id), "SK": keys.META}),
                "UpdateExpression": "ADD stock :minus_one",
                "ConditionExpression": "stock > :zero AND active = :true AND cost = :cost",
                "ExpressionAttributeValues": to_dynamo(
                    {":minus_one": -1, ":zero": 0, ":true": True, ":cost": redemption.cost}
                ),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        record = {
            "Put": {
                "TableName": self._table,
                "Item": to_dynamo(item),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        mark = {
            "Put": {
                "TableName": self._table,
                "Item": to_dynamo(marker),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        employee_active = {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": pk, "SK": keys.PROFILE}),
                "ConditionExpression": "active = :true",
                "ExpressionAttributeValues": to_dynamo({":true": True}),
            }
        }
        return [
            Guarded(balance, _Guard.BALANCE),
            Guarded(reward, _Guard.REWARD),
            Guarded(record, _Guard.REDEMPTION),
            Guarded(mark, _Guard.MARKER),
            Guarded(employee_active, _Guard.EMPLOYEE),
        ]

    def _cancelled(
        self, refused: TransactionRefused[_Guard], employee_id: str, redemption_id: str, reward_id: str
    ) -> Redemption | None:
        """Turns a cancelled redemption into its outcome: the earlier redemption (a repeated
        request), a typed error, or None when it is worth trying again."""
        if refused.refused(_Guard.MARKER) or refused.refused(_Guard.REDEMPTION):
            existing = self._find(employee_id, redemption_id)
            if existing is not None:
                return self._same_reward(existing, reward_id)
        if refused.refused(_Guard.EMPLOYEE):
            raise EmployeeInactive("only active employees may redeem points") from refused
        if refused.refused(_Guard.REWARD):
            stored = refused.item(_Guard.REWARD)
            if stored is None or not stored.get("active", False):
                raise RewardNotFound(f"reward {reward_id} is not available") from refused
            if int(stored.get("stock", 0)) <= 0:
                raise OutOfStock("this reward is out of stock") from refused
            return None  # its cost changed since we read it: charge the new one
        if refused.refused(_Guard.BALANCE):
            raise NotEnoughPoints("you do not have enough points for this reward") from refused
        if any(code in _RETRYABLE for code in refused.codes):
            return None
        raise StoreError(f"the redemption was refused ({', '.join(refused.codes)})") from refused

    @staticmethod
    def _same_reward(existing: Redemption, reward_id: str) -> Redemption:
        if existing.reward_id != reward_id:
            raise IdempotencyKeyReused("this request key was already used to redeem another reward")
        return existing

    def _marked_sk(self, employee_id: str, redemption_id: str) -> str | None:
        marker = self._get(keys.employee_pk(employee_id), redemption_marker_sk(redemption_id))
        return str(marker["redemption_sk"]) if marker else None

    def _find(self, employee_id: str, redemption_id: str) -> Redemption | None:
        sk = self._marked_sk(employee_id, redemption_id)
        item = self._get(keys.employee_pk(employee_id), sk) if sk else None
        return _redemption_from(item) if item else None

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(
                TableName=self._table, Key=to_dynamo({"PK": pk, "SK": sk}), ConsistentRead=True
            )
        except ClientError as exc:
            raise StoreError("could not read item") from exc
        item = response.get("Item")
        return from_dynamo(item) if item else None
