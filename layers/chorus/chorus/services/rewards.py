"""Rewards: the admin's catalogue and to-do list, and the employee's spending of points."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from chorus import clock
from chorus.domain.listing import Page
from chorus.domain.rewards import (
    Contact,
    Redemption,
    RedemptionForAdmin,
    RedemptionStatus,
    RestockInput,
    Reward,
    RewardInput,
    RewardsOverview,
    parse_idempotency_key,
)
from chorus.errors import ChorusError
from chorus.observability import logger


class RewardRecords(Protocol):
    def create_reward(self, reward: Reward) -> Reward: ...
    def list_rewards(self) -> list[Reward]: ...
    def get_reward(self, reward_id: str) -> Reward: ...
    def restock(self, reward_id: str, add: int) -> Reward: ...
    def balance(self, employee_id: str) -> tuple[int, int]: ...
    def redeem(self, employee_id: str, reward_id: str, redemption_id: str, now: datetime) -> Redemption: ...
    def redemptions_of(self, employee_id: str, limit: int = 50) -> list[Redemption]: ...
    def open_redemptions(self, limit: int, start: dict[str, Any] | None = None) -> Page[Redemption]: ...
    def latest_redemptions(
        self, status: RedemptionStatus, limit: int, start: dict[str, Any] | None = None
    ) -> Page[Redemption]: ...
    def contacts(self, employee_ids: list[str]) -> dict[str, Contact]: ...
    def retire(self, reward_id: str) -> Reward: ...
    def fulfil(self, employee_id: str, redemption: str, now: datetime) -> Redemption: ...


def new_reward_id() -> str:
    return "r-" + secrets.token_hex(6)


class RewardService:
    def __init__(
        self,
        records: RewardRecords,
        *,
        now: Callable[[], datetime] = clock.now,
        new_id: Callable[[], str] = new_reward_id,
    ) -> None:
        self._records = records
        self._now = now
        self._new_id = new_id

    # ------------------------------------------------------------------ admin
    def create_reward(self, data: RewardInput) -> Reward:
        reward = self._records.create_reward(data.to_entity(self._new_id(), self._now()))
        logger.info("reward created", reward_id=reward.reward_id, cost=reward.cost, stock=reward.stock)
        return reward

    def list_rewards(self) -> list[Reward]:
        return self._records.list_rewards()

    def restock(self, reward_id: str, data: RestockInput) -> Reward:
        reward = self._records.restock(reward_id, data.add)
        logger.info("reward restocked", reward_id=reward_id, added=data.add, stock=reward.stock)
        return reward

    def retire(self, reward_id: str) -> Reward:
        reward = self._records.retire(reward_id)
        logger.info("reward retired", reward_id=reward_id)
        return reward

    def open_redemptions(self, limit: int, start: dict[str, Any] | None = None) -> Page[Redemption]:
        return self._records.open_redemptions(limit, start)

    def redemptions_to_hand_over(
        self, status: RedemptionStatus, limit: int, start: dict[str, Any] | None = None
    ) -> Page[RedemptionForAdmin]:
        """One page of redemptions, newest first, each with its employee's name and email."""
        page = self._records.latest_redemptions(status, limit, start)
        contacts = self._records.contacts([redemption.employee_id for redemption in page.items]) if page.items else {}
        return Page(
            items=[
                RedemptionForAdmin(redemption=redemption, contact=contacts.get(redemption.employee_id, Contact()))
                for redemption in page.items
            ],
            next_token=page.next_token,
        )

    def fulfil(self, employee_id: str, redemption_id: str) -> Redemption:
        redemption = self._records.fulfil(employee_id, redemption_id, self._now())
        logger.info(
            "redemption fulfilled",
            employee_id=employee_id,
            redemption_id=redemption.redemption_id,
            reward_id=redemption.reward_id,
        )
        return redemption

    # ------------------------------------------------------------------ employee
    def catalog_for(self, employee_id: str) -> RewardsOverview:
        """Active rewards (out-of-stock ones too, so the page can say so), balance and redemptions."""
        balance, lifetime = self._records.balance(employee_id)
        rewards = [reward for reward in self._records.list_rewards() if reward.active]
        return RewardsOverview(
            balance=balance,
            lifetime=lifetime,
            rewards=rewards,
            redemptions=self._records.redemptions_of(employee_id),
        )

    def redeem(self, employee_id: str, reward_id: str, idempotency_key: str | None) -> Redemption:
        """Spends points on one reward. The same key again (a double click, a retry) redeems once."""
        redemption_id = parse_idempotency_key(idempotency_key)
        try:
            redemption = self._records.redeem(employee_id, reward_id, redemption_id, self._now())
        except ChorusError as error:
            if error.http_status < 500:
                logger.info("redemption refused", employee_id=employee_id, reward_id=reward_id, reason=error.code)
            raise
        logger.info(
            "reward redeemed",
            employee_id=employee_id,
            reward_id=reward_id,
            redemption_id=redemption.redemption_id,
            cost=redemption.cost,
        )
        return redemption
