"""The deployed stack as CloudFormation describes it: parameters, outputs, resources, failure queues.

Resources come from ListStackResources, not DescribeStackResources: the latter returns only the
first 100 resources, and Chorus after the SAM transform has over 100 (roles, permissions, routes).
Failure queues are found in the template CloudFormation processed (GetTemplate, stage
``Processed``: after the SAM transform): every queue that some resource names as where failures
go (an SQS redrive ``deadLetterTargetArn``, a Lambda or event source ``OnFailure`` destination, a
Scheduler or EventBridge ``DeadLetterConfig``). A new failure queue in template.yaml is checked
without anyone listing it here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus_local.template import TemplateError, load_template_text

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

QUEUE_TYPE = "AWS::SQS::Queue"
# Keys under which a template names the queue that receives what failed.
FAILURE_KEYS = frozenset({"deadLetterTargetArn", "OnFailure", "DeadLetterConfig"})
# Resources that configure a function on its behalf: the function is the failure's source.
_CONFIGURES_FUNCTION = frozenset({"AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"})


class StackNotFound(Exception):
    """The stack cannot be read (no such stack in this region, or no permission to describe it)."""


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    type: str
    physical_id: str


@dataclass(frozen=True)
class DeployedStack:
    name: str
    region: str
    status: str
    parameters: Mapping[str, str]
    outputs: Mapping[str, str]
    resources: Mapping[str, StackResource]
    # Failure queue logical id -> the resources that send their failures there.
    failure_queues: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def parameter(self, name: str) -> str:
        return self.parameters.get(name, "")

    def physical_id(self, logical_id: str) -> str | None:
        resource = self.resources.get(logical_id)
        return resource.physical_id if resource else None

    def of_type(self, resource_type: str) -> list[StackResource]:
        return sorted(
            (resource for resource in self.resources.values() if resource.type == resource_type),
            key=lambda resource: resource.logical_id,
        )


def read_stack(client: CloudFormationClient, name: str) -> DeployedStack:
    try:
        described = client.describe_stacks(StackName=name)["Stacks"][0]
        resources = dict(_resources(client, name))
        body = client.get_template(StackName=name, TemplateStage="Processed")["TemplateBody"]
    except ClientError as exc:
        raise StackNotFound(f"cannot read stack {name}: {exc}") from exc
    return DeployedStack(
        name=described["StackName"],
        region=described["StackId"].split(":")[3],
        status=described["StackStatus"],
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])},
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs", [])},
        resources=resources,
        failure_queues=failure_queues(_template(body)),
    )


def _resources(client: CloudFormationClient, name: str) -> Iterator[tuple[str, StackResource]]:
    token: str | None = None
    while True:
        page = client.list_stack_resources(StackName=name, **({"NextToken": token} if token else {}))
        for summary in page["StackResourceSummaries"]:
            # A resource that failed to create, or is being deleted, has no usable physical id.
            if summary.get("PhysicalResourceId") and not summary["ResourceStatus"].startswith("DELETE"):
                yield (
                    summary["LogicalResourceId"],
                    StackResource(summary["LogicalResourceId"], summary["ResourceType"], summary["PhysicalResourceId"]),
                )
        token = page.get("NextToken")
        if not token:
            return


def _template(body: Any) -> dict[str, Any]:
    """botocore decodes a JSON template into a dict; a YAML one stays text."""
    if isinstance(body, Mapping):
        return dict(body)
    try:
        decoded = json.loads(body)
    except ValueError:
        try:
            return load_template_text(str(body))
        except (TemplateError, ValueError) as exc:
            raise StackNotFound(f"cannot read the stack's template: {exc}") from exc
    if not isinstance(decoded, dict):
        raise StackNotFound("the stack's template is not a mapping")
    return decoded


def failure_queues(template: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Queue logical id -> sorted logical ids of the resources whose failures land there."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    queues = {lid for lid, body in resources.items() if isinstance(body, Mapping) and body.get("Type") == QUEUE_TYPE}
    found: dict[str, set[str]] = {}
    for logical_id, body in resources.items():
        if not isinstance(body, Mapping):
            continue
        for target in _failure_references(body.get("Properties") or {}, inside=False):
            if target in queues:
                found.setdefault(target, set()).add(_source(logical_id, body, resources))
    return {queue: tuple(sorted(sources)) for queue, sources in sorted(found.items())}


def _failure_references(value: Any, *, inside: bool) -> Iterator[str]:
    """Logical ids referenced (Ref, GetAtt, Sub) anywhere below a failure key."""
    if isinstance(value, list):
        for item in value:
            yield from _failure_references(item, inside=inside)
        return
    if not isinstance(value, Mapping):
        return
    if inside and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            yield arg
            return
        if key == "Fn::GetAtt":
            target = arg[0] if isinstance(arg, list) and arg else str(arg).split(".", 1)[0]
            yield str(target)
            return
        if key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg else arg
            if isinstance(text, str):
                yield from (part.split("}", 1)[0].split(".", 1)[0] for part in text.split("${")[1:])
            return
    for key, item in value.items():
        yield from _failure_references(item, inside=inside or key in FAILURE_KEYS)


def _source(logical_id: str, body: Mapping[str, Any], resources: Mapping[str, Any]) -> str:
    if body.get("Type") in _CONFIGURES_FUNCTION:
        function = (body.get("Properties") or {}).get("FunctionName")
        if isinstance(function, Mapping) and isinstance(function.get("Ref"), str):
            return _function_of(str(function["Ref"]), resources)
    return logical_id


def _function_of(logical_id: str, resources: Mapping[str, Any]) -> str:
    """The function itself where an invoker names its alias (SnapStart: every invoker does)."""
    body = resources.get(logical_id)
    if isinstance(body, Mapping) and body.get("Type") == "AWS::Lambda::Alias":
        function = (body.get("Properties") or {}).get("FunctionName")
        if isinstance(function, Mapping) and isinstance(function.get("Ref"), str):
            return str(function["Ref"])
    return logical_id
