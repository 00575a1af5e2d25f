"""What CloudFormation checks only at deploy time, checked on the SAM-transformed template.

template.yaml is not what CloudFormation deploys: the SAM transform turns each function into a
function, a role, permissions, event source mappings and schedules, and those are what
CloudFormation orders and names. moto and a linter of template.yaml both accepted a stack that
CloudFormation refused ("Circular dependency between resources") and one that could not live
twice in an account (schedules named after logical ids). These tests read the transform's output.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.cloudformation import Stack, cycles, dependency_edges, transformed

# Every optional resource switched on: conditions must not hide a cycle or a name.
ALL_OPTIONS = {
    "AlarmEmail": "ops@example.com",
    "AlarmHttpsEndpoint": "https://events.example.com/alarms",
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
    triggers = [
        body["Properties"]
        for body in resources.values()
        if body["Type"] in {"AWS::Lambda::EventSourceMapping", "AWS::Lambda::Permission"}
        and body["Properties"]["FunctionName"] == {"Ref": "DigestSenderFunction"}
    ]
    # Then an SQS event source is its only trigger, capped at SenderConcurrency concurrent
    # invocations, and each sender divides the SES rate by that same number
    assert len(triggers) == 1, f"the sender has other triggers, its pacing would not hold: {triggers}"
    (mapping,) = triggers
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["DigestQueue", "Arn"]}
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "SenderConcurrency"}
    assert sender["Environment"]["Variables"]["SENDER_CONCURRENCY"] == {"Ref": "SenderConcurrency"}
    assert int(transformed()["Parameters"]["SenderConcurrency"]["MinValue"]) >= 2, (
        "SQS MaximumConcurrency is 2 at least"
    )
