"""The times the activity page offers are exactly the times an approval accepts.

The page (``activity_context``) renders the picker's bounds from the offered window; the form
it posts is read as the router reads it and approved by ``ConsentService``. Checked with the
clock on every day of a week and on the days clocks change in Paris and New York, at times of
day that land the window's edges on working hours, nights and the repeated or skipped hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.domain.approval import Approval, When
from chorus.domain.content import Content, Network
from chorus.domain.employee import Employee
from chorus.domain.magic_links import KeyRing, activity_scope, sign_link
from chorus.domain.timing import LEAD_GRACE, MIN_LEAD, SCHEDULE_HORIZON, offered_window
from chorus.errors import InvalidInput
from chorus.services.consent import ActivityView, ConsentService
from chorus.web.employee.activity import _approval_request, activity_context
from chorus.web.pages import Form

RING = KeyRing(current="k1", keys={"k1": b"offered-window-test-key-0123456789abcdef"})
ZONES = ["Europe/Paris", "America/New_York"]
# A plain week (Monday 2026-11-23 to Sunday 2026-11-29, today's), and the days clocks change.
WEEK = [date(2026, 11, 23) + timedelta(days=offset) for offset in range(7)]
DST_DAYS = {
    "Europe/Paris": [date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
}
TIMES_OF_DAY = [time(0, 30), time(1, 55), time(2, 30), time(8, 57, 31), time(13, 0), time(17, 55), time(23, 52)]


class _Keys:
    def key_ring(self) -> KeyRing:
        return RING


class _Records:
    """The content the page showed, and what the approval recorded."""

    def __init__(self, content: Content) -> None:
        self.content = content
        self.approved: list[Approval] = []

    def current_content(self, _content_id: str) -> Content:
        return self.content

    def record_approvals(self, approvals: list[Approval], *_: Any, **__: Any) -> None:
        self.approved.extend(approvals)


class _Scheduler:
    def schedule_once(self, *_: Any) -> None:
        return None


def _service(now: datetime, records: _Records) -> ConsentService:
    return ConsentService(
        records,  # type: ignore[arg-type]
        _Keys(),
        _Scheduler(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        approvals=None,  # type: ignore[arg-type]
        subscriptions=None,  # type: ignore[arg-type]
        networks=[Network.SANDBOX, Network.LINKEDIN],
        now=lambda: now,
    )


def _content(now: datetime, starts: timedelta | None, ends: timedelta | None) -> Content:
    return Content(
        content_id="c1",
        title="T",
        url="https://example.com/t",
        text="Share",
        starts_at=now + starts if starts is not None else None,
        ends_at=now + ends if ends is not None else None,
    )


def _page(now: datetime, zone: str, content: Content) -> dict[str, Any]:
    employee = Employee(employee_id="e1", email="e@example.com", name="E", timezone=zone)
    view = ActivityView(
        employee, content, [Network.SANDBOX], set(), {}, declined=False, proposed={Network.SANDBOX: content.text}
    )
    forms = {"approve": "form", "decline": "form", "cancel": "form"}
    page = activity_context(view, "token", forms, connect_token="connect", policy="", now=now, errors=[])
    return page | {"shown": content}


def _approve(page: dict[str, Any], posted_at: datetime, when: str, at: str = "") -> list[Approval]:
    """Posts the page's form (as the router reads it) at ``posted_at``."""
    form = Form(
        {
            "network": ["sandbox", "linkedin"],
            "text_sandbox": ["Hello"],
            "text_linkedin": ["Hello"],
            "when": [when],
            "at": [at],
            "timezone": [page["timezone"]],
            "content_version": [str(page["content_version"])],
        }
    )
    records = _Records(page["shown"])
    token = sign_link(RING, "e1", activity_scope("c1"), posted_at + timedelta(days=14))
    _service(posted_at, records).approve(token, _approval_request(form, "test"))
    return records.approved


def _minute_after(value: str) -> str:
    return (datetime.fromisoformat(value) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")


def _moments(zones: list[str], days: list[date]) -> Iterator[tuple[str, datetime]]:
    for zone in zones:
        for day in days:
            for moment in TIMES_OF_DAY:
                yield zone, datetime.combine(day, moment, tzinfo=ZoneInfo(zone)).astimezone(UTC)


CASES = [*_moments(ZONES, WEEK), *(case for zone in ZONES for case in _moments([zone], DST_DAYS[zone]))]


@pytest.mark.parametrize(("zone", "now"), CASES, ids=[f"{zone}-{now:%a-%Y%m%dT%H%MZ}" for zone, now in CASES])
def test_the_page_offers_what_the_approval_accepts(zone: str, now: datetime) -> None:
    # Given content that runs for three more weeks, seen at this moment
    page = _page(now, zone, _content(now, timedelta(days=-1), timedelta(days=21)))
    earliest, latest = page["at_min"], page["at_max"]
    assert page["can_choose_time"]
    # Then the offer runs for the coming week, whatever the day (not to the end of the ISO week;
    # wall-clock hours, so a clock change moves it by one)
    span = datetime.fromisoformat(latest) - datetime.fromisoformat(earliest)
    assert SCHEDULE_HORIZON - MIN_LEAD - timedelta(hours=1, minutes=2) <= span < SCHEDULE_HORIZON + timedelta(hours=1)
    # When the employee picks the earliest or the latest time, having read the page a while
    for posted_at in (now + timedelta(seconds=3), now + LEAD_GRACE - timedelta(seconds=1)):
        for value in (earliest, latest):
            [chosen, _] = _approve(page, posted_at, "at", value)
            # Then it is accepted, at that wall-clock time in the employee's zone
            assert chosen.publish_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") == value
            assert now + MIN_LEAD <= chosen.publish_at < now + SCHEDULE_HORIZON
    # And a minute past the latest time is refused (posted at once: later posts may go further,
    # the horizon runs from the approval)
    with pytest.raises(InvalidInput) as refused:
        _approve(page, now, "at", _minute_after(latest))
    assert refused.value.problems[0].field == "at"
    # And "spread" lands inside the same window, in working hours
    for approval in _approve(page, now + timedelta(seconds=3), "spread"):
        local = approval.publish_at.astimezone(ZoneInfo(zone))
        assert now + MIN_LEAD <= approval.publish_at < now + SCHEDULE_HORIZON
        assert local.weekday() < 5 and time(9) <= local.time() < time(18)


def test_a_sunday_offers_the_week_ahead_not_the_rest_of_sunday() -> None:
    sunday_evening = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    page = _page(sunday_evening, "Europe/Paris", _content(sunday_evening, None, timedelta(days=10)))
    assert page["at_min"] == "2026-11-29T18:10"
    assert page["at_max"] == "2026-12-06T17:59"
    [tuesday, _] = _approve(page, sunday_evening + timedelta(seconds=5), "at", "2026-12-01T10:00")
    assert tuesday.publish_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_window_ends_with_the_content_and_starts_with_it() -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    page = _page(now, "Europe/Paris", _content(now, timedelta(days=1), timedelta(days=2, minutes=30)))
    assert (page["at_min"], page["at_max"]) == ("2026-11-25T10:00", "2026-11-26T10:29")
    with pytest.raises(InvalidInput):
        _approve(page, now, "at", "2026-11-25T09:59")
    with pytest.raises(InvalidInput):
        _approve(page, now, "at", "2026-11-26T10:30")


def test_content_ending_within_the_lead_offers_no_time_to_choose() -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    page = _page(now, "Europe/Paris", _content(now, None, timedelta(minutes=5)))
    assert not page["can_choose_time"]
    assert [approval.when for approval in _approve(page, now, "now")] == [When.NOW, When.NOW]


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from([*ZONES, "Asia/Tokyo", "Australia/Sydney", "UTC"]),
    st.integers(min_value=0, max_value=30 * 24 * 60),
    st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60),
)
def test_any_offered_bound_is_accepted(naive_now: datetime, zone: str, ends_in: int, starts_in: int) -> None:
    now = naive_now.replace(tzinfo=UTC)
    content = _content(now, timedelta(minutes=starts_in), timedelta(minutes=starts_in + ends_in))
    page = _page(now, zone, content)
    window = offered_window(now, content.starts_at, content.ends_at)
    assert page["can_choose_time"] == (not window.empty)
    if window.empty:
        return
    for value in (page["at_min"], page["at_max"]):
        [chosen, _] = _approve(page, now + timedelta(seconds=3), "at", value)
        assert window.earliest <= chosen.publish_at < window.latest
