"""Virtual clock and schedule firing with fakes (no moto, no sockets)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chorus_local.clock import ScheduleRunner, VirtualClock, template_schedules
from chorus_local.functions import FunctionEvent, FunctionRuntime, FunctionSpec
from chorus_local.invoker import AsyncInvoker

ROOT = Path(__file__).resolve().parents[3]
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:publisher"


class FakeScheduler:
    """Just enough of the Scheduler API: schedules kept in a dict."""

    def __init__(self) -> None:
        self.schedules: dict[str, dict[str, Any]] = {}

    def list_schedules(self, **_: Any) -> dict[str, Any]:
        return {"Schedules": [{"Name": name, "GroupName": s["GroupName"]} for name, s in self.schedules.items()]}

    def get_schedule(self, Name: str, GroupName: str) -> dict[str, Any]:
        return self.schedules[Name]

    def delete_schedule(self, Name: str, GroupName: str) -> None:
        del self.schedules[Name]


def _spec(events: list[FunctionEvent] | None = None) -> FunctionSpec:
    return FunctionSpec("Publisher", "publisher", ARN, ROOT, "m.h", 3, 128, {}, events or [], [])


@pytest.fixture
def setup() -> tuple[ScheduleRunner, FakeScheduler, list[Any]]:
    calls: list[Any] = []
    runtime = FunctionRuntime({"Publisher": _spec()}, {})
    runtime.override("Publisher", lambda event, _context: calls.append(event))
    scheduler = FakeScheduler()
    invoker = AsyncInvoker(runtime, lambda _service: None, retry_delay=0)
    runner = ScheduleRunner(VirtualClock(), lambda _service: scheduler, runtime, invoker, [])
    return runner, scheduler, calls


def test_clock_only_moves_forward() -> None:
    clock = VirtualClock()
    start = clock.now()
    assert clock.advance_to(start - timedelta(days=1)) >= start
    later = clock.advance_to(start + timedelta(days=3))
    assert later == start + timedelta(days=3)
    assert clock.now() >= later


def test_at_schedule_fires_once_then_is_deleted(setup: tuple[ScheduleRunner, FakeScheduler, list[Any]]) -> None:
    runner, scheduler, calls = setup
    when = (runner.clock.now() + timedelta(hours=1)).astimezone(UTC)
    scheduler.schedules["post-1"] = {
        "Name": "post-1",
        "GroupName": "posts",
        "ScheduleExpression": f"at({when:%Y-%m-%dT%H:%M:%S})",
        "ScheduleExpressionTimezone": "UTC",
        "ActionAfterCompletion": "DELETE",
        "State": "ENABLED",
        "CreationDate": datetime.now(UTC),
        "Target": {"Arn": ARN, "Input": json.dumps({"id": 1})},
    }
    assert runner.fire_due() == []
    _, fired = runner.tick_to(when + timedelta(seconds=1))
    assert [(f.schedule, f.ok, f.deleted) for f in fired] == [("posts/post-1", True, True)]
    assert calls == [{"id": 1}]
    assert scheduler.schedules == {}
    assert runner.tick_to(when + timedelta(hours=5))[1] == []


def _schedule(name: str, expression: str, zone: str = "UTC", **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "GroupName": "default",
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": zone,
        "State": "ENABLED",
        "CreationDate": datetime.now(UTC),
        "Target": {"Arn": ARN, "Input": json.dumps({"schedule": name})},
        **extra,
    }


def test_a_rate_schedule_fires_once_per_jump_for_its_latest_occurrence(
    setup: tuple[ScheduleRunner, FakeScheduler, list[Any]],
) -> None:
    runner, scheduler, calls = setup
    scheduler.schedules["sweep"] = _schedule("sweep", "rate(10 minutes)")
    start = runner.clock.now()
    runner.fire_due()  # first sight: cursor at creation
    # A week passes in one jump: the sweeper runs once, not 1,008 times
    _, fired = runner.tick_to(start + timedelta(days=7, minutes=5))
    assert len(calls) == 1
    [only] = fired
    assert abs(datetime.fromisoformat(only.occurrence) - (start + timedelta(days=7))) < timedelta(seconds=1)
    runner.tick_to(start + timedelta(days=7, minutes=5))  # same instant again: nothing new
    assert len(calls) == 1


def test_a_three_month_jump_fires_a_recurring_schedule_once_and_every_one_time_schedule(
    setup: tuple[ScheduleRunner, FakeScheduler, list[Any]],
) -> None:
    # Given the digest's quarter-hour tick, a weekly cron in Paris, and posts at chosen times
    runner, scheduler, _ = setup
    seen: list[tuple[str, datetime, dict[str, Any]]] = []
    runner._runtime.override(
        "Publisher", lambda event, _context: seen.append((event["schedule"], runner.clock.now(), event))
    )
    start = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # a Sunday
    runner.clock.advance_to(start)
    quarter = _schedule("quarter", "rate(15 minutes)")
    quarter["Target"]["Input"] = json.dumps({"schedule": "quarter", "at": "<aws.scheduler.scheduled-time>"})
    scheduler.schedules["quarter"] = quarter
    scheduler.schedules["waves"] = _schedule("waves", "cron(0/15 * * * ? *)")
    scheduler.schedules["weekly"] = _schedule("weekly", "cron(0 9 ? * MON *)", "Europe/Paris")
    scheduler.schedules["tuesday"] = _schedule("tuesday", "at(2026-12-01T10:00:00)", "Europe/Paris")
    scheduler.schedules["january"] = _schedule("january", "at(2027-01-15T15:30:00)", "America/New_York")
    scheduler.schedules["february"] = _schedule("february", "at(2027-02-20T08:00:00)", "UTC")
    runner.fire_due()
    # When the clock jumps three months
    target = datetime(2027, 3, 1, 8, 7, tzinfo=UTC)
    runner.tick_to(target)
    # Then each one-time schedule ran in order, with the clock at its own time (to the second:
    # real time goes on by microseconds while the jump runs)
    timed = [(name, moment.replace(microsecond=0)) for name, moment, _ in seen]
    assert timed[:3] == [
        ("tuesday", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("january", datetime(2027, 1, 15, 20, 30, tzinfo=UTC)),
        ("february", datetime(2027, 2, 20, 8, 0, tzinfo=UTC)),
    ]
    # And each recurring schedule ran once, at the end, for its latest occurrence (not ~8,800
    # quarter hours nor 13 Mondays)
    recurring = {name: moment.replace(microsecond=0) for name, moment, _ in seen[3:]}
    assert len(seen) == 6 and recurring == dict.fromkeys(["quarter", "waves", "weekly"], target)
    [fired_quarter] = [event for name, _, event in seen if name == "quarter"]
    latest = datetime.fromisoformat(fired_quarter["at"])
    assert target - timedelta(minutes=15) < latest <= target
    waves = [fired for fired in runner.history if fired.schedule == "default/waves"]
    assert [fired.occurrence for fired in waves] == [datetime(2027, 3, 1, 8, 0, tzinfo=UTC).isoformat()]
    weekly = [fired for fired in runner.history if fired.schedule == "default/weekly"]
    assert [fired.occurrence for fired in weekly] == [datetime(2027, 3, 1, 8, 0, tzinfo=UTC).isoformat()]
    # And the same instant again fires nothing new
    assert runner.tick_to(target)[1] == []


def test_template_schedule_events_are_found() -> None:
    events = [
        FunctionEvent(
            "Weekly",
            "ScheduleV2",
            {"ScheduleExpression": "cron(0 9 ? * MON *)", "ScheduleExpressionTimezone": "Europe/Paris"},
            {},
        ),
        FunctionEvent("Sweep", "Schedule", {"Schedule": "rate(10 minutes)"}, {}),
        FunctionEvent("Api", "HttpApi", {}, {}),
    ]
    runtime = FunctionRuntime({"Publisher": _spec(events)}, {})
    start = datetime(2025, 3, 20, tzinfo=UTC)
    specs = template_schedules(runtime, start, "eu-west-1", "123456789012")
    assert [spec.label for spec in specs] == ["template/Publisher.Weekly", "template/Publisher.Sweep"]
    assert specs[1].event["detail-type"] == "Scheduled Event"
    assert next(specs[0].expression.occurrences(start, start + timedelta(days=7))) == datetime(
        2025, 3, 24, 8, tzinfo=UTC
    )
