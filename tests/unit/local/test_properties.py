"""Property tests: cron next_after and route matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from chorus_local.functions import FunctionSpec
from chorus_local.http_api import find_route, make_route
from chorus_local.schedules import CronExpression, _aws_dow, parse_schedule_expression

ROOT = Path(__file__).resolve().parents[3]
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(instants, st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]))
def test_cron_next_after_is_later_and_matches_the_fields(after: datetime, zone: str) -> None:
    cron = parse_schedule_expression("cron(15,45 8-17 ? * MON-FRI *)", zone)
    assert isinstance(cron, CronExpression)
    moment = cron.next_after(after)
    assert moment is not None and moment > after
    local = moment.astimezone(cron.zone)
    assert local.minute in {15, 45} and 8 <= local.hour <= 17 and 2 <= _aws_dow(local.date()) <= 6
    assert moment - after <= timedelta(days=4)  # never skips a whole working week


@given(instants)
def test_rate_occurrences_are_evenly_spaced(anchor: datetime) -> None:
    rate = parse_schedule_expression("rate(7 minutes)")
    got = list(rate.occurrences(anchor, anchor + timedelta(hours=1), anchor))
    assert got == [anchor + timedelta(minutes=7 * k) for k in range(1, 9)]


segment = st.text(alphabet=st.characters(categories=["L", "N"], include_characters="-_.~"), min_size=1, max_size=12)


@given(segment, st.lists(segment, min_size=1, max_size=5))
def test_path_parameters_round_trip(identifier: str, rest: list[str]) -> None:
    spec = FunctionSpec("F", "f", "arn", ROOT, "m.h", 3, 128, {}, [], [])
    routes = [
        make_route("GET", "/items/{id}", spec, None, "api"),
        make_route("GET", "/files/{key+}", spec, None, "api"),
    ]
    assert find_route(routes, "GET", f"/items/{identifier}") == (routes[0], {"id": identifier})
    assert find_route(routes, "GET", "/files/" + "/".join(rest)) == (routes[1], {"key": "/".join(rest)})
