"""The template as CloudFormation receives it (after the SAM transform), and what CloudFormation
derives from it: the order resources are created in (their dependency graph) and the physical
names they take.

The transform runs aws-sam-translator in the tools venv (tools/sam_transform.py): the project
venv cannot import it. A missing tools venv is a failure, never a skip: `make tools` builds it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS_PYTHON = ROOT / ".tools" / "bin" / "python"
TRANSFORM_SCRIPT = ROOT / "tools" / "sam_transform.py"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"


class TransformError(RuntimeError):
    """The SAM transform could not run, or refused the template."""


def transformed(parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """template.yaml after the SAM transform, with these parameter values (others: defaults)."""
    return json.loads(_transformed_text(tuple(sorted((parameters or {}).items()))))


@cache
def _transformed_text(parameters: tuple[tuple[str, str], ...]) -> str:
    if not TOOLS_PYTHON.exists():
        raise TransformError(f"{TOOLS_PYTHON} is missing: run `make tools` (the SAM translator lives there)")
    command = [str(TOOLS_PYTHON), str(TRANSFORM_SCRIPT), "--template", str(ROOT / "template.yaml"), "--region", REGION]
    for name, value in parameters:
        command += ["--parameter", f"{name}={value}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120, cwd=ROOT)
    if result.returncode != 0:
        raise TransformError(f"the SAM transform failed:\n{result.stderr}")
    return result.stdout


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, node) for every node of a template value."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


# ---------------------------------------------------------------- dependency graph

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass(frozen=True)
class Edge:
    """``source`` cannot be created before ``target``: ``how`` names the reference and its place."""

    source: str
    target: str
    how: str


def _sub_targets(arg: Any) -> tuple[list[str], Any]:
    """Names a Fn::Sub string refers to (minus its own variables), and its variable map."""
    text, variables = (arg[0], arg[1] if len(arg) > 1 else {}) if isinstance(arg, list) else (arg, {})
    if not isinstance(text, str):
        return [], variables
    names = [match.split(".", 1)[0].strip() for match in _SUB_VARIABLE.findall(text)]
    own = set(variables) if isinstance(variables, dict) else set()
    return [name for name in names if name not in own], variables


def references(value: Any) -> Iterator[tuple[str, str]]:
    """(logical id or parameter, how) for every Ref, Fn::GetAtt and Fn::Sub in value. Both
    branches of Fn::If count: what a condition leaves out on one stack it keeps on another."""
    for path, node in walk(value):
        if not isinstance(node, dict) or len(node) != 1:
            continue
        ((key, arg),) = node.items()
        if key == "Ref" and isinstance(arg, str):
            yield arg, f"Ref at {path}"
        elif key == "Fn::GetAtt":
            target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0] if isinstance(arg, list) else None
            if isinstance(target, str):
                yield target, f"Fn::GetAtt at {path}"
        elif key == "Fn::Sub":
            names, _ = _sub_targets(arg)
            for name in names:
                yield name, f"Fn::Sub ${{{name}}} at {path}"


def dependency_edges(template: Mapping[str, Any]) -> list[Edge]:
    """Every edge CloudFormation orders resources by: references in a resource's properties (and
    any other attribute), and DependsOn."""
    resources = template.get("Resources") or {}
    edges: list[Edge] = []
    for logical_id, body in resources.items():
        depends_on = body.get("DependsOn") or []
        for target in [depends_on] if isinstance(depends_on, str) else depends_on:
            edges.append(Edge(logical_id, target, "DependsOn"))
        attributes = {key: value for key, value in body.items() if key not in {"Type", "DependsOn", "Condition"}}
        for target, how in references(attributes):
            if target in resources:
                edges.append(Edge(logical_id, target, how))
    return edges


@dataclass(frozen=True)
class Cycle:
    """Resources that all wait for one another (a strongly connected component), and one
    concrete cycle among them: the edges to break first."""

    members: tuple[str, ...]
    example: tuple[Edge, ...]

    def __str__(self) -> str:
        names = " -> ".join([self.example[0].source, *(edge.target for edge in self.example)])
        steps = "\n".join(f"    {edge.source} needs {edge.target}: {edge.how}" for edge in self.example)
        return f"{len(self.members)} resources wait for each other: {', '.join(self.members)}\n  e.g. {names}\n{steps}"


def cycles(edges: list[Edge]) -> list[Cycle]:
    """Every strongly connected component with a cycle (Tarjan), each with one example cycle."""
    graph: dict[str, list[Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, []).append(edge)
        graph.setdefault(edge.target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        # Recursive: templates have at most 500 resources, well within Python's recursion limit.
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph[node]:
            if edge.target not in index:
                connect(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    found: list[Cycle] = []
    for component in components:
        members = tuple(sorted(component))
        self_loops = tuple(edge for edge in graph[component[0]] if edge.target == component[0])
        if len(component) > 1:
            found.append(Cycle(members, tuple(_cycle_within(graph, set(members), members[0]))))
        elif self_loops:
            found.append(Cycle(members, self_loops[:1]))
    return found


def _cycle_within(graph: dict[str, list[Edge]], members: set[str], start: str) -> list[Edge]:
    """A concrete cycle through start, staying inside its strongly connected component (BFS)."""
    previous: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for edge in sorted(graph[node], key=lambda e: e.target):
                if edge.target not in members:
                    continue
                if edge.target == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, previous[path[0].source])
                    return path
                if edge.target not in previous:
                    previous[edge.target] = edge
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"{start} is in a strongly connected component but on no cycle")


# ---------------------------------------------------------------- physical names

# Name properties of the resource types CloudFormation creates with a name we choose, and what
# else scopes that name (a schedule's name is unique within its group).
NAME_PROPERTIES: dict[str, str] = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::Events::Rule": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Cognito::UserPoolDomain": "Domain",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::SSM::Parameter": "Name",
}
SCOPE_PROPERTIES: dict[str, tuple[str, str]] = {
    # type: (property, value when absent)
    "AWS::Scheduler::Schedule": ("GroupName", "default"),
    "AWS::Events::Rule": ("EventBusName", "default"),
}


@dataclass(frozen=True)
class PhysicalName:
    logical_id: str
    type: str
    scope: str
    name: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.type, self.scope, self.name


class Stack:
    """One deployment of a transformed template: parameters, pseudo parameters, conditions.

    Resolves what a name is made of. A reference to another resource resolves to a token
    unique to this stack (that resource is created by this stack, so whatever is derived from
    it cannot collide with another stack's).
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str],
        *,
        stack_name: str,
        account_id: str = ACCOUNT_ID,
        region: str = REGION,
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        declared = template.get("Parameters") or {}
        unknown = set(parameters) - set(declared)
        if unknown:
            raise KeyError(f"unknown parameters {sorted(unknown)}")
        self.values: dict[str, str] = {
            name: str(parameters.get(name, spec.get("Default", ""))) for name, spec in declared.items()
        }
        self.values |= {
            "AWS::AccountId": account_id,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/id",
        }

    def condition(self, name: str) -> bool:
        return self._truth(self.template["Conditions"][name])

    def _truth(self, expression: Any) -> bool:
        ((key, arg),) = expression.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            return str(self.resolve(arg[0])) == str(self.resolve(arg[1]))
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(item) for item in arg)
        if key == "Fn::Or":
            return any(self._truth(item) for item in arg)
        raise ValueError(f"unsupported condition {expression!r}")

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            return value
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.values[arg] if arg in self.values else self._token(arg, "Ref")
        if key == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self._token(logical_id, attribute)
        if key == "Fn::Sub":
            _, variables = _sub_targets(arg)
            text = arg[0] if isinstance(arg, list) else arg
            own = {name: self.resolve(item) for name, item in (variables or {}).items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1).strip()
                if name in own:
                    return str(own[name])
                if name in self.values:
                    return self.values[name]
                logical_id, _, attribute = name.partition(".")
                return self._token(logical_id, attribute or "Ref")

            return _SUB_VARIABLE.sub(substitute, text).replace("${!", "${")
        if key == "Fn::Join":
            separator, items = arg
            return str(separator).join(str(self.resolve(item)) for item in items)
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Select":
            position, items = arg
            return self.resolve(self.resolve(items)[int(self.resolve(position))])
        if key == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(separator)
        return value

    def _token(self, logical_id: str, attribute: str) -> str:
        return f"<{self.stack_name}/{logical_id}.{attribute}>"

    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this stack creates: those whose condition holds."""
        return {
            logical_id: body
            for logical_id, body in (self.template.get("Resources") or {}).items()
            if "Condition" not in body or self.condition(body["Condition"])
        }

    def physical_names(self) -> list[PhysicalName]:
        """Every name chosen by the template (or by the SAM transform) rather than generated."""
        found: list[PhysicalName] = []
        for logical_id, body in self.resources().items():
            kind = body["Type"]
            prop = NAME_PROPERTIES.get(kind)
            properties = body.get("Properties") or {}
            if prop is None or prop not in properties:
                continue
            scope_prop, scope_default = SCOPE_PROPERTIES.get(kind, ("", ""))
            scope = str(self.resolve(properties[scope_prop])) if scope_prop in properties else scope_default
            found.append(PhysicalName(logical_id, kind, scope, str(self.resolve(properties[prop]))))
        return found
