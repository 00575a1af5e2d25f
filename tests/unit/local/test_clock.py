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


def test_recurring_schedule_fires_each_occurrence_once(setup: tuple[ScheduleRunner, FakeScheduler, list[Any]]) -> None:
    runner, scheduler, calls = setup
    scheduler.schedules["sweep"] = {
        "Name": "sweep",
        "GroupName": "default",
        "ScheduleExpression": "rate(10 minutes)",
        "State": "ENABLED",
        "CreationDate": datetime.now(UTC),
        "Target": {"Arn": ARN},
    }
    start = runner.clock.now()
    runner.fire_due()  # first sight: cursor at creation
    runner.tick_to(start + timedelta(minutes=35))
    assert len(calls) == 3
    runner.tick_to(start + timedelta(minutes=35))  # same instant again: nothing new
    assert len(calls) == 3
    assert calls[0] == {}


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
