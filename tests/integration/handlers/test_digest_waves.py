"""Issue 11 and 13: the digest reaches each employee at the digest time in their own zone (waves
by zone, DST-correct), at the day and time they chose on /me, and still once a week at most."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from moto.ses.models import ses_backends

import admin_api_handler
import web_handler
from chorus import clock
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import ME_SCOPE, form_subject, sign_form, sign_link
from tests.conftest import ACCOUNT, MAGIC_LINK_SECRET, TABLE
from tests.support.digest import tick
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
CONTENT = [{"id": "all", "title": "For everyone", "url": "https://example.com/all", "text": "Share"}]
PARIS = {"email": "paris@example.com", "name": "Paris", "timezone": "Europe/Paris", "locale": "fr"}
NEW_YORK = {"email": "ny@example.com", "name": "New York", "timezone": "America/New_York"}
KIRITIMATI = {"email": "kiri@example.com", "name": "Kiritimati", "timezone": "Pacific/Kiritimati"}
BAKER = {"email": "baker@example.com", "name": "Baker", "timezone": "Etc/GMT+12"}  # UTC-12
EVERYONE = [PARIS, NEW_YORK, KIRITIMATI, BAKER]


class Clock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current


@pytest.fixture
def virtual_clock() -> Iterator[Clock]:
    moving = Clock(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))  # a Sunday
    clock.install(moving)
    yield moving
    clock.install(None)


def run_tick(aws: dict[str, Any], moving: Clock, at: datetime) -> dict[str, Any]:
    moving.current = at + timedelta(seconds=20)  # the scheduler fires a little after its time
    return tick(aws["sqs"], at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def sent_to() -> list[str]:
    backend = ses_backends[ACCOUNT]["eu-west-1"]
    return [
        email.message_from_string(message.raw_data, policy=email.policy.default)["To"].addresses[0].addr_spec
        for message in backend.sent_messages
    ]


def week_run(week: str) -> dict[str, Any]:
    response = admin_api_handler.lambda_handler(
        http_event("GET", "/admin/digests", query={"week": week}), FakeLambdaContext()
    )
    return dict(json.loads(response["body"]))


def me(person: dict[str, str], method: str, body: dict[str, str] | None = None) -> Any:
    now = clock.now()
    token = sign_link(RING, employee_id(person["email"]), ME_SCOPE, now + timedelta(days=2))
    event = http_event(
        method,
        "/me",
        route="/me",
        claims=None,
        query={"t": token},
        body=urlencode(body) if body is not None else None,
        headers={"content-type": "application/x-www-form-urlencoded", "host": "api.example.com"} if body else None,
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def choose(person: dict[str, str], day: str, at: str, token_for: str = "digest_time") -> Any:
    subject = form_subject(employee_id(person["email"]), ME_SCOPE, token_for)
    form = sign_form(RING, subject, clock.now() - timedelta(minutes=1))
    return me(person, "POST", {"form": form, "action": "digest_time", "day": day, "time": at})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_each_zone_gets_the_digest_at_nine_on_its_own_monday(aws, function_env, virtual_clock):
    seed(aws, CONTENT, EVERYONE)
    # When the quarter hours of a week tick (only those that matter, and one that does not)
    sent: dict[str, list[str]] = {}
    for at in (
        utc(2026, 11, 29, 18, 45),  # 08:45 Monday in Kiritimati: nobody yet
        utc(2026, 11, 29, 19, 0),  # 09:00 Monday in Kiritimati (UTC+14), Sunday in UTC
        utc(2026, 11, 30, 8, 0),  # 09:00 in Paris (winter, UTC+1)
        utc(2026, 11, 30, 14, 0),  # 09:00 in New York (winter, UTC-5)
        utc(2026, 11, 30, 21, 0),  # 09:00 Monday at UTC-12
    ):
        before = len(sent_to())
        answer = run_tick(aws, virtual_clock, at)
        sent[at.isoformat()] = sent_to()[before:]
        assert answer["tick"] == at.isoformat()
    # Then each employee got it at 09:00 their time, once
    assert list(sent.values()) == [
        [],
        [KIRITIMATI["email"]],
        [PARIS["email"]],
        [NEW_YORK["email"]],
        [BAKER["email"]],
    ]
    # And the week's run lists the waves, all in the same ISO week
    run = week_run("2026-W49")
    assert run["planning"]["zone_waves"] == [
        "America/New_York company",
        "Etc/GMT+12 company",
        "Europe/Paris company",
        "Pacific/Kiritimati company",
    ]
    assert run["sent"] == 4


def test_summer_time_moves_the_wave_an_hour_earlier_in_utc(aws, function_env, virtual_clock):
    virtual_clock.current = utc(2027, 3, 20, 12, 0)
    seed(aws, CONTENT, [PARIS, NEW_YORK])
    # New York is on summer time from 14 March, Paris from 28 March
    run_tick(aws, virtual_clock, utc(2027, 3, 22, 8, 0))
    run_tick(aws, virtual_clock, utc(2027, 3, 22, 13, 0))
    assert sent_to() == [PARIS["email"], NEW_YORK["email"]]
    run_tick(aws, virtual_clock, utc(2027, 3, 29, 7, 0))
    assert sent_to()[2:] == [PARIS["email"]]


def test_a_retried_tick_sends_nothing_twice(aws, function_env, virtual_clock):
    seed(aws, CONTENT, [PARIS])
    run_tick(aws, virtual_clock, utc(2026, 11, 30, 8, 0))
    # When the scheduler delivers the same tick again, later (a retry)
    answer = run_tick(aws, virtual_clock, utc(2026, 11, 30, 8, 0))
    # Then the wave is the same run: its page is claimed already, nobody gets a second email
    assert answer["waves"] == ["Europe/Paris company"]
    assert sent_to() == [PARIS["email"]]
    assert week_run("2026-W49")["planning"]["pages"] == 1


def test_an_employee_chooses_their_day_and_time_on_me(aws, function_env, virtual_clock):
    seed(aws, CONTENT, [PARIS, NEW_YORK])
    # Given the /me page shows the company's Monday 09:00, in the employee's language
    page = me(PARIS, "GET")
    assert page["statusCode"] == 200
    assert '<option value="MON" selected>lundi (le choix de votre entreprise)</option>' in page["body"]
    assert '<option value="09:00" selected>09:00 (le choix de votre entreprise)</option>' in page["body"]
    assert "Europe/Paris" in page["body"]
    english = me(NEW_YORK, "GET")["body"]
    assert '<option value="09:00" selected>9:00 AM (your company&#39;s choice)</option>' in english
    assert '<option value="17:45">5:45 PM</option>' in english
    # When she chooses Wednesday 07:30
    answer = choose(PARIS, "WED", "07:30")
    assert answer["statusCode"] == 303
    assert 'value="WED" selected' in me(PARIS, "GET")["body"]
    # Then Monday's 09:00 wave in Paris passes her by, Wednesday's 07:30 (06:30 UTC) brings it
    run_tick(aws, virtual_clock, utc(2026, 11, 30, 8, 0))
    assert sent_to() == []
    run_tick(aws, virtual_clock, utc(2026, 12, 2, 6, 30))
    assert sent_to() == [PARIS["email"]]
    # And New York, who kept the company's time, still gets it Monday 09:00 there
    run_tick(aws, virtual_clock, utc(2026, 11, 30, 14, 0))
    assert sent_to() == [PARIS["email"], NEW_YORK["email"]]


def test_choosing_friday_after_mondays_digest_sends_no_second_one_that_week(aws, function_env, virtual_clock):
    seed(aws, CONTENT, [PARIS])
    run_tick(aws, virtual_clock, utc(2026, 11, 30, 8, 0))
    assert sent_to() == [PARIS["email"]]
    # When, on Tuesday, she moves her digest to Friday 09:00
    virtual_clock.current = utc(2026, 12, 1, 10, 0)
    assert choose(PARIS, "FRI", "09:00")["statusCode"] == 303
    # Then Friday's wave of that week sends her nothing (the week's marker)
    run_tick(aws, virtual_clock, utc(2026, 12, 4, 8, 0))
    assert sent_to() == [PARIS["email"]]
    assert week_run("2026-W49")["skipped"]["already_sent"] == 1
    # And the next week's Friday brings the next one, Monday's no longer
    run_tick(aws, virtual_clock, utc(2026, 12, 7, 8, 0))
    assert sent_to() == [PARIS["email"]]
    run_tick(aws, virtual_clock, utc(2026, 12, 11, 8, 0))
    assert sent_to() == [PARIS["email"], PARIS["email"]]


def test_choosing_back_the_company_time_follows_it_again(aws, function_env, virtual_clock):
    seed(aws, CONTENT, [PARIS])
    assert choose(PARIS, "TUE", "10:15")["statusCode"] == 303
    assert choose(PARIS, "MON", "09:00")["statusCode"] == 303
    item = aws["dynamodb"].get_item(
        TableName=TABLE, Key={"PK": {"S": f"EMP#{employee_id(PARIS['email'])}"}, "SK": {"S": "PROFILE"}}
    )["Item"]
    assert "digest_slot" not in item
    assert item["GSI2SK"]["S"] == f"Europe/Paris#company#{employee_id(PARIS['email'])}"


@pytest.mark.parametrize(
    ("day", "at", "status"),
    [
        ("SAT", "09:00", 422),  # not a working day
        ("MON", "05:45", 422),  # before 06:00
        ("MON", "18:15", 422),  # after 18:00
        ("MON", "09:10", 400),  # not a quarter hour: not from the page
        ("monday", "09:00", 400),
        ("MON", "9:00", 400),
        ("MON", "", 400),
    ],
)
def test_a_time_not_on_offer_is_refused_and_nothing_is_stored(aws, function_env, virtual_clock, day, at, status):
    seed(aws, CONTENT, [PARIS])
    answer = choose(PARIS, day, at)
    assert answer["statusCode"] == status
    if status == 422:
        assert "Choisissez un jour ouvré" in answer["body"]
    item = aws["dynamodb"].get_item(
        TableName=TABLE, Key={"PK": {"S": f"EMP#{employee_id(PARIS['email'])}"}, "SK": {"S": "PROFILE"}}
    )["Item"]
    assert "digest_slot" not in item


def test_the_choice_needs_the_pages_own_form_token(aws, function_env, virtual_clock):
    seed(aws, CONTENT, [PARIS])
    # A form token for another action of the page is refused
    assert choose(PARIS, "WED", "07:30", token_for="hide")["statusCode"] in {400, 403}
    subject = form_subject(employee_id(NEW_YORK["email"]), ME_SCOPE, "digest_time")
    stolen = sign_form(RING, subject, clock.now() - timedelta(minutes=1))
    body = {"form": stolen, "action": "digest_time", "day": "WED", "time": "07:30"}
    assert me(PARIS, "POST", body)["statusCode"] in {400, 403}
    assert 'value="MON" selected' in me(PARIS, "GET")["body"]


def test_a_roster_upload_keeps_the_employees_choice(aws, function_env, virtual_clock):
    seed(aws, CONTENT, [PARIS])
    assert choose(PARIS, "THU", "08:00")["statusCode"] == 303
    # When the roster is uploaded again with her name changed
    seed(aws, [], [{**PARIS, "name": "Paris Renamed"}])
    # Then Thursday 08:00 Paris (07:00 UTC) is still hers
    run_tick(aws, virtual_clock, utc(2026, 12, 3, 7, 0))
    assert sent_to() == [PARIS["email"]]


def test_a_tick_when_nobody_is_due_costs_one_read_and_one_query_per_wave_that_could_be(
    aws, function_env, virtual_clock
):
    from chorus.bootstrap import build_digest_planner
    from chorus.config import DigestPlannerSettings

    seed(aws, CONTENT, [PARIS, NEW_YORK])
    planner = build_digest_planner(
        DigestPlannerSettings.from_env(), dynamodb_client=aws["dynamodb"], sqs_client=aws["sqs"]
    )
    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name.removeprefix("before-call."))

    for client in (aws["dynamodb"], aws["sqs"]):
        client.meta.events.register("before-call", count)
    try:
        # Saturday 03:00 UTC: 04:00 in Paris, Friday 22:00 in New York: no wave can be due
        assert planner.tick(utc(2026, 12, 5, 3, 0)).as_json()["waves_due"] == 0
        assert calls == ["dynamodb.GetItem"]
        # Tuesday 10:00 UTC: 11:00 in Paris could be someone's choice (nobody's), 05:00 in New York not
        calls.clear()
        answer = planner.tick(utc(2026, 12, 1, 10, 0)).as_json()
        assert (answer["waves"], answer["waves_due"]) == ([], 1)
        assert calls == ["dynamodb.GetItem", "dynamodb.Query"]
    finally:
        for client in (aws["dynamodb"], aws["sqs"]):
            client.meta.events.unregister("before-call", count)
