"""SnapStart in the template CloudFormation receives (after the SAM transform).

A snapshot exists only for a published version: whatever invokes a SnapStart function through
its unqualified ARN runs $LATEST, initialised from scratch, and the snapshot is paid for unused.
SAM's AutoPublishAlias makes the invokers it creates use the alias; these tests check, for every
function, that every invoker does (the HTTP API, event source mappings, S3 notifications,
EventBridge rules, schedules, the failure destinations' EventInvokeConfig, the publish queues
the app's own one-time schedules deliver to), that a new layer publishes a new version (the
chorus package is all in the layer: otherwise the alias would keep serving the old code),
SnapStart's limits, and the daily call that keeps each version active.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloudformation import REGION, ROOT, TOOLS_PYTHON, TRANSFORM_SCRIPT, transformed, walk
from tests.support.template import template as template_yaml

ALIAS = "live"
KEEP_ACTIVE_INPUT = {"chorus": "keep-snapshot"}
# Invoked by a schedule of their own at least daily: their versions never sit 14 days unused.
SCHEDULED = {
    "DigestPlannerFunction": "Weekly",  # every quarter hour, despite its name
    "SweeperFunction": "Every10Minutes",
    "ReportFunction": "DailyCensus",
    "RetentionFunction": "Daily",
}
HTTP_FUNCTIONS = ("WebFunction", "AdminApiFunction", "ConsoleFunction")


def alias_of(function: str) -> str:
    return f"{function}Alias{ALIAS}"


FUNCTIONS = sorted(
    logical_id
    for logical_id, resource in template_yaml()["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
)


def versions(template: dict[str, Any]) -> dict[str, str]:
    """The logical id of each function's published version."""
    return {
        resource["Properties"]["FunctionName"]["Ref"]: logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Version"
    }


def transformed_file(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(TOOLS_PYTHON), str(TRANSFORM_SCRIPT), "--template", str(path), "--region", REGION],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def names_function(value: Any, function: str) -> bool:
    """The value refers to the function, bare or through its alias or version."""
    text = json.dumps(value)
    suffixes = ('"', ".", "Alias", "}")
    return any(f'"{function}{suffix}' in text or f"${{{function}{suffix}" in text for suffix in suffixes)


def invokers(resources: dict[str, Any], function: str) -> dict[str, Any]:
    """What each resource that invokes the function names as its target (logical id -> target)."""
    found: dict[str, Any] = {}
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        if kind in ("AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping"):
            target = properties["FunctionName"]
        elif kind == "AWS::Scheduler::Schedule":
            target = properties["Target"]["Arn"]
        elif kind == "AWS::Events::Rule":
            for index, rule_target in enumerate(properties["Targets"]):
                if names_function(rule_target["Arn"], function):
                    found[f"{logical_id}.Targets[{index}]"] = rule_target["Arn"]
            continue
        elif kind == "AWS::S3::Bucket":
            for index, notification in enumerate(
                properties.get("NotificationConfiguration", {}).get("LambdaConfigurations", [])
            ):
                if names_function(notification["Function"], function):
                    found[f"{logical_id}.LambdaConfigurations[{index}]"] = notification["Function"]
            continue
        elif kind == "AWS::SNS::Subscription" and properties.get("Protocol") == "lambda":
            target = properties["Endpoint"]
        else:
            continue
        if names_function(target, function):
            found[logical_id] = target
    return found


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_invoker_of_every_function_calls_its_alias(function: str) -> None:
    # Given the transformed template
    template = transformed()
    resources = template["Resources"]

    # Then the function snapshots its published versions, as the parameter says
    assert resources[function]["Properties"]["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert resources[alias_of(function)]["Properties"]["Name"] == ALIAS

    # And every permission, event source mapping, schedule, rule and notification invokes the
    # alias (the daily KeepSnapshot schedule at least is there for each)
    targets = invokers(resources, function)
    assert targets, f"no invoker found for {function}"
    assert {name: {"Ref": alias_of(function)} for name in targets} == targets

    # And its asynchronous invocations' settings (retries, failure destination) are the alias's
    configs = [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig"
        and resource["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert all(config["Qualifier"] == ALIAS for config in configs)

    # And nothing anywhere names the bare function's ARN
    assert f"${{{function}.Arn}}" not in json.dumps(template)
    assert {"Fn::GetAtt": [function, "Arn"]} not in [node for _, node in walk(template)]


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_the_http_api_invokes_the_alias(function: str) -> None:
    # Given the transformed template
    resources = transformed()["Resources"]
    # Then every API integration of the function invokes its alias
    uris = [
        json.dumps(node)
        for path, node in walk(resources["HttpApi"]["Properties"]["Body"])
        if path.endswith("x-amazon-apigateway-integration.uri") and names_function(node, function)
    ]
    assert uris
    assert all(f"${{{alias_of(function)}}}" in uri for uri in uris)


def test_the_posts_apps_schedules_deliver_reach_the_publishers_alias() -> None:
    # Given the transformed template: the app creates one-time schedules at run time, whose target
    # is a publish queue from its settings (PUBLISH_QUEUE_ARNS, SHARED_PUBLISH_QUEUE_ARN)
    resources = transformed()["Resources"]
    mappings = {
        resource["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: resource["Properties"]["FunctionName"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and "Fn::GetAtt" in resource["Properties"]["EventSourceArn"]
    }
    schedule_targets: set[str] = set()
    for logical_id in FUNCTIONS:
        variables = resources[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        for name in ("PUBLISH_QUEUE_ARNS", "SHARED_PUBLISH_QUEUE_ARN"):
            if name in variables:
                text = json.dumps(variables[name])
                schedule_targets |= set(re.findall(r"\$\{(\w+)\.Arn\}", text))
                schedule_targets |= {queue for queue, _ in re.findall(r'"Fn::GetAtt": \["(\w+)", "(Arn)"\]', text)}
    assert {"LinkedInPublishQueue", "XPublishQueue", "MastodonPublishQueue", "SharedPublishQueue"} <= schedule_targets

    # Then each is a queue the publisher reads through its alias: no schedule invokes a function
    assert all(resources[queue]["Type"] == "AWS::SQS::Queue" for queue in schedule_targets)
    assert {queue: mappings.get(queue) for queue in schedule_targets} == {
        queue: {"Ref": alias_of("PublisherFunction")} for queue in schedule_targets
    }


def test_a_new_layer_publishes_a_new_version_of_each_snapstart_function(tmp_path: Path) -> None:
    # Given the template as deployed, and the same with the chorus layer's code changed (its S3
    # object, which `sam package` names after the content)
    before = versions(transformed())
    changed = tmp_path / "template.yaml"
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert "      ContentUri: layers/chorus/\n" in text
    changed.write_text(
        text.replace("      ContentUri: layers/chorus/\n", "      ContentUri: s3://artifacts/chorus-layer-v2.zip\n"),
        encoding="utf-8",
    )

    # When it is transformed
    after = versions(transformed_file(changed))

    # Then each alias moves to a new version, which Lambda snapshots with the new layer
    assert set(before) == set(after) == set(FUNCTIONS)
    assert all(after[function] != before[function] for function in FUNCTIONS)


def test_a_changed_setting_publishes_a_new_version_of_each_function(tmp_path: Path) -> None:
    # Given the template as deployed, and the same with one more tag on every function (Globals):
    # a property change, no code change (SAM's version hash counts the code, environment and
    # memory of a function without AutoPublishAliasAllProperties; a timeout, a policy or a tag
    # only with it)
    before = versions(transformed())
    changed = tmp_path / "template.yaml"
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    anchor = "    Tags:\n      app: chorus\n"
    assert text.count(anchor) == 1
    changed.write_text(text.replace(anchor, anchor + '      changed: "yes"\n'), encoding="utf-8")

    # When it is transformed
    after = versions(transformed_file(changed))

    # Then every alias moves to a new version with the setting (AutoPublishAliasAllProperties):
    # otherwise events, through the alias, would still run the version without it
    assert set(after) == set(FUNCTIONS)
    assert [function for function in FUNCTIONS if after[function] == before[function]] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_snapstart_functions_stay_within_its_limits(function: str) -> None:
    # Given a SnapStart function as CloudFormation creates it
    template = transformed()
    properties = template["Resources"][function]["Properties"]

    # Then it runs on a runtime SnapStart supports for Python (3.12 and later), with no EFS, at
    # most 512 MB of /tmp, and no provisioned concurrency on its alias (each refused with SnapStart)
    runtime = properties["Runtime"]
    assert runtime.startswith("python3.") and int(runtime.removeprefix("python3.")) >= 12
    assert "FileSystemConfigs" not in properties
    assert properties.get("EphemeralStorage", {"Size": 512})["Size"] <= 512
    assert "ProvisionedConcurrencyConfig" not in template["Resources"][alias_of(function)]["Properties"]


def fires_at_least_daily(expression: str) -> bool:
    """A Scheduler expression that fires every day: rate() of a day or less, or cron() on every day."""
    if rate := re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression):
        per_day = {"minute": 1440, "hour": 24, "day": 1}[rate[2].removesuffix("s")]
        return int(rate[1]) <= per_day
    if cron := re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression):
        day_of_month, month, day_of_week, year = cron[3], cron[4], cron[5], cron[6]
        return {day_of_month, day_of_week} <= {"*", "?"} and month == "*" and year == "*"
    return False


def test_fires_at_least_daily_reads_the_expressions_the_template_uses() -> None:
    assert fires_at_least_daily("rate(1 day)")
    assert fires_at_least_daily("rate(10 minutes)")
    assert fires_at_least_daily("cron(0/15 * * * ? *)")
    assert fires_at_least_daily("cron(15 3 * * ? *)")
    assert not fires_at_least_daily("rate(2 days)")
    assert not fires_at_least_daily("cron(0 9 ? * MON *)")
    assert not fires_at_least_daily("at(2026-12-01T09:00:00)")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_version_is_invoked_at_least_daily_through_its_alias(function: str) -> None:
    # Given the transformed template (a version not invoked for 14 days goes Inactive)
    resources = transformed()["Resources"]
    schedules = {
        logical_id.removeprefix(function): resource["Properties"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Scheduler::Schedule"
        and resource["Properties"]["Target"]["Arn"] == {"Ref": alias_of(function)}
    }
    if function in SCHEDULED:
        # Then a function on a schedule of its own is invoked by it through the alias every day
        assert fires_at_least_daily(schedules[SCHEDULED[function]]["ScheduleExpression"])
        assert "KeepSnapshot" not in schedules
        return
    # Then any other has a KeepSnapshot schedule: once a day, never retried
    keep = schedules["KeepSnapshot"]
    assert keep["ScheduleExpression"] == "rate(1 day)"
    assert keep["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    sent = json.loads(keep["Target"]["Input"])
    if function in HTTP_FUNCTIONS:
        # And what it sends an HTTP function is a GET: nothing changes because of it
        assert sent["requestContext"]["http"]["method"] == "GET"
    else:
        # And what it sends any other is the event its handler answers without any work
        assert sent == KEEP_ACTIVE_INPUT
