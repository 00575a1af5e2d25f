"""SnapStart in the template CloudFormation receives (after the SAM transform).

A snapshot exists only for a published version: whatever invokes a SnapStart function through
its unqualified ARN runs $LATEST, initialised from scratch, and the snapshot is paid for unused.
SAM's AutoPublishAlias makes the HTTP API and its permissions use the alias; these tests check
that every invoker does, that a new layer publishes a new version (the chorus package is all in
the layer: otherwise the alias would keep serving the old code), and SnapStart's limits.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cloudformation import REGION, ROOT, TOOLS_PYTHON, TRANSFORM_SCRIPT, transformed, walk

SNAPSTART_FUNCTIONS = ("WebFunction", "AdminApiFunction", "ConsoleFunction")
ALIAS = "live"


def alias_of(function: str) -> str:
    return f"{function}Alias{ALIAS}"


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


@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
def test_every_invoker_of_a_snapstart_function_calls_its_alias(function: str) -> None:
    # Given the transformed template
    template = transformed()
    resources = template["Resources"]

    # Then the function snapshots its published versions, as the parameter says
    assert resources[function]["Properties"]["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert resources[alias_of(function)]["Properties"]["Name"] == ALIAS

    # And every permission to invoke it is the alias's
    permissions = [
        resource["Properties"]["FunctionName"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and json.dumps(resource["Properties"]["FunctionName"]).find(f'"{function}') >= 0
    ]
    assert permissions, f"no permission found for {function}"
    assert all(target == {"Ref": alias_of(function)} for target in permissions)

    # And every API integration invokes the alias; nothing anywhere names the bare function's ARN
    uris = [
        json.dumps(node)
        for path, node in walk(resources["HttpApi"]["Properties"]["Body"])
        if path.endswith("x-amazon-apigateway-integration.uri")
    ]
    assert any(f"${{{alias_of(function)}}}" in uri for uri in uris)
    assert f"${{{function}.Arn}}" not in json.dumps(template)
    assert {"Fn::GetAtt": [function, "Arn"]} not in [node for _, node in walk(template)]


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
    assert set(before) == set(after) == set(SNAPSTART_FUNCTIONS)
    assert all(after[function] != before[function] for function in SNAPSTART_FUNCTIONS)


@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
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


@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
def test_each_snapstart_version_is_invoked_at_least_daily_through_its_alias(function: str) -> None:
    # Given the transformed template (a version not invoked for 14 days goes Inactive)
    resources = transformed()["Resources"]
    # Then a schedule invokes the function's alias every day
    schedules = [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Scheduler::Schedule"
        and resource["Properties"]["Target"]["Arn"] == {"Ref": alias_of(function)}
    ]
    assert [schedule["ScheduleExpression"] for schedule in schedules] == ["rate(1 day)"]
    # And what it sends is a GET: nothing changes because of it
    request = json.loads(schedules[0]["Target"]["Input"])
    assert request["requestContext"]["http"]["method"] == "GET"
