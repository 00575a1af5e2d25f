"""Rewards employees spend their points on, and the redemptions that record each spend.

Points are earned by the scoring function (it ADDs to the balance); redeeming only ever spends,
in one transaction that refuses to take the balance below zero or the stock below zero.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chorus.errors import Conflict, FieldProblem, InvalidInput, NotAllowed, NotFound

MAX_NAME = 100
MAX_DESCRIPTION = 500
MIN_COST = 1
MAX_COST = 1_000_000
MAX_STOCK = 1_000_000
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class RedemptionStatus(StrEnum):
    REQUESTED = "requested"
    FULFILLED = "fulfilled"


# ---------------------------------------------------------------------------------- errors
class NotEnoughPoints(Conflict):
    code = "not_enough_points"


class OutOfStock(Conflict):
    code = "out_of_stock"


class RewardNotFound(NotFound):
    """No such reward, or the admin took it out of the catalogue."""

    code = "reward_not_found"


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"


class EmployeeInactive(NotAllowed):
    """Only an active employee may redeem points."""

    code = "employee_inactive"


class IdempotencyKeyReused(Conflict):
    """The key already redeemed a different reward: a client bug, never a double click."""

    code = "idempotency_key_reused"


# ---------------------------------------------------------------------------------- field parsers
def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    name = " ".join(value.split())
    if not name:
        raise ValueError("is required")
    if len(name) > MAX_NAME:
        raise ValueError(f"is {len(name)} characters; at most {MAX_NAME}")
    return name


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be text")
    description = value.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValueError(f"is {len(description)} characters; at most {MAX_DESCRIPTION}")
    return description or None


def _whole_number(value: Any, low: int, high: int) -> int:
    message = f"must be a whole number from {low:,} to {high:,}"
    if isinstance(value, bool):
        raise ValueError(message)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(message)
    return value


def _cost(value: Any) -> int:
    return _whole_number(value, MIN_COST, MAX_COST)


def _stock(value: Any) -> int:
    return _whole_number(value, 0, MAX_STOCK)


def _added_stock(value: Any) -> int:
    return _whole_number(value, 1, MAX_STOCK)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


Name = Annotated[str, BeforeValidator(_name)]
Description = Annotated[str | None, BeforeValidator(_description)]
Cost = Annotated[int, BeforeValidator(_cost)]
Stock = Annotated[int, BeforeValidator(_stock)]
AddedStock = Annotated[int, BeforeValidator(_added_stock)]
Active = Annotated[bool, BeforeValidator(_flag)]


# ---------------------------------------------------------------------------------- models
class RewardInput(BaseModel):
    """The admin's body for a new reward. Every refusal names the field and a reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    description: Description = None
    cost: Cost
    stock: Stock
    active: Active = True

    def to_entity(self, reward_id: str, created_at: datetime) -> Reward:
        return Reward(
            reward_id=reward_id,
            name=self.name,
            description=self.description,
            cost=self.cost,
            stock=self.stock,
            active=self.active,
            created_at=created_at,
        )


class RestockInput(BaseModel):
    """The admin's body for adding items to a reward's stock."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    add: AddedStock


class Reward(BaseModel):
    model_config = ConfigDict(frozen=True)

    reward_id: str
    name: str
    description: str | None = None
    cost: int = Field(ge=MIN_COST, le=MAX_COST)
    stock: int = Field(ge=0)
    active: bool = True
    created_at: datetime

    @property
    def available(self) -> bool:
        return self.active and self.stock > 0


class Redemption(BaseModel):
    """One spend of points on one reward, waiting for the admin to hand it over, then fulfilled."""

    model_config = ConfigDict(frozen=True)

    redemption_id: str
    employee_id: str
    reward_id: str
    reward_name: str
    cost: int
    status: RedemptionStatus = RedemptionStatus.REQUESTED
    requested_at: datetime
    fulfilled_at: datetime | None = None


class Contact(BaseModel):
    """Who to hand a redemption to: shown to admins only, never logged."""

    model_config = ConfigDict(frozen=True)

    name: str = ""
    email: str = ""


class RedemptionForAdmin(BaseModel):
    """A redemption with its employee's name and email (empty once the employee is erased)."""

    model_config = ConfigDict(frozen=True)

    redemption: Redemption
    contact: Contact


class RewardsOverview(BaseModel):
    """What the employee's page shows: what they can spend, on what, and what they asked for."""

    model_config = ConfigDict(frozen=True)

    balance: int
    lifetime: int
    rewards: list[Reward]
    redemptions: list[Redemption]

    def affordable(self, reward: Reward) -> bool:
        return reward.available and reward.cost <= self.balance


def parse_idempotency_key(raw: str | None) -> str:
    """The client's key for one press of "redeem": it becomes the redemption id."""
    if raw is None or not _IDEMPOTENCY_KEY.match(raw):
        raise InvalidInput(
            "bad idempotency key",
            [FieldProblem("idempotency_key", "must be 8 to 64 letters, digits, '-' or '_'")],
        )
    return raw
