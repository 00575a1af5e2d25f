"""Which week's digest run an event counts in, the weeks the console's history lists, and which
ID-token email an admin's test copy may go to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from chorus.domain.digest import RUN_LIFETIME, DigestRun, run_week
from chorus.domain.timing import week_of
from chorus.services.console_auth import verified_email
from chorus.services.digest import HISTORY_WEEKS, DigestPlanner

ZONES = st.sampled_from(["Europe/Paris", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati", "UTC"])
MOMENTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))


def test_an_event_early_on_monday_in_paris_counts_in_the_new_week():
    # Sunday 23:30 UTC is Monday 00:30 in Paris: the run of that Monday's week
    counted = run_week(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "Europe/Paris")
    assert counted.week_id == "2026-W49"
    assert run_week(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "UTC").week_id == "2026-W48"


@given(MOMENTS, ZONES)
def test_an_event_counts_in_the_week_it_happened_and_its_record_outlives_it(moment, zone):
    counted = run_week(moment, zone)
    week = week_of(moment, zone)
    assert counted.week_id == week.week_id
    assert counted.expires_at == week.end + RUN_LIFETIME > moment + RUN_LIFETIME


class Runs:
    """Only the weeks asked for are read, in one call."""

    def __init__(self, existing: dict[str, DigestRun]) -> None:
        self.existing = existing
        self.asked: list[list[str]] = []

    def runs(self, week_ids: list[str]) -> list[DigestRun]:
        self.asked.append(list(week_ids))
        return [self.existing[week_id] for week_id in week_ids if week_id in self.existing]


def planner(runs: Runs, zone: str) -> DigestPlanner:
    unused: Any = None
    return DigestPlanner(
        unused, unused, unused, impacts=unused, runs=runs, timezone=zone, digest_time=unused, zones=unused
    )


@given(MOMENTS, ZONES)
# Sunday 23:00 in Paris, the night clocks went back: a week of UTC time before it is Monday 00:00.
@example(datetime(2028, 10, 29, 22, 0, tzinfo=UTC), "Europe/Paris")
def test_the_history_lists_this_week_and_the_weeks_before_newest_first_in_one_read(moment, zone):
    runs = Runs({week_of(moment, zone).week_id: DigestRun(week_id=week_of(moment, zone).week_id, sent=3)})
    history = planner(runs, zone).history(moment)
    assert len(runs.asked) == 1 and len(history) == HISTORY_WEEKS
    assert history[0].week_id == week_of(moment, zone).week_id and history[0].sent == 3
    # Consecutive ISO weeks, none skipped or repeated across a daylight-saving change or a year's end
    # (counted back from this week's Thursday: whole weeks of UTC time, which a DST change moves by
    # an hour, cannot leave a Thursday's ISO week; from a Sunday 23:00 they can)
    thursday = week_of(moment, zone).start + timedelta(days=3)
    expected = [week_of(thursday - timedelta(weeks=back), zone).week_id for back in range(HISTORY_WEEKS)]
    assert [run.week_id for run in history] == expected
    assert len({run.week_id for run in history}) == HISTORY_WEEKS
    assert all(run.sent == 0 for run in history[1:])


def test_a_test_copy_goes_only_to_a_verified_address():
    assert verified_email({"email": "lea@example.com", "email_verified": True}) == "lea@example.com"
    # OIDC Core: an issuer that says nothing of verification is taken at its word (the local one)
    assert verified_email({"email": "lea@example.com"}) == "lea@example.com"
    assert verified_email({"email": "lea@example.com", "email_verified": False}) == ""
    assert verified_email({"email": "lea@example.com", "email_verified": "false"}) == ""
    assert verified_email({"sub": "x"}) == "" and verified_email({"email": "not an address"}) == ""
