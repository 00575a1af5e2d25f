"""Rewards on moto: the catalogue, redeeming (one transaction), the admin's to-do list and router."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from chorus.domain.rewards import (
    EmployeeInactive,
    IdempotencyKeyReused,
    NotEnoughPoints,
    OutOfStock,
    RedemptionNotFound,
    RedemptionStatus,
    RewardInput,
    RewardNotFound,
)
from chorus.errors import ChorusError, InvalidInput
from chorus.services.rewards import RewardService
from chorus.store.rewards import RewardStore
from chorus.web.admin.auth import require_admin
from chorus.web.admin.rewards import rewards_router
from chorus.web.http_errors import register_error_handlers
from tests.conftest import TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class AtomicRequests:
    """DynamoDB applies each request atomically; moto's in-process backend does not under threads.
    Serialising single requests (not sequences of them) restores exactly that guarantee. After each
    transaction it also records the balances and stocks it left, to check they never went negative."""

    def __init__(self, client, lock: threading.Lock, watched: list[tuple[str, str]]) -> None:
        self._client = client
        self._lock = lock
        self._watched = watched
        self.seen: list[int] = []

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            with self._lock:
                try:
                    return method(*args, **kwargs)
                finally:
                    if name == "transact_write_items":
                        self.seen.extend(self._levels())

        return call

    def _levels(self) -> list[int]:
        levels = []
        for pk, sk in self._watched:
            item = self._client.get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}}).get("Item", {})
            for name in ("balance", "stock"):
                if name in item:
                    levels.append(int(item[name]["N"]))
        return levels


@pytest.fixture
def store(aws):
    return RewardStore(aws["dynamodb"], TABLE)


@pytest.fixture
def service(store):
    ids = (f"r-{n}" for n in itertools.count(1))
    return RewardService(store, now=Clock(), new_id=lambda: next(ids))


def active_employee(aws, employee_id: str, *, active: bool = True) -> None:
    """The employee's profile, as a roster upload writes it (only an active employee may redeem)."""
    aws["dynamodb"].update_item(
        TableName=TABLE,
        Key={"PK": {"S": f"EMP#{employee_id}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET active = :active, entity = :e",
        ExpressionAttributeValues={":active": {"BOOL": active}, ":e": {"S": "employee"}},
    )


def give_points(aws, employee_id: str, points: int) -> None:
    """What the scoring function does when points are awarded (to an active employee)."""
    active_employee(aws, employee_id)
    aws["dynamodb"].update_item(
        TableName=TABLE,
        Key={"PK": {"S": f"EMP#{employee_id}"}, "SK": {"S": "BALANCE"}},
        UpdateExpression="ADD balance :p, lifetime :p SET entity = :e",
        ExpressionAttributeValues={":p": {"N": str(points)}, ":e": {"S": "balance"}},
    )


def new_reward(service: RewardService, name: str = "Team mug", cost: int = 100, stock: int = 5, **extra):
    return service.create_reward(RewardInput.model_validate({"name": name, "cost": cost, "stock": stock, **extra}))


def items_of(aws, prefix: str) -> list[dict]:
    return [item for item in aws["dynamodb"].scan(TableName=TABLE)["Items"] if item["SK"]["S"].startswith(prefix)]


class TestCatalogue:
    def test_create_and_list_by_name(self, service, store):
        new_reward(service, "Water bottle", cost=50)
        new_reward(service, "hoodie", cost=500, description="Organic cotton")
        new_reward(service, "Day off", cost=5000, stock=1)
        assert [reward.name for reward in service.list_rewards()] == ["Day off", "hoodie", "Water bottle"]
        assert store.get_reward("r-2").description == "Organic cotton"

    def test_unknown_reward(self, store):
        with pytest.raises(RewardNotFound):
            store.get_reward("r-nope")

    def test_restock(self, service, store):
        new_reward(service, stock=0)
        assert store.restock("r-1", 4).stock == 4
        with pytest.raises(RewardNotFound):
            store.restock("r-nope", 1)


class TestRedeem:
    def test_success_debits_balance_and_stock_and_records_the_redemption(self, aws, service, store):
        new_reward(service, cost=100, stock=2)
        give_points(aws, "e-1", 250)

        redemption = service.redeem("e-1", "r-1", "click-0001")

        assert (redemption.redemption_id, redemption.cost, redemption.reward_name) == ("click-0001", 100, "Team mug")
        assert redemption.status is RedemptionStatus.REQUESTED
        assert store.balance("e-1") == (150, 250)
        assert store.get_reward("r-1").stock == 1
        assert store.redemptions_of("e-1") == [redemption]
        assert store.open_redemptions(10).items == [redemption]
        overview = service.catalog_for("e-1")
        assert (overview.balance, overview.lifetime, overview.redemptions) == (150, 250, [redemption])

    def test_not_enough_points_changes_nothing(self, aws, service, store):
        new_reward(service, cost=100, stock=2)
        give_points(aws, "e-1", 99)
        with pytest.raises(NotEnoughPoints) as caught:
            service.redeem("e-1", "r-1", "click-0001")
        assert caught.value.http_status == 409
        assert store.balance("e-1") == (99, 99)
        assert store.get_reward("r-1").stock == 2
        assert items_of(aws, "REDEEM") == []

    def test_never_earned_anything(self, aws, service, store):
        new_reward(service, cost=1)
        active_employee(aws, "e-new")
        with pytest.raises(NotEnoughPoints):
            service.redeem("e-new", "r-1", "click-0001")
        assert store.balance("e-new") == (0, 0)

    @pytest.mark.parametrize("profile", ["deactivated", "unknown"])
    def test_only_an_active_employee_redeems(self, aws, service, store, profile):
        # Given an employee with points who has left (or who is not on the roster at all)
        new_reward(service, cost=10, stock=3)
        give_points(aws, "e-1", 100)
        if profile == "deactivated":
            active_employee(aws, "e-1", active=False)
        else:
            aws["dynamodb"].delete_item(TableName=TABLE, Key={"PK": {"S": "EMP#e-1"}, "SK": {"S": "PROFILE"}})
        # When they try to redeem
        with pytest.raises(EmployeeInactive) as caught:
            service.redeem("e-1", "r-1", "click-0001")
        # Then it is refused and nothing moved
        assert caught.value.http_status == 403
        assert store.balance("e-1") == (100, 100)
        assert store.get_reward("r-1").stock == 3
        assert items_of(aws, "REDEEM") == []

    def test_out_of_stock(self, aws, service, store):
        new_reward(service, cost=10, stock=0)
        give_points(aws, "e-1", 100)
        with pytest.raises(OutOfStock) as caught:
            service.redeem("e-1", "r-1", "click-0001")
        assert caught.value.http_status == 409
        assert store.balance("e-1") == (100, 100)
        assert store.get_reward("r-1").stock == 0

    def test_out_of_stock_wins_over_not_enough_points(self, aws, service):
        new_reward(service, cost=10, stock=0)
        active_employee(aws, "e-1")
        with pytest.raises(OutOfStock):
            service.redeem("e-1", "r-1", "click-0001")

    def test_unknown_or_inactive_reward_is_404(self, aws, service):
        give_points(aws, "e-1", 100)
        with pytest.raises(RewardNotFound) as caught:
            service.redeem("e-1", "r-nope", "click-0001")
        assert caught.value.http_status == 404
        new_reward(service, cost=10, active=False)
        with pytest.raises(RewardNotFound):
            service.redeem("e-1", "r-1", "click-0002")
        assert service.catalog_for("e-1").rewards == []

    def test_bad_idempotency_key(self, aws, service):
        new_reward(service)
        with pytest.raises(InvalidInput):
            service.redeem("e-1", "r-1", "a#b")

    def test_the_same_key_twice_redeems_once(self, aws, service, store):
        new_reward(service, cost=100, stock=5)
        give_points(aws, "e-1", 1000)

        first = service.redeem("e-1", "r-1", "click-0001")
        again = service.redeem("e-1", "r-1", "click-0001")  # a second later: another timestamp

        assert again == first
        assert store.balance("e-1") == (900, 1000)
        assert store.get_reward("r-1").stock == 4
        assert len(store.redemptions_of("e-1")) == 1

    def test_a_repeat_still_answers_once_the_stock_or_points_are_gone(self, aws, service, store):
        new_reward(service, cost=100, stock=1)
        give_points(aws, "e-1", 100)
        first = service.redeem("e-1", "r-1", "click-0001")
        assert service.redeem("e-1", "r-1", "click-0001") == first

    def test_a_key_reused_for_another_reward_is_refused(self, aws, service, store):
        new_reward(service, "Mug", cost=10)
        new_reward(service, "Pen", cost=10)
        give_points(aws, "e-1", 100)
        service.redeem("e-1", "r-1", "click-0001")
        with pytest.raises(IdempotencyKeyReused):
            service.redeem("e-1", "r-2", "click-0001")
        assert store.balance("e-1") == (90, 100)


def race(targets) -> list[object]:
    """Runs each callable on its own thread, all released at once; returns results or errors."""
    barrier = threading.Barrier(len(targets))
    outcomes: list[object] = [None] * len(targets)

    def run(index, target):
        barrier.wait()
        try:
            outcomes[index] = target()
        except ChorusError as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index, target)) for index, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


class TestConcurrency:
    def test_the_last_items_go_to_exactly_that_many_people(self, aws, service):
        new_reward(service, cost=10, stock=3)
        employees = [f"e-{n}" for n in range(10)]
        for employee in employees:
            give_points(aws, employee, 100)
        client = AtomicRequests(aws["dynamodb"], threading.Lock(), [("REWARD#r-1", "META")])
        racing = RewardService(RewardStore(client, TABLE))

        outcomes = race([lambda e=e: racing.redeem(e, "r-1", f"key-{e}-0001") for e in employees])

        won = [o for o in outcomes if not isinstance(o, ChorusError)]
        assert len(won) == 3
        assert all(isinstance(o, OutOfStock) for o in outcomes if isinstance(o, ChorusError))
        store = RewardStore(aws["dynamodb"], TABLE)
        assert store.get_reward("r-1").stock == 0
        assert min(client.seen) >= 0
        assert len(store.open_redemptions(50).items) == 3
        assert sorted(store.balance(e)[0] for e in employees) == [90] * 3 + [100] * 7

    def test_points_for_two_spent_by_eight_clicks_buy_two(self, aws, service):
        new_reward(service, cost=100, stock=50)
        give_points(aws, "e-1", 250)
        client = AtomicRequests(aws["dynamodb"], threading.Lock(), [("EMP#e-1", "BALANCE"), ("REWARD#r-1", "META")])
        racing = RewardService(RewardStore(client, TABLE))

        outcomes = race([lambda n=n: racing.redeem("e-1", "r-1", f"click-{n:04}") for n in range(8)])

        assert sum(not isinstance(o, ChorusError) for o in outcomes) == 2
        assert all(isinstance(o, NotEnoughPoints) for o in outcomes if isinstance(o, ChorusError))
        store = RewardStore(aws["dynamodb"], TABLE)
        assert store.balance("e-1") == (50, 250)
        assert store.get_reward("r-1").stock == 48
        assert min(client.seen) >= 0

    def test_many_people_many_rewards(self, aws, service):
        """6 employees with points for 2 each, 3 rewards of 3 items each: 6 x 3 attempts, 9 items."""
        for name in ("A", "B", "C"):
            new_reward(service, name, cost=40, stock=3)
        employees = [f"e-{n}" for n in range(6)]
        for employee in employees:
            give_points(aws, employee, 80)
        watched = [(f"EMP#{e}", "BALANCE") for e in employees] + [(f"REWARD#r-{n}", "META") for n in (1, 2, 3)]
        client = AtomicRequests(aws["dynamodb"], threading.Lock(), watched)
        racing = RewardService(RewardStore(client, TABLE))

        targets = [lambda e=e, r=r: racing.redeem(e, f"r-{r}", f"key-{e}-{r}-x") for e in employees for r in (1, 2, 3)]
        outcomes = race(targets)

        won = [o for o in outcomes if not isinstance(o, ChorusError)]
        store = RewardStore(aws["dynamodb"], TABLE)
        stocks = [store.get_reward(f"r-{n}").stock for n in (1, 2, 3)]
        balances = [store.balance(e)[0] for e in employees]
        assert min(client.seen) >= 0
        assert len(won) == (9 - sum(stocks)) == sum(80 - b for b in balances) // 40
        assert len(won) <= 9 and all(b >= 0 for b in balances) and all(s >= 0 for s in stocks)
        # each employee can afford two: with 9 items for 6 people, all 9 are taken
        assert len(won) == 9


class TestFulfil:
    def test_fulfil_leaves_the_open_list_and_twice_is_fine(self, aws, service, store):
        new_reward(service, cost=10)
        give_points(aws, "e-1", 100)
        give_points(aws, "e-2", 100)
        first = service.redeem("e-1", "r-1", "click-0001")
        second = service.redeem("e-2", "r-1", "click-0002")
        assert [r.redemption_id for r in store.open_redemptions(10).items] == ["click-0001", "click-0002"]

        done = service.fulfil("e-1", "click-0001")
        assert done.status is RedemptionStatus.FULFILLED and done.fulfilled_at is not None
        assert store.open_redemptions(10).items == [second]
        assert service.fulfil("e-1", "click-0001") == done  # idempotent: same first fulfilment time
        assert store.redemptions_of("e-1")[0].status is RedemptionStatus.FULFILLED
        assert first.status is RedemptionStatus.REQUESTED

    def test_unknown_redemption(self, service):
        with pytest.raises(RedemptionNotFound):
            service.fulfil("e-1", "click-0001")

    def test_open_list_pages(self, aws, service, store):
        new_reward(service, cost=1, stock=10)
        give_points(aws, "e-1", 10)
        for n in range(5):
            service.redeem("e-1", "r-1", f"click-{n:04}")
        first = store.open_redemptions(2)
        second = store.open_redemptions(2, first.next_token)
        third = store.open_redemptions(2, second.next_token)
        ids = [r.redemption_id for page in (first, second, third) for r in page.items]
        assert ids == [f"click-{n:04}" for n in range(5)]


@pytest.fixture
def admin(service):
    app = APIGatewayHttpResolver(enable_validation=True)  # as the admin app's
    app.use(middlewares=[require_admin("chorus-admins", "cognito:groups")])
    app.include_router(rewards_router(service), prefix="/admin")
    register_error_handlers(app)

    def call(method, path, body=None, **kwargs):
        payload = json.dumps(body) if isinstance(body, (dict, list)) else body
        response = app.resolve(http_event(method, path, body=payload, **kwargs), FakeLambdaContext())
        return response["statusCode"], json.loads(response["body"])

    return call


class TestAdminRouter:
    def test_create_is_201_and_listed(self, admin):
        status, body = admin("POST", "/admin/rewards", {"name": "Mug", "cost": 100, "stock": 3})
        assert status == 201
        assert body["reward_id"] == "r-1" and body["cost"] == 100 and body["active"] is True
        status, body = admin("GET", "/admin/rewards")
        assert status == 200 and [r["name"] for r in body["items"]] == ["Mug"]

    def test_bad_body_is_422_with_field_reasons(self, admin):
        status, body = admin("POST", "/admin/rewards", {"name": "", "cost": 0, "stock": -2, "colour": "red"})
        assert status == 422
        assert {(p["field"], p["reason"]) for p in body["problems"]} == {
            ("name", "is required"),
            ("cost", "must be a whole number from 1 to 1,000,000"),
            ("stock", "must be a whole number from 0 to 1,000,000"),
            ("colour", "is not a known field"),
        }
        assert admin("POST", "/admin/rewards", "not json")[0] == 422
        assert admin("POST", "/admin/rewards")[0] == 422
        assert admin("GET", "/admin/rewards")[1]["items"] == []

    def test_not_an_admin_is_403(self, admin):
        status, _ = admin("GET", "/admin/rewards", claims={"sub": "e", "cognito:groups": ["employees"]})
        assert status == 403

    def test_redemptions_to_do_and_fulfil(self, aws, admin, service):
        admin("POST", "/admin/rewards", {"name": "Mug", "cost": 10, "stock": 3})
        give_points(aws, "e-1", 100)
        for n in range(3):
            service.redeem("e-1", "r-1", f"click-{n:04}")

        status, body = admin("GET", "/admin/redemptions", query={"limit": "2"})
        assert status == 200 and len(body["items"]) == 2 and body["next"]
        status, rest = admin("GET", "/admin/redemptions", query={"limit": "2", "next": body["next"]})
        assert [r["redemption_id"] for r in body["items"] + rest["items"]] == ["click-0000", "click-0001", "click-0002"]
        assert rest["next"] is None

        status, done = admin("POST", "/admin/redemptions/e-1/click-0001/fulfil")
        assert status == 200 and done["status"] == "fulfilled"
        assert admin("POST", "/admin/redemptions/e-1/click-0001/fulfil") == (200, done)
        assert admin("POST", "/admin/redemptions/e-1/click-9999/fulfil")[0] == 404
        remaining = admin("GET", "/admin/redemptions")[1]["items"]
        assert [r["redemption_id"] for r in remaining] == ["click-0000", "click-0002"]

    def test_bad_paging(self, admin):
        assert admin("GET", "/admin/redemptions", query={"limit": "0"})[0] == 422
        assert admin("GET", "/admin/redemptions", query={"next": "%%%"})[0] == 422

    def test_restock(self, admin):
        admin("POST", "/admin/rewards", {"name": "Mug", "cost": 10, "stock": 0})
        assert admin("POST", "/admin/rewards/r-1/restock", {"add": 5}) == (
            200,
            admin("GET", "/admin/rewards")[1]["items"][0],
        )
        assert admin("GET", "/admin/rewards")[1]["items"][0]["stock"] == 5
        assert admin("POST", "/admin/rewards/r-1/restock", {"add": 0})[0] == 422
        assert admin("POST", "/admin/rewards/r-nope/restock", {"add": 1})[0] == 404

    def test_retire(self, aws, admin, service):
        admin("POST", "/admin/rewards", {"name": "Mug", "cost": 10, "stock": 3})
        give_points(aws, "e-1", 100)

        status, retired = admin("POST", "/admin/rewards/r-1/retire")

        assert status == 200 and retired["active"] is False and retired["stock"] == 3
        assert admin("POST", "/admin/rewards/r-1/retire") == (200, retired)  # again: nothing changes
        assert admin("POST", "/admin/rewards/r-nope/retire")[0] == 404
        with pytest.raises(RewardNotFound):
            service.redeem("e-1", "r-1", "click-0001")
