"""What happened to the week's digest after it left: hard bounces, spam complaints and unsubscribes
are counted in the digest run of the week they arrived (the console's history), each once, however
often SES or the mail client delivers the same event."""

from __future__ import annotations

from datetime import timedelta

from chorus import clock
from chorus.domain.digest import run_week
from chorus.store.digest_runs import DigestRunStore
from tests.conftest import TABLE
from tests.integration.handlers.test_email_feedback import CONTENT, EMPLOYEES, deliver, profile, ses_event
from tests.integration.handlers.test_employee_pages import ADA, get, post, token, world
from tests.support.seed import seed

__all__ = ["world"]  # the fixture, used by name


def run_of(aws, week_id: str):
    return DigestRunStore(aws["dynamodb"], TABLE).run(week_id)


def test_bounces_and_complaints_count_once_in_the_week_they_arrived(aws):
    # Given two employees, and SES feedback dated 2026-11-30 (ISO week 49 in Paris)
    seed(aws, CONTENT, EMPLOYEES)
    # When SES delivers a hard bounce and a complaint, each twice
    for _ in range(2):
        deliver(ses_event("bounce_permanent"))
        deliver(ses_event("complaint"))
    # Then the week's run counts one of each
    run = run_of(aws, "2026-W49")
    assert (run.bounced, run.complained, run.unsubscribes) == (1, 1, 0)
    # And a soft bounce suppresses nobody and counts nothing
    deliver(ses_event("bounce_transient"))
    assert run_of(aws, "2026-W49").bounced == 1
    # And the suppressions themselves are as before
    assert profile(aws, "camille@example.com")["digest_opt_in"] is False


def test_feedback_about_an_unknown_address_counts_nothing(aws):
    # Given nobody on the roster
    seed(aws, CONTENT, [])
    deliver(ses_event("bounce_permanent"))
    assert run_of(aws, "2026-W49").bounced == 0
    items = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    assert not [item for item in items if item["PK"]["S"].startswith("DIGESTRUN#")]


def test_an_unsubscribe_counts_once_however_often_the_link_is_pressed(world):
    # Given Ada's unsubscribe link
    link = token(scope="unsub", expires=timedelta(days=60))
    assert get("/unsubscribe", query={"t": link})["statusCode"] == 200
    # When she presses it, and her mail client's one-click POST comes too
    for _ in range(2):
        assert post("/unsubscribe", {"List-Unsubscribe": "One-Click"}, query={"t": link})["statusCode"] == 200
    # Then this week's run counts one unsubscribe, and her profile keeps the first time
    run = run_of(world, run_week(clock.now(), "Europe/Paris").week_id)
    assert run.unsubscribes == 1
    assert profile(world, ADA)["digest_opt_in"] is False
