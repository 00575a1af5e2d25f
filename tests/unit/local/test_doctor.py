"""The doctor's rules without AWS: failure queues from a template, LinkedIn's window, the report,
secrets judged and never shown (fake clients held to botocore's models, no sockets)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.adapters.oauth_clients import SecretsOAuthClients
from chorus.domain.networks import Network
from chorus_local.doctor.findings import Finding, Report, Status, failed, passed, warned
from chorus_local.doctor.networks import NetworkChecks
from chorus_local.doctor.render import render_json, render_table
from chorus_local.doctor.secrets import SecretChecks, missing_apps
from chorus_local.doctor.ses import count_active_roster
from chorus_local.doctor.stack import DeployedStack, StackResource, failure_queues
from tests.support.aws_fakes import ModelledClient

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:OAuthClientsSecret-AbCdEf"
KEYS_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:MagicLinkSecret-AbCdEf"
TODAY = date(2026, 11, 29)


def stack(**parameters: str) -> DeployedStack:
    return DeployedStack(
        name="chorus-prod",
        region="eu-west-1",
        status="CREATE_COMPLETE",
        parameters={"Networks": "linkedin,x,mastodon", "LinkedInVersion": "202607", **parameters},
        outputs={"OAuthClientsSecretArn": SECRET_ARN, "ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com"},
        resources={
            "MagicLinkSecret": StackResource("MagicLinkSecret", "AWS::SecretsManager::Secret", KEYS_ARN),
            "OAuthClientsSecret": StackResource("OAuthClientsSecret", "AWS::SecretsManager::Secret", SECRET_ARN),
        },
    )


def secrets_holding(value: str) -> ModelledClient:
    return ModelledClient(
        "secretsmanager",
        {
            "GetSecretValue": lambda params: {
                "ARN": params["SecretId"],
                "Name": params["SecretId"].rsplit(":", 1)[1],
                "VersionId": "6f1d0c6e-9a4b-4f6e-8d3c-2b1a0f9e8d7c",
                "SecretString": value,
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": datetime(2026, 11, 28, tzinfo=UTC),
            }
        },
    )


# ---------------------------------------------------------------- failure queues


def test_failure_queues_are_the_queues_named_where_failures_go() -> None:
    template = {
        "Resources": {
            "Work": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dead", "Arn"]}}},
            },
            "Dead": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Invoked": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Renamed": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Unrelated": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Worker": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Environment": {"Variables": {"Q": {"Ref": "Unrelated"}}}},
            },
            "WorkerEventInvokeConfig": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": {"Ref": "Worker"},
                    "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": "Invoked.Arn"}}},
                },
            },
            "Nightly": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {"Target": {"DeadLetterConfig": {"Arn": {"Fn::Sub": "${Renamed.Arn}"}}}},
            },
        }
    }

    assert failure_queues(template) == {
        "Dead": ("Work",),
        "Invoked": ("Worker",),
        "Renamed": ("Nightly",),
    }


# ---------------------------------------------------------------- LinkedIn's support window


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(61, Status.PASS), (60, Status.WARN), (0, Status.WARN), (-1, Status.FAIL)],
)
def test_the_linkedin_window(days_left: int, expected: Status) -> None:
    sunsets = {"202601": TODAY + timedelta(days=days_left), "202607": date(2027, 7, 15)}
    checks = NetworkChecks(
        stack(LinkedInVersion="202601"), None, sunset=lambda v: sunsets[v], recommended_version="202607", today=TODAY
    )

    found = checks.linkedin_version()

    assert found.status is expected
    if expected is not Status.PASS:
        assert found.fix == "redeploy with LinkedInVersion=202607 (samconfig.toml parameter_overrides)"


def test_a_linkedin_version_that_is_not_yyyymm() -> None:
    def sunset(version: str) -> date:
        if version != "202607":
            raise ValueError("LinkedIn-Version must be YYYYMM")
        return date(2027, 7, 15)

    checks = NetworkChecks(
        stack(LinkedInVersion="2026-07"), None, sunset=sunset, recommended_version="202607", today=TODAY
    )

    assert checks.linkedin_version().status is Status.FAIL


# ---------------------------------------------------------------- the report


def report(*findings: Finding) -> Report:
    return Report("chorus-prod", "eu-west-1", datetime(2026, 11, 29, 10, 0, tzinfo=UTC), findings)


def test_the_table_puts_each_fix_under_its_finding() -> None:
    text = render_table(
        report(
            passed("stack.status", "CREATE_COMPLETE"),
            failed("secrets.click", "missing", "sam deploy"),
            warned("alarms.topic", "pending", "confirm the email"),
        )
    )

    assert text.splitlines() == [
        "chorus doctor: stack chorus-prod (eu-west-1), 2026-11-29 10:00 UTC",
        "",
        "STATUS  CHECK          DETAIL",
        "PASS    stack.status   CREATE_COMPLETE",
        "FAIL    secrets.click  missing",
        "                       fix: sam deploy",
        "WARN    alarms.topic   pending",
        "                       fix: confirm the email",
        "",
        "3 checks: 1 PASS, 1 WARN, 1 FAIL",
    ]


def test_only_a_failure_makes_the_exit_status_one() -> None:
    assert report(passed("a", "ok"), warned("b", "hm", "look")).exit_code == 0
    assert report(passed("a", "ok"), failed("b", "no", "fix")).exit_code == 1
    assert json.loads(render_json(report(failed("b", "no", "fix"))))["summary"] == {"PASS": 0, "WARN": 0, "FAIL": 1}


# ---------------------------------------------------------------- secrets: judged, never shown

MARK = "s3cr3t-"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8).map(lambda text: MARK + text),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
apps = st.dictionaries(
    st.sampled_from(["linkedin", "x", "mastodon", "bluesky"]),
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "client_id": st.text(max_size=6).map(lambda t: MARK + t),
                "client_secret": st.text(max_size=6).map(lambda t: MARK + t),
            }
        ),
    ),
)


@settings(max_examples=150, deadline=None)
@given(document=st.one_of(json_values, apps))
def test_the_oauth_check_agrees_with_the_functions_and_never_shows_the_secret(document: Any) -> None:
    checks = SecretChecks(stack(), secrets_holding(json.dumps(document)))  # type: ignore[arg-type]

    found = checks.oauth_clients()

    assert MARK not in found.detail + found.fix
    # The doctor calls a network missing exactly when the functions would not offer it.
    missing = missing_apps(document, ["linkedin", "x"])
    app = SecretsOAuthClients(SecretsProvider(boto3_client=secrets_holding(json.dumps(document))), SECRET_ARN)
    assert missing == [name for name in ("linkedin", "x") if app.client(Network(name)) is None]
    assert (found.status is Status.PASS) == (missing == [])


@settings(max_examples=150, deadline=None)
@given(document=st.one_of(json_values, st.text(max_size=40).map(lambda text: MARK + text)))
def test_the_magic_link_check_never_shows_the_keys(document: Any) -> None:
    value = document if isinstance(document, str) else json.dumps(document)
    checks = SecretChecks(stack(), secrets_holding(value))  # type: ignore[arg-type]

    found = checks.magic_link()

    assert MARK not in found.detail + found.fix
    assert found.status is Status.FAIL  # none of these is a key ring of 256-bit keys


# ---------------------------------------------------------------- the roster, counted


def test_the_roster_is_counted_page_by_page_without_reading_items() -> None:
    pages = [
        {
            "Count": 2900,
            "ScannedCount": 2900,
            "LastEvaluatedKey": {"GSI2PK": {"S": "ROSTER#active"}, "GSI2SK": {"S": "e2900"}},
        },
        {
            "Count": 2900,
            "ScannedCount": 2900,
            "LastEvaluatedKey": {"GSI2PK": {"S": "ROSTER#active"}, "GSI2SK": {"S": "e5800"}},
        },
        {"Count": 417, "ScannedCount": 417},
    ]
    dynamodb = ModelledClient("dynamodb", {"Query": lambda params: pages[len(dynamodb.calls) - 1]})

    assert count_active_roster(dynamodb, "chorus-prod-Table") == 6217  # type: ignore[arg-type]

    assert [params.get("ExclusiveStartKey") for _, params in dynamodb.calls] == [
        None,
        pages[0]["LastEvaluatedKey"],
        pages[1]["LastEvaluatedKey"],
    ]
    assert {params["Select"] for _, params in dynamodb.calls} == {"COUNT"}
    assert dynamodb.calls[0][1]["ExpressionAttributeValues"] == {":roster": {"S": "ROSTER#active"}}
