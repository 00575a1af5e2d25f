"""What CloudFormation checks only at deploy time, checked on the SAM-transformed template.

template.yaml is not what CloudFormation deploys: the SAM transform turns each function into a
function, a role, permissions, event source mappings and schedules, and those are what
CloudFormation orders and names. moto and a linter of template.yaml both accepted a stack that
CloudFormation refused ("Circular dependency between resources") and one that could not live
twice in an account (schedules named after logical ids). These tests read the transform's output.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.support.cloudformation import Stack, cycles, dependency_edges, transformed

# Every optional resource switched on: conditions must not hide a cycle or a name.
ALL_OPTIONS = {
    "AlarmEmail": "ops@example.com",
    "AlarmHttpsEndpoint": "https://events.example.com/alarms",
    "SendingDomain": "mail.example.com",
    "PublicBaseUrl": "https://advocacy.example.com",
}
VARIANTS = {"defaults": {}, "all options": ALL_OPTIONS}
# Stacks are named by whoever deploys them, not after the stage.
STACKS = (("stack-one", "blue"), ("stack-two", "green"))
# Names the operator chooses whole (a DNS domain), which cannot carry the stage.
OPERATOR_CHOSEN = {"AWS::SES::EmailIdentity"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_transformed_template_has_no_dependency_cycle(variant: str) -> None:
    # Given the template as CloudFormation receives it
    template = transformed(VARIANTS[variant])
    # When its resources are ordered by Ref, Fn::GetAtt, Fn::Sub and DependsOn
    edges = dependency_edges(template)
    # Then nothing waits for itself
    assert len(edges) > len(template["Resources"]), "the graph builder found too few references"
    found = cycles(edges)
    assert not found, "CloudFormation would refuse these circular dependencies:\n" + "\n".join(map(str, found))


def _per_stage_names(options: dict[str, str]) -> dict[str, list]:
    names = {}
    for stack_name, stage in STACKS:
        parameters = {**options, "Stage": stage}
        if "SendingDomain" in options:
            # One identity per stage: each stage sends from a subdomain of its own.
            parameters["SendingDomain"] = f"{stage}.{options['SendingDomain']}"
        names[stage] = Stack(transformed(parameters), parameters, stack_name=stack_name).physical_names()
    return names


@pytest.mark.parametrize("variant", VARIANTS)
def test_two_stages_share_an_account_and_region_without_colliding_names(variant: str) -> None:
    # Given two stacks of different stages in one account and region
    names = _per_stage_names(VARIANTS[variant])
    # Then no physical name of one is a physical name of the other, nor repeated within one
    assert names["blue"], "no explicitly named resource found: the name reader is broken"
    for stage, own in names.items():
        repeated = [key for key, count in Counter(name.key for name in own).items() if count > 1]
        assert not repeated, f"{stage}: names used twice in one stack: {repeated}"
    blue = {name.key: name.logical_id for name in names["blue"]}
    collisions = sorted(
        f"{name.type} {name.name!r} ({blue[name.key]} of blue, {name.logical_id} of green)"
        for name in names["green"]
        if name.key in blue
    )
    assert not collisions, "names both stages would take (refused, or one stage's mixed into the other's):\n" + (
        "\n".join(collisions)
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_chosen_physical_name_includes_the_stage(variant: str) -> None:
    # Given the names a stage's stack chooses for its resources
    names = _per_stage_names(VARIANTS[variant])
    # Then an operator can tell each one's stage from its name
    unmarked = [
        f"{name.logical_id} ({name.type}): {name.name!r}"
        for stage, own in names.items()
        for name in own
        if stage not in name.name and name.type not in OPERATOR_CHOSEN
    ]
    assert not unmarked, "physical names without the stage:\n" + "\n".join(unmarked)


def test_no_function_reserves_concurrency() -> None:
    # A new account's concurrency quota is 10, the minimum Lambda keeps unreserved: CloudFormation
    # refuses any reservation there ("below its minimum value").
    functions = {
        logical_id: body["Properties"]
        for logical_id, body in transformed()["Resources"].items()
        if body["Type"] == "AWS::Lambda::Function"
    }
    assert functions
    reserving = sorted(logical_id for logical_id, p in functions.items() if "ReservedConcurrentExecutions" in p)
    assert not reserving, f"reserved concurrency fails on new accounts: {reserving}"


def test_the_digest_senders_pace_by_the_cap_of_their_only_trigger() -> None:
    # Given the digest sender and what invokes it
    resources = transformed()["Resources"]
    sender = resources["DigestSenderFunction"]["Properties"]
    sender_names = ({"Ref": "DigestSenderFunction"}, {"Ref": "DigestSenderFunctionAliaslive"})
    triggers = [
        body["Properties"]
        for body in resources.values()
        if body["Type"] in {"AWS::Lambda::EventSourceMapping", "AWS::Lambda::Permission"}
        and body["Properties"]["FunctionName"] in sender_names
    ]
    schedules = [
        body["Properties"]["Target"]
        for body in resources.values()
        if body["Type"] == "AWS::Scheduler::Schedule" and body["Properties"]["Target"]["Arn"] in sender_names
    ]
    # Then an SQS event source is its only trigger with work, capped at SenderConcurrency
    # concurrent invocations, and each sender divides the SES rate by that same number (its one
    # schedule sends the daily keep-active event, which sends nothing: README "SnapStart")
    assert len(triggers) == 1, f"the sender has other triggers, its pacing would not hold: {triggers}"
    assert [json.loads(schedule["Input"]) for schedule in schedules] == [{"chorus": "keep-snapshot"}]
    (mapping,) = triggers
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["DigestQueue", "Arn"]}
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "SenderConcurrency"}
    assert sender["Environment"]["Variables"]["SENDER_CONCURRENCY"] == {"Ref": "SenderConcurrency"}
    assert int(transformed()["Parameters"]["SenderConcurrency"]["MinValue"]) >= 2, (
        "SQS MaximumConcurrency is 2 at least"
    )


# ---------------------------------------------------------------- throttling

# A link scanner (Defender Safe Links, Mimecast...) opens every link of a digest as it arrives:
# a few activities and /me. Employees reading at once add to it.
LINKS_OPENED_PER_DIGEST = 5


def _api_routes() -> tuple[dict, dict[str, bool]]:
    """The HTTP API's stage, and each route key with whether it is public (no JWT authorizer)."""
    resources = transformed()["Resources"]
    (api,) = [body for body in resources.values() if body["Type"] == "AWS::ApiGatewayV2::Api"]
    (stage,) = [body for body in resources.values() if body["Type"] == "AWS::ApiGatewayV2::Stage"]
    routes = {
        f"{method.upper()} {path}": not any("AdminJwt" in requirement for requirement in operation.get("security", []))
        for path, operations in api["Properties"]["Body"]["paths"].items()
        for method, operation in operations.items()
    }
    return stage["Properties"], routes


def _default(limit: dict) -> float:
    return float(transformed()["Parameters"][limit["Ref"]]["Default"])


def test_every_route_setting_names_a_route_of_the_api() -> None:
    # API Gateway refuses the stage otherwise ("Unable to find Route by key ...").
    stage, routes = _api_routes()
    unknown = sorted(set(stage.get("RouteSettings", {})) - set(routes))
    assert not unknown, f"route settings for routes the API does not have: {unknown}"


def test_public_routes_have_their_own_limits_and_admin_routes_the_tighter_default() -> None:
    # Given the stage's default limits (what admin routes get) and each route's own
    stage, routes = _api_routes()
    settings = stage.get("RouteSettings", {})
    default = stage["DefaultRouteSettings"]
    # Then every public route has its own limits, from parameters an operator can tune
    unlimited = sorted(route for route, public in routes.items() if public and route not in settings)
    assert not unlimited, f"public routes throttled like the admin API: {unlimited}"
    assert not [route for route in settings if not routes[route]], "admin routes should keep the default"
    for route, limits in [*settings.items(), ("default", default)]:
        for key in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
            assert "Ref" in limits[key], f"{route}: {key} is not a parameter"
    # And, with the defaults, the admin API is the tightest and a popular post's links the loosest
    admin_rate = _default(default["ThrottlingRateLimit"])
    employee_rate = _default(settings["GET /a/{token}"]["ThrottlingRateLimit"])
    redirect_rate = _default(settings["GET /r/{code}"]["ThrottlingRateLimit"])
    assert admin_rate < employee_rate <= redirect_rate
    for route, limits in settings.items():
        assert _default(limits["ThrottlingBurstLimit"]) >= _default(limits["ThrottlingRateLimit"]), route


def test_the_employee_pages_take_monday_mornings_digest_at_the_ses_rate() -> None:
    # Digests go out at SesMaxSendRate; a scanner opens each one's links as it lands.
    stage, _ = _api_routes()
    page = stage["RouteSettings"]["GET /a/{token}"]
    ses_rate = float(transformed()["Parameters"]["SesMaxSendRate"]["Default"])
    assert _default(page["ThrottlingRateLimit"]) >= ses_rate * LINKS_OPENED_PER_DIGEST


# ---------------------------------------------------------------- email deliverability


def _of_type(template: dict, kind: str) -> dict[str, dict]:
    return {logical_id: body for logical_id, body in template["Resources"].items() if body["Type"] == kind}


def test_a_sending_domain_gets_an_identity_with_easy_dkim_and_the_configuration_set() -> None:
    for domain, expected in (("", False), ("mail.example.com", True)):
        parameters = {"SendingDomain": domain} if domain else {}
        stack = Stack(transformed(parameters), parameters, stack_name="stack-one")
        identities = _of_type({"Resources": stack.resources()}, "AWS::SES::EmailIdentity")
        assert bool(identities) is expected, f"SendingDomain={domain!r}: identity created: {bool(identities)}"
        for identity in identities.values():
            p = identity["Properties"]
            assert stack.resolve(p["EmailIdentity"]) == domain
            assert p["DkimAttributes"]["SigningEnabled"] is True
            assert p["DkimSigningAttributes"]["NextSigningKeyLength"] == "RSA_2048_BIT"
            assert p["ConfigurationSetAttributes"]["ConfigurationSetName"] == {"Ref": "EmailConfigurationSet"}
        dkim_outputs = [name for name, output in transformed(parameters)["Outputs"].items() if "Dkim" in name]
        assert len(dkim_outputs) == 3


def test_bounces_and_complaints_of_this_stages_configuration_set_reach_the_feedback_function() -> None:
    template = transformed()
    configuration_set = template["Resources"]["EmailConfigurationSet"]["Properties"]
    assert set(configuration_set["SuppressionOptions"]["SuppressedReasons"]) == {"BOUNCE", "COMPLAINT"}
    # The configuration set publishes bounces and complaints to the default event bus
    (destination,) = _of_type(template, "AWS::SES::ConfigurationSetEventDestination").values()
    event_destination = destination["Properties"]["EventDestination"]
    assert destination["Properties"]["ConfigurationSetName"] == {"Ref": "EmailConfigurationSet"}
    assert event_destination["Enabled"] is True
    assert set(event_destination["MatchingEventTypes"]) == {"bounce", "complaint"}
    assert event_destination["EventBridgeDestination"]["EventBusArn"]["Fn::Sub"].endswith(":event-bus/default")
    # And one rule takes exactly those of this configuration set to the function
    rules = [
        body["Properties"]
        for body in _of_type(template, "AWS::Events::Rule").values()
        if body["Properties"]["EventPattern"].get("source") == ["aws.ses"]
    ]
    assert len(rules) == 1
    (rule,) = rules
    pattern = rule["EventPattern"]
    assert set(pattern["detail-type"]) == {"Email Bounced", "Email Complaint Received"}
    assert pattern["detail"]["mail"]["tags"]["ses:configuration-set"] == [{"Ref": "EmailConfigurationSet"}]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "EmailFeedbackFunctionAliaslive"}  # its SnapStart version
    assert "DeadLetterConfig" in target


def _ses_senders(template: dict) -> dict[str, dict]:
    roles = _of_type(template, "AWS::IAM::Role")
    senders = {}
    for logical_id, function in _of_type(template, "AWS::Lambda::Function").items():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = [
            statement
            for policy in roles[role]["Properties"].get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        sending = [s for s in statements if "ses:SendRawEmail" in s.get("Action", []) or s.get("Action") == "ses:*"]
        if sending:
            senders[logical_id] = {"function": function["Properties"], "statements": sending}
    return senders


def test_everything_that_sends_email_names_the_configuration_set_and_may_use_it() -> None:
    senders = _ses_senders(transformed())
    assert {"DigestSenderFunction", "PublisherFunction", "SweeperFunction"} <= set(senders)
    for logical_id, sender in senders.items():
        variables = sender["function"]["Environment"]["Variables"]
        assert variables.get("SES_CONFIGURATION_SET") == {"Ref": "EmailConfigurationSet"}, logical_id
        resources = [resource for statement in sender["statements"] for resource in statement["Resource"]]
        assert any("configuration-set/${EmailConfigurationSet}" in str(resource) for resource in resources), (
            f"{logical_id}: SES refuses a send naming a configuration set the sender may not use"
        )
