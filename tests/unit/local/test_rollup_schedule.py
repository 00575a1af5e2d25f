"""The local cloud's clock finds the report function's roll-up schedule in the real template.yaml
and would fire it every quarter of an hour with the roll-up's input, beside the daily census."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from chorus_local.clock import template_schedules
from chorus_local.functions import FunctionRuntime, load_functions
from chorus_local.template import Stack, load_template

ROOT = Path(__file__).resolve().parents[3]


def test_the_rollup_schedule_fires_every_quarter_hour_with_its_job_and_the_census_stays_daily() -> None:
    # Given the real template, as the local cloud reads it
    stack = Stack(load_template(ROOT / "template.yaml"))
    for logical_id, resource in stack.resources.items():
        if resource.type == "AWS::KMS::Key":
            stack.set_ref(logical_id, f"key-id-of-{logical_id}")
        if resource.type == "AWS::DynamoDB::Table":
            stack.set_attribute(
                logical_id, "StreamArn", f"arn:aws:dynamodb:eu-west-1:123456789012:table/{logical_id}/stream/x"
            )
    runtime = FunctionRuntime(load_functions(stack, ROOT), {})
    start = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)

    # When the clock collects the template's schedules
    specs = {spec.label: spec for spec in template_schedules(runtime, start, "eu-west-1", "123456789012")}

    # Then the roll-up's is there, with its input, four times an hour; the census once a day
    rollup = specs["template/ReportFunction.Rollup"]
    census = specs["template/ReportFunction.DailyCensus"]
    assert rollup.event == {"job": "rollup"} and census.event == {"job": "census"}
    assert rollup.enabled and rollup.target_arn == census.target_arn
    assert len(list(rollup.expression.occurrences(start, start + timedelta(hours=1)))) == 4
    assert len(list(census.expression.occurrences(start, start + timedelta(days=1)))) == 1
