"""Policy checks on template.yaml: least privilege, failure handling, data safety.

cfn-lint checks that the template is valid; these tests check that it is *safe*: no wildcard
grants, every asynchronous path has somewhere to put failures and an alarm on it, the data
stores are encrypted, versioned/backed up and private.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# Actions that AWS only accepts with Resource "*" (no resource-level permissions). Anything
# added here must be such an action, and is then the only thing allowed on "*".
ACTIONS_REQUIRING_STAR = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "cloudwatch:PutMetricData",
        "ses:GetAccount",
        "ses:GetSendQuota",
    }
)
# Event sources that invoke the function asynchronously: failures vanish without a destination.
ASYNC_EVENT_TYPES = frozenset({"S3", "Schedule", "ScheduleV2", "SNS", "EventBridgeRule", "CloudWatchEvent"})
# Stream sources retry a failing batch forever (blocking the shard) unless bounded.
STREAM_EVENT_TYPES = frozenset({"DynamoDB", "Kinesis"})
BROAD_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
RESOURCE_POLICY_TYPES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
}


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation short tags (!Ref, !Sub, !GetAtt ...)."""


def _cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


@cache
def template() -> dict[str, Any]:
    with (ROOT / "template.yaml").open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)


def resources(*types: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template()["Resources"].items() if not types or res.get("Type") in types}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def walk(value: Any) -> Iterator[Any]:
    """Every node of a parsed YAML value."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def references(value: Any, logical_id: str) -> bool:
    """Does value contain a Ref/GetAtt/Sub pointing at logical_id?"""
    for node in walk(value):
        if not isinstance(node, dict):
            continue
        if node.get("Ref") == logical_id:
            return True
        get_att = node.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att and get_att[0] == logical_id:
            return True
        sub = node.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str) and ("${" + logical_id + "}" in text or "${" + logical_id + "." in text):
            return True
    return False


def function_setting(logical_id: str, key: str) -> Any:
    """A function property, falling back to Globals.Function like SAM does."""
    own = props(resources()[logical_id]).get(key)
    return own if own is not None else template().get("Globals", {}).get("Function", {}).get(key)


# ---------------------------------------------------------------- IAM statements


def identity_statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) for every statement that grants permissions to our own roles."""
    for name, res in resources().items():
        kind, p = res.get("Type"), props(res)
        if kind in {"AWS::Serverless::Function", "AWS::Serverless::StateMachine"}:
            for policy in as_list(p.get("Policies")):
                if isinstance(policy, dict) and "Statement" in policy:
                    for stmt in as_list(policy["Statement"]):
                        yield name, stmt
        elif kind == "AWS::IAM::Role":
            for policy in as_list(p.get("Policies")):
                for stmt in as_list(policy.get("PolicyDocument", {}).get("Statement")):
                    yield name, stmt
        elif kind in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"}:
            for stmt in as_list(p.get("PolicyDocument", {}).get("Statement")):
                yield name, stmt


def resource_policy_statements() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, res in resources(*RESOURCE_POLICY_TYPES).items():
        doc = props(res).get(RESOURCE_POLICY_TYPES[res["Type"]], {})
        for stmt in as_list(doc.get("Statement")):
            yield name, stmt


def all_statements() -> list[tuple[str, dict[str, Any]]]:
    return [*identity_statements(), *resource_policy_statements()]


def test_template_grants_something() -> None:
    # Guard against the parsers below silently finding nothing.
    assert list(identity_statements()), "no IAM statements found in template.yaml"


def test_no_allow_on_resource_star() -> None:
    offenders = []
    for where, stmt in identity_statements():
        if stmt.get("Effect") != "Allow":
            continue
        if "*" in as_list(stmt.get("Resource")) or "NotResource" in stmt:
            extra = set(as_list(stmt.get("Action"))) - ACTIONS_REQUIRING_STAR
            if extra or "NotResource" in stmt:
                offenders.append((where, stmt.get("Sid"), sorted(map(str, extra))))
    assert not offenders, f'Resource "*" only for actions that require it: {offenders}'


def test_no_wildcard_actions_in_allows() -> None:
    offenders = []
    for where, stmt in all_statements():
        if stmt.get("Effect") != "Allow":
            continue
        if "NotAction" in stmt:
            offenders.append((where, stmt.get("Sid"), "NotAction"))
        for action in as_list(stmt.get("Action")):
            if not isinstance(action, str):
                offenders.append((where, stmt.get("Sid"), repr(action)))
            elif action == "*" or action.endswith(":*"):
                offenders.append((where, stmt.get("Sid"), action))
    assert not offenders, f"wildcard actions allowed: {offenders}"


def test_resource_policies_allow_no_anonymous_principal() -> None:
    offenders = []
    for where, stmt in resource_policy_statements():
        principal = stmt.get("Principal")
        anonymous = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))
        if stmt.get("Effect") == "Allow" and anonymous and not stmt.get("Condition"):
            offenders.append((where, stmt.get("Sid")))
    assert not offenders, f"resource policies allowing anyone: {offenders}"


def test_no_broad_managed_policies() -> None:
    offenders = []
    for name, res in resources("AWS::Serverless::Function", "AWS::IAM::Role").items():
        p = props(res)
        for policy in as_list(p.get("Policies")) + as_list(p.get("ManagedPolicyArns")):
            text = policy if isinstance(policy, str) else str(policy)
            if any(broad in text for broad in BROAD_MANAGED_POLICIES) or "FullAccess" in text:
                offenders.append((name, text))
    assert not offenders, f"broad managed policies: {offenders}"


# ---------------------------------------------------------------- failure handling


def function_events(kinds: frozenset[str]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, res in resources("AWS::Serverless::Function").items():
        for event_name, event in (props(res).get("Events") or {}).items():
            if event.get("Type") in kinds:
                found.append((name, event_name, event.get("Properties") or {}))
    return found


# The daily request that keeps a SnapStart version active carries no work to lose if it fails.
KEEP_SNAPSHOT = "KeepSnapshot"
ASYNC_FUNCTIONS = sorted({name for name, event, _ in function_events(ASYNC_EVENT_TYPES) if event != KEEP_SNAPSHOT})


@pytest.mark.parametrize("logical_id", ASYNC_FUNCTIONS)
def test_async_functions_keep_their_failures(logical_id: str) -> None:
    on_failure = (function_setting(logical_id, "EventInvokeConfig") or {}).get("DestinationConfig", {}).get("OnFailure")
    dlq = function_setting(logical_id, "DeadLetterQueue")
    assert on_failure or dlq, f"{logical_id} is invoked asynchronously but has no OnFailure destination or DLQ"
    target = (on_failure or {}).get("Destination") or (dlq or {}).get("TargetArn")
    assert target, f"{logical_id}: the failure destination names no target"
    assert any(references(target, q) for q in resources("AWS::SQS::Queue", "AWS::SNS::Topic")), (
        f"{logical_id}: failure destination {target} is not a queue or topic of this stack"
    )


@pytest.mark.parametrize(
    ("logical_id", "event_name", "event"),
    function_events(STREAM_EVENT_TYPES),
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_stream_sources_are_bounded_and_keep_failures(logical_id: str, event_name: str, event: dict) -> None:
    assert event.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"), (
        f"{logical_id}.{event_name}: stream source without an OnFailure destination"
    )
    retries = event.get("MaximumRetryAttempts")
    assert isinstance(retries, int) and 0 <= retries <= 10, (
        f"{logical_id}.{event_name}: set MaximumRetryAttempts (the default retries forever)"
    )
    assert "ReportBatchItemFailures" in as_list(event.get("FunctionResponseTypes")), (
        f"{logical_id}.{event_name}: use partial batch responses (FunctionResponseTypes)"
    )


@pytest.mark.parametrize(
    ("logical_id", "event_name", "event"),
    function_events(frozenset({"SQS"})),
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_sqs_sources_have_a_redrive_policy(logical_id: str, event_name: str, event: dict) -> None:
    queues = [q for q in resources("AWS::SQS::Queue") if references(event.get("Queue"), q)]
    assert queues, f"{logical_id}.{event_name}: the queue is not defined in this stack"
    redrive = props(resources()[queues[0]]).get("RedrivePolicy") or {}
    assert redrive.get("deadLetterTargetArn"), f"{queues[0]}: no RedrivePolicy to a dead-letter queue"
    assert "ReportBatchItemFailures" in as_list(event.get("FunctionResponseTypes")), (
        f"{logical_id}.{event_name}: use partial batch responses (FunctionResponseTypes)"
    )


def test_every_queue_is_encrypted_and_alarmed() -> None:
    queues = resources("AWS::SQS::Queue")
    alarms = resources("AWS::CloudWatch::Alarm")
    for name, res in queues.items():
        p = props(res)
        assert p.get("SqsManagedSseEnabled") or p.get("KmsMasterKeyId"), f"{name}: not encrypted"
        watching = [
            alarm
            for alarm in alarms.values()
            if references(props(alarm).get("Dimensions"), name) or references(props(alarm).get("Metrics"), name)
        ]
        assert watching, f"{name}: no CloudWatch alarm on this queue"
        assert all(as_list(props(a).get("AlarmActions")) for a in watching), f"{name}: alarm without actions"


# ---------------------------------------------------------------- data stores


def test_main_table_streams_ttl_and_on_demand() -> None:
    table = resources()["Table"]
    p = props(table)
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert p.get("StreamSpecification", {}).get("StreamViewType") == "NEW_AND_OLD_IMAGES"
    assert p.get("BillingMode") == "PAY_PER_REQUEST"
    assert table.get("DeletionPolicy") == "Retain" and table.get("UpdateReplacePolicy") == "Retain"


@pytest.mark.parametrize("logical_id", sorted(resources("AWS::DynamoDB::Table")))
def test_tables_have_ttl_pitr_and_sse(logical_id: str) -> None:
    p = props(resources()[logical_id])
    ttl = p.get("TimeToLiveSpecification") or {}
    assert ttl.get("Enabled") is True and ttl.get("AttributeName"), f"{logical_id}: TTL not enabled"
    pitr = p.get("PointInTimeRecoverySpecification") or {}
    assert pitr.get("PointInTimeRecoveryEnabled") is True, f"{logical_id}: point-in-time recovery off"
    assert (p.get("SSESpecification") or {}).get("SSEEnabled") is True, f"{logical_id}: SSE not enabled"


@pytest.mark.parametrize("logical_id", sorted(resources("AWS::S3::Bucket")))
def test_buckets_are_private_encrypted_and_versioned(logical_id: str) -> None:
    p = props(resources()[logical_id])
    block = p.get("PublicAccessBlockConfiguration") or {}
    for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        assert block.get(flag) is True, f"{logical_id}: PublicAccessBlockConfiguration.{flag} is not true"
    rules = (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    assert any(r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules), (
        f"{logical_id}: no default encryption"
    )
    assert (p.get("VersioningConfiguration") or {}).get("Status") == "Enabled", f"{logical_id}: not versioned"


@pytest.mark.parametrize("logical_id", sorted(resources("AWS::S3::Bucket")))
def test_buckets_deny_insecure_transport(logical_id: str) -> None:
    denies = [
        stmt
        for policy in resources("AWS::S3::BucketPolicy").values()
        if references(props(policy).get("Bucket"), logical_id)
        for stmt in as_list(props(policy).get("PolicyDocument", {}).get("Statement"))
        if stmt.get("Effect") == "Deny"
        and stmt.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
    ]
    assert denies, f"{logical_id}: no bucket policy denying aws:SecureTransport false"


# ---------------------------------------------------------------- API


def test_admin_routes_require_the_authorizer() -> None:
    open_routes = [
        (name, event_name, event.get("Path"))
        for name, event_name, event in function_events(frozenset({"HttpApi"}))
        if str(event.get("Path", "")).startswith("/admin") and (event.get("Auth") or {}).get("Authorizer") == "NONE"
    ]
    assert not open_routes, f"admin routes without the JWT authorizer: {open_routes}"
    apis = resources("AWS::Serverless::HttpApi")
    for name, api in apis.items():
        auth = props(api).get("Auth") or {}
        assert auth.get("DefaultAuthorizer"), f"{name}: no DefaultAuthorizer (routes would be open by default)"


# ---------------------------------------------------------------- alarms


def _allows(statement: dict[str, Any], service: str, actions: set[str]) -> bool:
    principal = statement.get("Principal") or {}
    return (
        statement.get("Effect") == "Allow"
        and service in as_list(principal.get("Service") if isinstance(principal, dict) else None)
        and actions <= set(as_list(statement.get("Action")))
    )


def _alarm_topics() -> set[str]:
    topics = set()
    for name, alarm in resources("AWS::CloudWatch::Alarm").items():
        actions = as_list(props(alarm).get("AlarmActions"))
        assert actions, f"{name}: an alarm that notifies nobody"
        for action in actions:
            targets = [topic for topic in resources("AWS::SNS::Topic") if references(action, topic)]
            assert targets, f"{name}: alarm action {action} is not a topic of this stack"
            topics.update(targets)
    return topics


def test_cloudwatch_may_use_the_key_of_every_alarm_topic() -> None:
    # CloudWatch publishes to an encrypted topic only if the key's policy lets it use the key; the
    # AWS-managed alias/aws/sns key's policy does not, and cannot be changed: alarms stay silent.
    topics = _alarm_topics()
    assert topics
    for topic in topics:
        key = props(resources()[topic]).get("KmsMasterKeyId")
        if key is None:
            continue
        keys = [name for name in resources("AWS::KMS::Key") if references(key, name)]
        assert keys, f"{topic}: encrypted with {key!r}, not a key of this stack whose policy CloudWatch is in"
        statements = as_list(props(resources()[keys[0]])["KeyPolicy"].get("Statement"))
        grants = [
            s for s in statements if _allows(s, "cloudwatch.amazonaws.com", {"kms:Decrypt", "kms:GenerateDataKey*"})
        ]
        assert grants, f"{keys[0]}: CloudWatch may not use the key of {topic}"
        assert all(s.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount") for s in grants), (
            f"{keys[0]}: CloudWatch's grant is not limited to this account's alarms"
        )


def test_cloudwatch_may_publish_to_every_alarm_topic() -> None:
    for topic in _alarm_topics():
        statements = [
            statement
            for policy in resources("AWS::SNS::TopicPolicy").values()
            if any(references(t, topic) for t in as_list(props(policy).get("Topics")))
            for statement in as_list(props(policy)["PolicyDocument"].get("Statement"))
        ]
        assert any(_allows(s, "cloudwatch.amazonaws.com", {"sns:Publish"}) for s in statements), (
            f"{topic}: no topic policy lets CloudWatch alarms publish"
        )


@pytest.mark.parametrize(("parameter", "protocol"), [("AlarmEmail", "email"), ("AlarmHttpsEndpoint", "https")])
def test_alarm_subscriptions_are_parameters(parameter: str, protocol: str) -> None:
    topics = _alarm_topics()
    conditions = template()["Conditions"]
    subscriptions = [
        (res, props(res))
        for res in resources("AWS::SNS::Subscription").values()
        if references(props(res).get("Endpoint"), parameter)
    ]
    assert len(subscriptions) == 1, f"{parameter}: no subscription (or several) to the alarm topic"
    (resource, p), *_ = subscriptions
    assert p["Protocol"] == protocol and any(references(p["TopicArn"], topic) for topic in topics)
    # Empty (the default) subscribes nobody, rather than failing the deployment.
    assert template()["Parameters"][parameter]["Default"] == ""
    assert references(conditions[resource["Condition"]], parameter)
    assert any(references(output["Value"], topic) for output in template()["Outputs"].values() for topic in topics), (
        "the alarm topic's ARN is not an output: other subscriptions (Chatbot, SMS) need it"
    )


def test_operator_alerts_reach_the_alarm_topic() -> None:
    """A network refusing the deployment (LinkedIn's 426) only shows as a log line: the metric
    filter must match the exact message the publisher logs, on the log group both publishers use."""
    from chorus.services.publish import OPERATOR_ALERT_LOG

    resources = template()["Resources"]
    metric = resources["OperatorActionNeededMetric"]["Properties"]
    assert metric["LogGroupName"] == {"Ref": "PublishingLogs"}
    assert metric["FilterPattern"] == f'{{ $.message = "{OPERATOR_ALERT_LOG}" }}'
    [transformation] = metric["MetricTransformations"]
    alarm = resources["OperatorActionNeededAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        transformation["MetricNamespace"],
        transformation["MetricName"],
    )
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    for function in ("PublisherFunction", "SweeperFunction"):
        logging = resources[function]["Properties"]["LoggingConfig"]
        assert logging == {"LogFormat": "JSON", "LogGroup": {"Ref": "PublishingLogs"}}


# ---------------------------------------------------------------- metrics, traces, dashboard


def test_every_function_writes_its_metrics_to_the_stages_namespace_and_traces_as_the_stack_says() -> None:
    """chorus.observability writes EMF to the namespace Powertools reads from the environment; the
    log metric filters use the same one, so the dashboard and alarms find both."""
    function_globals = template()["Globals"]["Function"]
    assert function_globals["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == {
        "Fn::Sub": "Chorus/${Stage}"
    }
    # Tracing follows one parameter, off by default (it costs every cold start the X-Ray SDK),
    # and Powertools' switch follows the same parameter (no Tracer is made when it is off).
    parameters = template()["Parameters"]
    assert parameters["Tracing"]["Default"] == "PassThrough"
    assert function_globals["Tracing"] == {"Ref": "Tracing"}
    assert function_globals["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracingActive", "false", "true"]
    }
    assert template()["Conditions"]["TracingActive"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}
    for name, resource in resources("AWS::Serverless::Function").items():
        variables = (props(resource).get("Environment") or {}).get("Variables") or {}
        assert "POWERTOOLS_METRICS_NAMESPACE" not in variables, f"{name} writes its metrics elsewhere"
        assert "POWERTOOLS_TRACE_DISABLED" not in variables, f"{name} decides its tracing alone"
        assert "Tracing" not in props(resource), f"{name} decides its tracing alone"


def _dashboard() -> dict[str, Any]:
    body = props(template()["Resources"]["Dashboard"])["DashboardBody"]["Fn::Sub"]
    # The body is JSON once CloudFormation substitutes ${...}; a placeholder stands in for each.
    return json.loads(re.sub(r"\$\{[^}]+\}", "SUBSTITUTED", body))


def test_the_dashboard_shows_every_metric_chorus_writes() -> None:
    from chorus import observability

    written = {
        value
        for name, value in vars(observability).items()
        if name.isupper() and isinstance(value, str) and value[:1].isupper()
    }
    shown = json.dumps(_dashboard())
    assert written == {
        "DigestsSent",
        "DigestsSkipped",
        "DigestsFailed",
        "Approvals",
        "Publications",
        "PublishFailures",
    }
    missing = sorted(metric for metric in written if f'"{metric}"' not in shown and f'\\"{metric}\\"' not in shown)
    assert not missing, f"metrics not on the dashboard: {missing}"


def test_the_dashboard_shows_every_alarm_and_its_metric() -> None:
    body = props(template()["Resources"]["Dashboard"])["DashboardBody"]["Fn::Sub"]
    alarms = sorted(resources("AWS::CloudWatch::Alarm"))
    widgets = _dashboard()["widgets"]
    (status,) = [widget for widget in widgets if widget["type"] == "alarm"]
    assert len(status["properties"]["alarms"]) == len(alarms)
    annotated = [widget for widget in widgets if "annotations" in widget["properties"]]
    assert len(annotated) == len(alarms)
    for alarm in alarms:
        # Once in the status widget, once as the annotation of a widget showing its metric.
        assert body.count(f"${{{alarm}.Arn}}") == 2, f"{alarm} is not on the dashboard"


def test_the_networks_parameter_allows_exactly_the_registered_networks_employees_connect_to() -> None:
    from chorus.domain.networks import profiles

    parameter = template()["Parameters"]["Networks"]
    pattern = re.compile(parameter["AllowedPattern"])
    named = set(re.findall(r"\(([a-z|]+)\)", parameter["AllowedPattern"])[0].split("|"))
    assert named == {profile.name for profile in profiles() if profile.needs_connection}
    assert pattern.match(parameter["Default"]) and pattern.match("x, mastodon") and pattern.match("")
    assert not pattern.match("linkedin,sandbox") and not pattern.match("linkedin,facebook")


# ---------------------------------------------------------------- publishing


PUBLISH_QUEUES = {
    "linkedin": ("LinkedInPublishQueue", "LinkedInPublishConcurrency"),
    "x": ("XPublishQueue", "XPublishConcurrency"),
    "mastodon": ("MastodonPublishQueue", "MastodonPublishConcurrency"),
}


def test_each_network_publishes_from_its_own_queue_at_its_own_concurrency() -> None:
    """A network's posts reach the publisher one per invocation, at most its parameter's number
    at once, and the publisher knows that number (it stops that far ahead of an allowance)."""
    publisher = props(resources()["PublisherFunction"])
    sources = {
        event["Properties"]["Queue"]["Fn::GetAtt"][0]: event["Properties"]
        for event in publisher["Events"].values()
        if event["Type"] == "SQS"
    }
    assert set(sources) == {queue for queue, _ in PUBLISH_QUEUES.values()} | {"SharedPublishQueue"}
    variables = publisher["Environment"]["Variables"]
    for network, (queue, parameter) in PUBLISH_QUEUES.items():
        source = sources[queue]
        assert source["BatchSize"] == 1 and source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert source["ScalingConfig"]["MaximumConcurrency"] == {"Ref": parameter}
        assert template()["Parameters"][parameter]["MinValue"] >= 2  # SQS sources allow 2 to 1,000
        assert f"{network}=${{{parameter}}}" in variables["PUBLISH_CONCURRENCY"]["Fn::Sub"]
        assert f"{network}=${{{queue}.Arn}}" in variables["PUBLISH_QUEUE_ARNS"]["Fn::Sub"]
    # The queue outlives the publisher's timeout six times over, as Lambda asks of SQS sources
    for queue in sources:
        assert props(resources()[queue])["VisibilityTimeout"] >= 6 * publisher["Timeout"]


def test_schedules_and_the_sweeper_may_send_to_every_publish_queue_and_nothing_publishes_serially() -> None:
    queues = [queue for queue, _ in PUBLISH_QUEUES.values()] + ["SharedPublishQueue"]
    [role_policy] = props(resources()["SchedulerRole"])["Policies"]
    sends = [s for s in role_policy["PolicyDocument"]["Statement"] if s["Action"] == ["sqs:SendMessage"]]
    assert any(all(references(s["Resource"], queue) for queue in queues) for s in sends)
    sweeper = props(resources()["SweeperFunction"])
    statements = [statement for policy in sweeper["Policies"] for statement in policy["Statement"]]
    [handing] = [s for s in statements if "sqs:SendMessage" in s["Action"]]
    assert all(references(handing["Resource"], queue) for queue in queues)
    # The sweeper only enqueues: it holds no network token, schedule or KMS permission
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert not {"kms:Decrypt", "scheduler:CreateSchedule", "dynamodb:PutItem"} & actions
    assert "TOKEN_KEY_ID" not in sweeper["Environment"]["Variables"]
