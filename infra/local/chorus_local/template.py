"""Read template.yaml: CloudFormation short tags, parameters, conditions and intrinsic functions.

The local cloud is provisioned from the template itself, so this module is the only place that
knows how a logical id becomes a physical name, a ``!Ref`` value or a ``!GetAtt`` attribute.

Naming rules (mirroring what CloudFormation would do, in a deterministic local flavour):

* a resource's explicit name property (``TableName``, ``BucketName``, ``QueueName``...) wins;
* otherwise the physical name is ``chorus-local-<LogicalId>`` (lower-cased for S3 buckets,
  ``.fifo`` appended for FIFO queues);
* ``!Ref`` returns what CloudFormation returns for the type: the name for tables, buckets,
  functions, log groups and roles, the URL for SQS queues, the ARN for SNS topics and secrets,
  the key id for KMS keys; ``!GetAtt X.Arn`` returns a moto-compatible ARN.

Values only known once a resource exists (a KMS key id, a table's stream ARN) are filled in by
the provisioner through :meth:`Stack.set_ref` / :meth:`Stack.set_attribute`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import yaml

ACCOUNT_ID: Final = "123456789012"
REGION: Final = "eu-west-1"
STACK_NAME: Final = "chorus-local"
NAME_PREFIX: Final = "chorus-local"


class TemplateError(ValueError):
    """The template is malformed or uses something this reader does not support."""


class UnresolvableError(TemplateError):
    """A value depends on something that cannot be known locally (e.g. Fn::ImportValue)."""


class _NoValue:
    """``AWS::NoValue``: removes the enclosing key or list item."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()


# ----------------------------------------------------------------------------- YAML loading


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that turns ``!Ref x`` into ``{"Ref": x}`` and ``!Sub s`` into ``{"Fn::Sub": s}``."""


def _construct_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unsupported node for !{tag_suffix}")
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template_text(text: str) -> dict[str, Any]:
    data = yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader subclass
    if not isinstance(data, dict):
        raise TemplateError("template root is not a mapping")
    return cast(dict[str, Any], data)


def load_template(path: Path) -> dict[str, Any]:
    return load_template_text(path.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- resources

# Property holding an explicit physical name, per resource type.
NAME_PROPERTY: Final[dict[str, str]] = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Serverless::LayerVersion": "LayerName",
}


@dataclass
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    condition: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _short_hash(text: str, length: int = 10) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class Stack:
    """A template plus the values needed to resolve it: parameters, pseudo parameters, names."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        parameter_overrides: Mapping[str, str] | None = None,
        stack_name: str = STACK_NAME,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self.template = dict(template)
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self.pseudo: dict[str, Any] = {
            "AWS::AccountId": account_id,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self.parameters = self._parameters(parameter_overrides or {})
        self._condition_cache: dict[str, bool] = {}
        self._ref_overrides: dict[str, Any] = {}
        self._attribute_overrides: dict[tuple[str, str], Any] = {}
        self.all_resources: dict[str, Resource] = {}
        for logical_id, body in (self.template.get("Resources") or {}).items():
            if not isinstance(body, dict) or "Type" not in body:
                raise TemplateError(f"resource {logical_id} has no Type")
            self.all_resources[logical_id] = Resource(
                logical_id=logical_id,
                type=str(body["Type"]),
                properties=dict(body.get("Properties") or {}),
                condition=body.get("Condition"),
                metadata=dict(body.get("Metadata") or {}),
            )
        self.resources = {
            lid: res
            for lid, res in self.all_resources.items()
            if res.condition is None or self.condition(res.condition)
        }

    # ------------------------------------------------------------------ parameters/conditions

    def _parameters(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, declared in (self.template.get("Parameters") or {}).items():
            spec = declared or {}
            if name in overrides:
                raw: Any = overrides[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default and no override")
            ptype = str(spec.get("Type", "String"))
            if ptype == "CommaDelimitedList" or ptype.startswith("List<"):
                values[name] = [item.strip() for item in str(raw).split(",")] if raw != "" else []
            elif isinstance(raw, bool):
                values[name] = "true" if raw else "false"
            else:
                values[name] = str(raw)
            allowed = spec.get("AllowedValues")
            if allowed and values[name] not in [str(a) for a in allowed]:
                raise TemplateError(f"parameter {name}={values[name]!r} not in {allowed}")
        unknown = set(overrides) - set(values)
        if unknown:
            raise TemplateError(f"unknown parameter override(s): {sorted(unknown)}")
        return values

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            self._condition_cache[name] = self._evaluate_condition(conditions[name])
        return self._condition_cache[name]

    def _evaluate_condition(self, expr: Any) -> bool:
        if isinstance(expr, dict) and len(expr) == 1:
            ((key, arg),) = expr.items()
            if key == "Condition":
                return self.condition(str(arg))
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in arg)
                return _scalar_text(left) == _scalar_text(right)
            if key == "Fn::Not":
                return not self._evaluate_condition(arg[0])
            if key == "Fn::And":
                return all(self._evaluate_condition(item) for item in arg)
            if key == "Fn::Or":
                return any(self._evaluate_condition(item) for item in arg)
        if isinstance(expr, bool):
            return expr
        raise TemplateError(f"unsupported condition expression {expr!r}")

    # ------------------------------------------------------------------ names and ARNs

    def set_ref(self, logical_id: str, value: Any) -> None:
        self._ref_overrides[logical_id] = value

    def set_attribute(self, logical_id: str, attribute: str, value: Any) -> None:
        self._attribute_overrides[(logical_id, attribute)] = value

    def resource(self, logical_id: str) -> Resource:
        try:
            return self.resources[logical_id]
        except KeyError:
            if logical_id in self.all_resources:
                raise UnresolvableError(f"resource {logical_id} is disabled by its condition") from None
            implicit = self._implicit_resource(logical_id)
            if implicit is None:
                raise UnresolvableError(f"unknown resource {logical_id}") from None
            return implicit

    def _implicit_resource(self, logical_id: str) -> Resource | None:
        """Resources SAM generates: ``<Function>Role`` and ``ServerlessHttpApi``."""
        if logical_id.endswith("Role"):
            owner = self.resources.get(logical_id[: -len("Role")])
            if owner is not None and owner.type == "AWS::Serverless::Function":
                return Resource(logical_id, "AWS::IAM::Role", {})
        if logical_id == "ServerlessHttpApi":
            return Resource(logical_id, "AWS::Serverless::HttpApi", {})
        return None

    def physical_name(self, logical_id: str) -> str:
        res = self.resource(logical_id)
        prop = NAME_PROPERTY.get(res.type)
        if prop and prop in res.properties:
            value = self.resolve(res.properties[prop])
            if value is not NO_VALUE:
                return _scalar_text(value)
        name = f"{NAME_PREFIX}-{logical_id}"
        if res.type == "AWS::S3::Bucket":
            name = name.lower()
        if res.type == "AWS::SQS::Queue" and _truthy(self.resolve(res.properties.get("FifoQueue", False))):
            name += ".fifo"
        if res.type == "AWS::Serverless::HttpApi":
            name = _short_hash(f"{self.stack_name}/{logical_id}")
        return name

    def arn(self, logical_id: str) -> str:
        if (logical_id, "Arn") in self._attribute_overrides:
            return str(self._attribute_overrides[(logical_id, "Arn")])
        res = self.resource(logical_id)
        name = self.physical_name(logical_id)
        r, a = self.region, self.account_id
        builders: dict[str, Callable[[], str]] = {
            "AWS::DynamoDB::Table": lambda: f"arn:aws:dynamodb:{r}:{a}:table/{name}",
            "AWS::S3::Bucket": lambda: f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": lambda: f"arn:aws:sqs:{r}:{a}:{name}",
            "AWS::SNS::Topic": lambda: f"arn:aws:sns:{r}:{a}:{name}",
            "AWS::Serverless::Function": lambda: f"arn:aws:lambda:{r}:{a}:function:{name}",
            "AWS::Lambda::Function": lambda: f"arn:aws:lambda:{r}:{a}:function:{name}",
            "AWS::Logs::LogGroup": lambda: f"arn:aws:logs:{r}:{a}:log-group:{name}:*",
            "AWS::IAM::Role": lambda: f"arn:aws:iam::{a}:role/{name}",
            "AWS::SecretsManager::Secret": lambda: f"arn:aws:secretsmanager:{r}:{a}:secret:{name}",
            "AWS::Scheduler::ScheduleGroup": lambda: f"arn:aws:scheduler:{r}:{a}:schedule-group/{name}",
            "AWS::Scheduler::Schedule": lambda: f"arn:aws:scheduler:{r}:{a}:schedule/default/{name}",
            "AWS::Cognito::UserPool": lambda: f"arn:aws:cognito-idp:{r}:{a}:userpool/{self.ref(logical_id)}",
            "AWS::KMS::Key": lambda: f"arn:aws:kms:{r}:{a}:key/{self.ref(logical_id)}",
            "AWS::Serverless::LayerVersion": lambda: f"arn:aws:lambda:{r}:{a}:layer:{name}:1",
        }
        builder = builders.get(res.type)
        if builder is None:
            service = res.type.split("::")[1].lower() if res.type.count("::") >= 2 else "local"
            return f"arn:aws:{service}:{r}:{a}:{logical_id}"
        return builder()

    def queue_url(self, logical_id: str) -> str:
        return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{self.physical_name(logical_id)}"

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self._ref_overrides:
            return self._ref_overrides[name]
        res = self.resource(name)
        if res.type == "AWS::SQS::Queue":
            return self.queue_url(name)
        if res.type in {"AWS::SNS::Topic", "AWS::SecretsManager::Secret", "AWS::Serverless::LayerVersion"}:
            return self.arn(name)
        if res.type == "AWS::KMS::Key":
            raise UnresolvableError(f"KMS key {name} has no id until it is created")
        if res.type == "AWS::Cognito::UserPool":
            return f"{self.region}_{_short_hash(name, 9)}"
        if res.type == "AWS::Cognito::UserPoolClient":
            return _short_hash(name, 26)
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self._attribute_overrides:
            return self._attribute_overrides[(logical_id, attribute)]
        res = self.resource(logical_id)
        name = self.physical_name(logical_id)
        if attribute == "Arn":
            return self.arn(logical_id)
        simple: dict[tuple[str, str], Callable[[], Any]] = {
            ("AWS::SQS::Queue", "QueueName"): lambda: name,
            ("AWS::SQS::Queue", "QueueUrl"): lambda: self.queue_url(logical_id),
            ("AWS::SNS::Topic", "TopicName"): lambda: name,
            ("AWS::SNS::Topic", "TopicArn"): lambda: self.arn(logical_id),
            ("AWS::S3::Bucket", "DomainName"): lambda: f"{name}.s3.amazonaws.com",
            ("AWS::S3::Bucket", "RegionalDomainName"): lambda: f"{name}.s3.{self.region}.amazonaws.com",
            ("AWS::KMS::Key", "KeyId"): lambda: self.ref(logical_id),
            ("AWS::IAM::Role", "RoleId"): lambda: f"AROA{_short_hash(name, 17).upper()}",
            ("AWS::Cognito::UserPool", "ProviderURL"): lambda: (
                f"cognito-idp.{self.region}.amazonaws.com/{self.ref(logical_id)}"
            ),
            ("AWS::Cognito::UserPool", "ProviderName"): lambda: (
                f"cognito-idp.{self.region}.amazonaws.com/{self.ref(logical_id)}"
            ),
            ("AWS::Serverless::HttpApi", "ApiEndpoint"): lambda: (
                f"https://{name}.execute-api.{self.region}.amazonaws.com"
            ),
        }
        getter = simple.get((res.type, attribute))
        if getter is not None:
            return getter()
        if attribute in {"Name", "TableName", "BucketName", "FunctionName"}:
            return name
        raise UnresolvableError(f"!GetAtt {logical_id}.{attribute} is not known locally")

    # ------------------------------------------------------------------ intrinsic functions

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions recursively; ``AWS::NoValue`` removes keys and items."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, arg)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            logical_id, attribute = self.resolve(arg)
            return self.get_att(str(logical_id), str(attribute))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::If":
            condition_name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(str(condition_name)) else when_false)
        if key in {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"}:
            return self._evaluate_condition({key: arg})
        if key == "Fn::Join":
            separator, items = arg
            return str(separator).join(_scalar_text(item) for item in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if key == "Fn::Split":
            separator, text = self.resolve(arg)
            return str(text).split(str(separator))
        if key == "Fn::FindInMap":
            map_name, top, second = self.resolve(arg)[:3]
            return self.template["Mappings"][map_name][top][second]
        if key == "Fn::GetAZs":
            return [f"{self.region}{suffix}" for suffix in "abc"]
        if key == "Fn::Base64":
            import base64

            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if key == "Fn::ToJsonString":
            import json

            return json.dumps(self.resolve(arg), separators=(",", ":"))
        if key == "Fn::ImportValue":
            raise UnresolvableError("Fn::ImportValue needs another stack")
        raise TemplateError(f"unsupported intrinsic function {key}")

    _SUB_PATTERN = re.compile(r"\$\{([^}]*)\}")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in (arg[1] or {}).items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _scalar_text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return _scalar_text(self.get_att(logical_id, attribute))
            return _scalar_text(self.ref(name))

        return self._SUB_PATTERN.sub(replace, str(text))

    # ------------------------------------------------------------------ helpers

    def by_type(self, *types: str) -> Iterator[Resource]:
        for res in self.resources.values():
            if res.type in types:
                yield res

    def globals_function(self) -> dict[str, Any]:
        return dict(((self.template.get("Globals") or {}).get("Function")) or {})

    def outputs(self) -> dict[str, str]:
        """Outputs whose condition holds and whose value can be resolved locally."""
        result: dict[str, str] = {}
        for name, spec in (self.template.get("Outputs") or {}).items():
            if spec.get("Condition") and not self.condition(spec["Condition"]):
                continue
            try:
                result[name] = _scalar_text(self.resolve(spec["Value"]))
            except UnresolvableError:
                continue
        return result


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _scalar_text(value: Any) -> str:
    """CloudFormation renders scalars as strings: true/false, numbers without decoration."""
    if value is NO_VALUE:
        raise TemplateError("AWS::NoValue used where a value is required")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"expected a scalar, got {value!r}")
    return str(value)


scalar_text = _scalar_text
