"""The console's Rewards page through the handler on moto: the catalogue (create, restock, retire,
each refusal naming its field and changing nothing), the redemptions with each employee's name
and email, newest first, paginated, filtered, and fulfilling (CSRF-checked, idempotent)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from bench.aws_calls import count_aws_calls

from chorus.domain.rewards import RedemptionStatus, RewardInput
from chorus.services.rewards import RewardService
from chorus.store.rewards import RewardStore
from tests.conftest import TABLE
from tests.integration.handlers.test_console import (  # noqa: F401 (issuer is a fixture)
    NOT_ADMIN,
    Browser,
    csrf_of,
    issuer,
    location,
    sign_in,
)
from tests.support.iam import denied
from tests.support.local_cloud import clear_runtime_caches

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(aws) -> RewardStore:
    return RewardStore(aws["dynamodb"], TABLE)


@pytest.fixture
def admin(issuer) -> Browser:  # noqa: F811
    browser = Browser()
    sign_in(browser, issuer)
    return browser


def employee(aws, employee_id: str, name: str, email: str, points: int = 10_000) -> None:
    """An active employee with a profile (as the roster upload writes it) and points to spend."""
    aws["dynamodb"].put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": f"EMP#{employee_id}"},
            "SK": {"S": "PROFILE"},
            "entity": {"S": "employee"},
            "employee_id": {"S": employee_id},
            "name": {"S": name},
            "email": {"S": email},
            "active": {"BOOL": True},
        },
    )
    aws["dynamodb"].put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": f"EMP#{employee_id}"},
            "SK": {"S": "BALANCE"},
            "entity": {"S": "balance"},
            "balance": {"N": str(points)},
            "lifetime": {"N": str(points)},
        },
    )


def reward(store: RewardStore, name: str = "Team mug", cost: int = 100, stock: int = 5) -> str:
    service = RewardService(store, now=lambda: T0)
    return service.create_reward(RewardInput(name=name, cost=cost, stock=stock)).reward_id


def redeem(store: RewardStore, employee_id: str, reward_id: str, key: str, minutes: int) -> None:
    store.redeem(employee_id, reward_id, key, T0 + timedelta(minutes=minutes))


def table_rows(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", " ", row)) for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)]


def post(browser: Browser, path: str, page: str | None = None, **fields: str) -> dict:
    body = {"csrf": csrf_of(page)} if page is not None else {}
    return browser.call("POST", path, body=urlencode({**body, **fields}))


def redemption_rows(page: str) -> list[str]:
    section = page.split('id="redemptions-heading"', 1)[1].split('id="catalog-heading"', 1)[0]
    return [" ".join(row.split()) for row in table_rows(section)[1:]]


# ---------------------------------------------------------------------------------- catalogue
def test_an_admin_creates_a_reward_and_sees_it_in_the_catalogue(admin, store):
    page = admin.call("GET", "/console/rewards")["body"]

    created = post(admin, "/console/rewards", page, name="  Hoodie ", description="Organic", cost="500", stock="3")

    assert created["statusCode"] == 303
    assert location(created) == "/console/rewards?done=reward-created"
    [hoodie] = store.list_rewards()
    assert (hoodie.name, hoodie.description, hoodie.cost, hoodie.stock, hoodie.active) == (
        "Hoodie",
        "Organic",
        500,
        3,
        True,
    )
    shown = admin.call("GET", "/console/rewards", query={"done": "reward-created"})["body"]
    assert "The reward is in the catalogue." in shown
    assert any("Hoodie" in row and "500" in row and "Available" in row for row in table_rows(shown))


def test_a_bad_reward_is_shown_again_with_each_fields_reason_and_nothing_is_created(admin, store):
    page = admin.call("GET", "/console/rewards")["body"]

    refused = post(admin, "/console/rewards", page, name=" ", description="", cost="1.5", stock="-2")

    assert refused["statusCode"] == 400
    body = refused["body"]
    assert 'id="reward-name-error" class="field-error">Name is required<' in body
    assert "Points it costs must be a whole number from 1 to 1,000,000" in body
    assert "Items in stock must be a whole number from 0 to 1,000,000" in body
    assert 'id="reward-stock" name="stock" value="-2"' in body  # what the admin typed stays
    assert store.list_rewards() == []


def test_restock_adds_items_and_a_bad_count_changes_nothing(admin, store):
    mug = reward(store, stock=1)
    page = admin.call("GET", "/console/rewards")["body"]

    assert location(post(admin, f"/console/rewards/{mug}/restock", page, add="4")).endswith("done=reward-restocked")
    refused = post(admin, f"/console/rewards/{mug}/restock", page, add="0")

    assert refused["statusCode"] == 400
    assert f'id="add-{mug}-error" class="field-error">Items to add must be a whole number from 1' in refused["body"]
    assert store.get_reward(mug).stock == 5


def test_a_retired_reward_stays_listed_and_can_no_longer_be_redeemed(admin, store, aws):
    mug = reward(store)
    employee(aws, "e-1", "Ana", "ana@example.com")
    page = admin.call("GET", "/console/rewards")["body"]

    retired = post(admin, f"/console/rewards/{mug}/retire", page)

    assert location(retired).endswith("done=reward-retired")
    assert store.get_reward(mug).active is False
    catalogue = table_rows(admin.call("GET", "/console/rewards")["body"])
    assert any("Team mug" in row and "Retired" in row for row in catalogue)
    with pytest.raises(Exception, match="not available"):
        redeem(store, "e-1", mug, "press-0001", 1)


def test_restocking_or_retiring_an_unknown_reward_is_a_404_page(admin):
    page = admin.call("GET", "/console/rewards")["body"]

    assert post(admin, "/console/rewards/r-nope/retire", page)["statusCode"] == 404
    assert post(admin, "/console/rewards/r-nope/restock", page, add="1")["statusCode"] == 404


# ---------------------------------------------------------------------------------- redemptions
def test_redemptions_show_name_and_email_newest_first_and_fulfilling_moves_them(admin, store, aws):
    mug, cap = reward(store, "Team mug"), reward(store, "Cap", cost=50)
    employee(aws, "e-1", "Ana <Ops>", "ana@example.com")
    employee(aws, "e-2", "Bo", "bo@example.com")
    redeem(store, "e-1", mug, "press-0001", 1)
    redeem(store, "e-2", cap, "press-0002", 2)

    page = admin.call("GET", "/console/rewards")["body"]

    assert "Ana &lt;Ops&gt;" in page  # escaped
    assert redemption_rows(page) == [
        "2026-11-02 09:02 Bo bo@example.com Cap 50 Fulfil",
        "2026-11-02 09:01 Ana <Ops> ana@example.com Team mug 100 Fulfil",
    ]
    done = post(admin, "/console/redemptions/e-1/press-0001/fulfil", page)
    again = post(admin, "/console/redemptions/e-1/press-0001/fulfil", page)

    assert location(done) == location(again) == "/console/rewards?done=redemption-fulfilled"
    first = store.redemption("e-1", "press-0001")
    assert first.status is RedemptionStatus.FULFILLED
    assert [r.redemption_id for r in store.open_redemptions(10).items] == ["press-0002"]
    fulfilled = admin.call("GET", "/console/rewards", query={"show": "fulfilled"})["body"]
    [row] = redemption_rows(fulfilled)
    assert "Ana <Ops> ana@example.com Team mug 100 2026-11-02 09:01" in row
    assert store.redemption("e-1", "press-0001").fulfilled_at == first.fulfilled_at  # the second changed nothing


def test_redemptions_are_paginated_with_an_opaque_cursor(admin, store, aws):
    mug = reward(store, stock=40)
    employee(aws, "e-1", "Ana", "ana@example.com")
    for minute in range(30):
        redeem(store, "e-1", mug, f"press-{minute:04d}", minute)

    first = admin.call("GET", "/console/rewards")["body"]
    link = re.search(r'href="/console/rewards(\?show=pending&amp;next=[^"]+)"', first)
    assert link
    query = dict(re.findall(r"(\w+)=([^&]+)", html.unescape(link.group(1))))
    second = admin.call("GET", "/console/rewards", query=query)["body"]

    assert len(redemption_rows(first)) == 25 and len(redemption_rows(second)) == 5
    assert redemption_rows(second)[-1].startswith("2026-11-02 09:00 ")
    bad = admin.call("GET", "/console/rewards", query={"next": "not-a-cursor"})
    assert bad["statusCode"] == 422
    assert "is not a token from a previous page" in bad["body"]


# ---------------------------------------------------------------------------------- refusals
def test_without_the_csrf_token_nothing_changes(admin, store, aws):
    mug = reward(store)
    employee(aws, "e-1", "Ana", "ana@example.com")
    redeem(store, "e-1", mug, "press-0001", 1)

    refusals = [
        post(admin, "/console/rewards", name="Cap", cost="5", stock="1"),
        post(admin, f"/console/rewards/{mug}/restock", add="3"),
        post(admin, f"/console/rewards/{mug}/retire"),
        post(admin, "/console/redemptions/e-1/press-0001/fulfil"),
        admin.call("POST", "/console/redemptions/e-1/press-0001/fulfil", body=urlencode({"csrf": "guessed"})),
    ]

    assert [response["statusCode"] for response in refusals] == [403] * 5
    [only] = store.list_rewards()
    assert (only.stock, only.active) == (4, True)
    assert store.redemption("e-1", "press-0001").status is RedemptionStatus.REQUESTED


def test_without_a_session_the_page_redirects_and_posts_are_refused(issuer, store):  # noqa: F811
    mug = reward(store)
    stranger = Browser()

    assert location(stranger.call("GET", "/console/rewards")).startswith("/console/signin")
    assert post(stranger, f"/console/rewards/{mug}/retire", csrf="x")["statusCode"] == 401
    assert store.get_reward(mug).active is True


def test_a_non_admin_never_reaches_the_page(issuer):  # noqa: F811
    browser = Browser()
    refused = sign_in(browser, issuer, NOT_ADMIN)

    assert refused["statusCode"] == 403
    assert location(browser.call("GET", "/console/rewards")).startswith("/console/signin")


# ---------------------------------------------------------------------------------- permissions
def test_the_console_function_may_make_every_call_the_rewards_page_makes(issuer, store, aws):  # noqa: F811
    mug = reward(store)
    employee(aws, "e-1", "Ana", "ana@example.com")
    redeem(store, "e-1", mug, "press-0001", 1)
    clear_runtime_caches()
    with count_aws_calls(keep_requests=True) as calls:
        browser = Browser()
        sign_in(browser, issuer)
        page = browser.call("GET", "/console/rewards")["body"]
        assert post(browser, "/console/rewards", page, name="Cap", cost="5", stock="1")["statusCode"] == 303
        assert post(browser, f"/console/rewards/{mug}/restock", page, add="3")["statusCode"] == 303
        assert post(browser, f"/console/rewards/{mug}/retire", page)["statusCode"] == 303
        assert post(browser, "/console/redemptions/e-1/press-0001/fulfil", page)["statusCode"] == 303
        assert browser.call("GET", "/console/rewards", query={"show": "fulfilled"})["statusCode"] == 200
    operations = {operation for operation, _ in calls.requests}
    assert {"dynamodb.Query", "dynamodb.BatchGetItem", "dynamodb.PutItem", "dynamodb.UpdateItem"} <= operations
    assert denied("ConsoleFunction", calls.requests) == []
