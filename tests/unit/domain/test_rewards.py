"""Reward bodies: each field fails with a reason an admin can act on; bounds hold for any number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chorus.domain.problems import field_problems
from chorus.domain.rewards import (
    MAX_COST,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_STOCK,
    RestockInput,
    Reward,
    RewardInput,
    RewardsOverview,
    parse_idempotency_key,
)
from chorus.errors import InvalidInput

VALID = {"name": "Team mug", "description": "Ceramic, 350 ml", "cost": 100, "stock": 20}
COST_REASON = "must be a whole number from 1 to 1,000,000"
STOCK_REASON = "must be a whole number from 0 to 1,000,000"


def problems_of(values):
    try:
        RewardInput.model_validate(values)
    except ValidationError as exc:
        return {(p.field, p.reason) for p in field_problems(exc)}
    return set()


class TestRewardInput:
    def test_valid_body(self):
        reward = RewardInput.model_validate({**VALID, "name": "  Team   mug "})
        assert reward.name == "Team mug"
        assert reward.active is True
        entity = reward.to_entity("r-1", datetime(2026, 3, 2, tzinfo=UTC))
        assert (entity.reward_id, entity.cost, entity.stock, entity.available) == ("r-1", 100, 20, True)

    def test_required_fields(self):
        assert problems_of({}) == {("name", "is required"), ("cost", "is required"), ("stock", "is required")}

    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("   ", "is required"),
            ("x" * (MAX_NAME + 1), f"is {MAX_NAME + 1} characters; at most {MAX_NAME}"),
            (12, "must be text"),
        ],
    )
    def test_name(self, name, reason):
        assert problems_of({**VALID, "name": name}) == {("name", reason)}

    def test_description_is_optional_but_bounded(self):
        assert problems_of({**VALID, "description": None}) == set()
        assert RewardInput.model_validate({**VALID, "description": "  "}).description is None
        assert problems_of({**VALID, "description": "d" * (MAX_DESCRIPTION + 1)}) == {
            ("description", f"is {MAX_DESCRIPTION + 1} characters; at most {MAX_DESCRIPTION}")
        }

    @pytest.mark.parametrize("cost", [0, -1, MAX_COST + 1, 1.5, True, "ten", None, [], "1e3"])
    def test_bad_cost(self, cost):
        assert problems_of({**VALID, "cost": cost}) == {("cost", COST_REASON)}

    @pytest.mark.parametrize("stock", [-1, MAX_STOCK + 1, 2.5, False, "many", None])
    def test_bad_stock(self, stock):
        assert problems_of({**VALID, "stock": stock}) == {("stock", STOCK_REASON)}

    def test_whole_numbers_as_text_or_whole_floats_are_accepted(self):
        reward = RewardInput.model_validate({**VALID, "cost": " 250 ", "stock": 3.0})
        assert (reward.cost, reward.stock) == (250, 3)

    def test_unknown_fields_are_refused(self):
        assert problems_of({**VALID, "price": 3}) == {("price", "is not a known field")}

    def test_every_problem_is_reported_at_once(self):
        assert problems_of({"name": "", "cost": 0, "stock": -1}) == {
            ("name", "is required"),
            ("cost", COST_REASON),
            ("stock", STOCK_REASON),
        }

    @given(st.integers(min_value=-(10**15), max_value=10**15))
    def test_cost_bounds(self, cost):
        accepted = not problems_of({**VALID, "cost": cost})
        assert accepted == (1 <= cost <= MAX_COST)

    @given(st.integers(min_value=-(10**15), max_value=10**15))
    def test_stock_bounds(self, stock):
        accepted = not problems_of({**VALID, "stock": stock})
        assert accepted == (0 <= stock <= MAX_STOCK)

    @given(st.integers(min_value=-(10**6), max_value=10**7))
    def test_cost_as_text_behaves_like_the_number(self, cost):
        assert problems_of({**VALID, "cost": str(cost)}) == problems_of({**VALID, "cost": cost})


class TestRestockInput:
    @pytest.mark.parametrize(("add", "ok"), [(1, True), (MAX_STOCK, True), (0, False), (-3, False), ("x", False)])
    def test_add_is_positive(self, add, ok):
        try:
            RestockInput.model_validate({"add": add})
        except ValidationError as exc:
            assert not ok
            assert [(p.field, p.reason) for p in field_problems(exc)] == [("add", STOCK_REASON.replace("0", "1", 1))]
        else:
            assert ok


class TestIdempotencyKey:
    @pytest.mark.parametrize("key", ["abcdefgh", "0f3e-41aa_9c", "x" * 64])
    def test_accepted(self, key):
        assert parse_idempotency_key(key) == key

    @pytest.mark.parametrize("key", [None, "", "short", "x" * 65, "has space!", "REDEEM#1234", "a/b/c/d/e"])
    def test_refused(self, key):
        with pytest.raises(InvalidInput) as caught:
            parse_idempotency_key(key)
        assert caught.value.problems[0].field == "idempotency_key"


def test_overview_says_what_is_affordable():
    now = datetime(2026, 3, 2, tzinfo=UTC)
    mug = Reward(reward_id="r-1", name="Mug", cost=100, stock=1, created_at=now)
    gone = Reward(reward_id="r-2", name="Hoodie", cost=50, stock=0, created_at=now)
    dear = Reward(reward_id="r-3", name="Bike", cost=5000, stock=1, created_at=now)
    overview = RewardsOverview(balance=120, lifetime=300, rewards=[mug, gone, dear], redemptions=[])
    assert [overview.affordable(reward) for reward in (mug, gone, dear)] == [True, False, False]
