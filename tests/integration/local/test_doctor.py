"""``chorus doctor --stack NAME`` against a Chorus stack deployed on moto (tests/support/deployed_stack.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from chorus.adapters.networks.linkedin import DEFAULT_VERSION
from chorus_local.cli import CliError, build_parser, doctor_report, main
from chorus_local.doctor.findings import Report, Status
from chorus_local.doctor.run import DoctorClients, run_doctor
from chorus_local.doctor.stack import read_stack
from tests.support.aws_fakes import ModelledClient, client_error, recorded
from tests.support.deployed_stack import (
    ADMIN_GROUP,
    NOW,
    OAUTH_APPS,
    REGION,
    SENDING_DOMAIN,
    STACK,
    DeployedChorus,
    add_admin,
    deploy,
    hire,
    watch_operations,
)

ROSTER = 12
READ_ONLY = re.compile(r"^(Describe|Get|List|Query$)")


@pytest.fixture
def chorus_prod() -> Iterator[DeployedChorus]:
    """Given a healthy chorus-prod stack with 12 active employees (and 3 who left)."""
    with mock_aws():
        stack = deploy()
        hire(stack, ROSTER, inactive=3)
        yield stack


@pytest.fixture
def deployed_with(request: pytest.FixtureRequest) -> Iterator[DeployedChorus]:
    """The same, deployed with the parameters of ``@pytest.mark.parametrize("deployed_with", [...], indirect=True)``."""
    with mock_aws():
        stack = deploy(request.param)
        hire(stack, ROSTER)
        yield stack


def doctor(stack: DeployedChorus, clients: DoctorClients | None = None) -> Report:
    return run_doctor(clients or stack.clients(), STACK, now=lambda: NOW)


def statuses(report: Report) -> dict[str, Status]:
    return {finding.check: finding.status for finding in report.findings}


def finding(report: Report, check: str) -> Any:
    return next(item for item in report.findings if item.check == check)


def run_cli(stack: DeployedChorus, *extra: str, clients: DoctorClients | None = None) -> int:
    args = build_parser().parse_args(["doctor", "--stack", STACK, "--region", REGION, *extra])
    return doctor_report(args, clients or stack.clients(), now=lambda: NOW)


# ---------------------------------------------------------------- the two stacks of the issue


def test_a_healthy_stack_passes_every_check(chorus_prod: DeployedChorus, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(chorus_prod)

    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 WARN, 0 FAIL" in out
    report = doctor(chorus_prod)
    assert set(statuses(report).values()) == {Status.PASS}
    # Every area was looked at, and every queue of the template but the work queues (the
    # digest's pages and batches, report requests, the networks' publish queues, Slack clicks)
    # is a failure queue the doctor found by itself.
    queues = {lid for lid, res in chorus_prod.raw.resources.items() if res.type == "AWS::SQS::Queue"}
    work = {
        "DigestQueue",
        "DigestPlanQueue",
        "ReportQueue",
        "LinkedInPublishQueue",
        "XPublishQueue",
        "MastodonPublishQueue",
        "SharedPublishQueue",
        "SlackClickQueue",
    }
    assert set(statuses(report)) == {
        "stack.status",
        "ses.identity",
        "ses.dkim",
        "ses.production",
        "ses.daily-quota",
        "ses.send-rate",
        "secrets.magic-link",
        "secrets.click",
        "networks.oauth-clients",
        "networks.linkedin-version",
        "networks.sandbox",
        "web.public-base-url",
        *{f"failures.{queue}" for queue in queues - work},
        "alarms.topic",
        "alarms.state",
        "admins",
        "lambda.concurrency",
    }
    assert {"failures.IngestFailures", "failures.DigestFailures", "failures.ScheduleFailures"} <= set(statuses(report))
    assert finding(report, "ses.daily-quota").detail == f"{ROSTER} active employees; 50,000 emails a day"


def test_two_planted_problems_fail_with_their_fixes_and_nothing_else(
    chorus_prod: DeployedChorus, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an upload that could not be ingested, and the OAuth clients secret left as deployed
    ingest_failures = chorus_prod.queue_url("IngestFailures")
    chorus_prod.moto["sqs"].send_message(QueueUrl=ingest_failures, MessageBody=json.dumps({"requestContext": {}}))
    oauth_secret = chorus_prod.secret_arn("OAuthClientsSecret")
    chorus_prod.moto["secretsmanager"].put_secret_value(SecretId=oauth_secret, SecretString="{}")

    # When the operator runs the doctor
    code = run_cli(chorus_prod)

    # Then exactly those two fail, each with its fix, and the exit status is 1
    out = capsys.readouterr().out
    print(out)  # the report shows this output (pytest -s)
    assert code == 1
    rows = [line for line in out.splitlines() if line.startswith(("PASS", "WARN", "FAIL"))]
    failing = [line.split()[1] for line in rows if line.startswith("FAIL")]
    assert failing == ["networks.oauth-clients", "failures.IngestFailures"]
    assert not [line for line in rows if line.startswith("WARN")]
    assert out.rstrip().endswith(f"{len(rows)} checks: {len(rows) - 2} PASS, 0 WARN, 2 FAIL")
    lines = out.splitlines()
    oauth = lines.index(next(line for line in rows if line.startswith("FAIL    networks.oauth-clients")))
    assert "no OAuth app for linkedin, x: employees cannot connect to them" in lines[oauth]
    assert lines[oauth + 1].strip() == (
        "fix: create the app (README, step 5; redirect URI https://advocacy.acme.test/oauth/callback/<network>), "
        f"then aws secretsmanager put-secret-value --region eu-west-1 --secret-id {oauth_secret} --secret-string "
        '\'{"linkedin": {"client_id": "...", "client_secret": "..."}, '
        '"x": {"client_id": "...", "client_secret": "..."}}\''
    )
    queue = lines.index(next(line for line in rows if line.startswith("FAIL    failures.IngestFailures")))
    assert "1 message(s) (1 waiting, 0 being read, 0 delayed) from IngestFunction" in lines[queue]
    assert lines[queue + 1].strip() == (
        f"fix: read them: aws sqs receive-message --region eu-west-1 --queue-url {ingest_failures} "
        "--max-number-of-messages 10 --attribute-names All; fix the cause and replay (README, 'chorus doctor'); "
        f"then aws sqs purge-queue --region eu-west-1 --queue-url {ingest_failures}"
    )


def test_json_output_for_machines(chorus_prod: DeployedChorus, capsys: pytest.CaptureFixture[str]) -> None:
    chorus_prod.moto["secretsmanager"].put_secret_value(
        SecretId=chorus_prod.secret_arn("OAuthClientsSecret"),
        SecretString=json.dumps({"linkedin": OAUTH_APPS["linkedin"]}),
    )

    code = run_cli(chorus_prod, "--json")

    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["stack"] == STACK and document["region"] == REGION
    assert document["checked_at"] == NOW.isoformat()
    assert document["summary"] == {"PASS": len(document["checks"]) - 1, "WARN": 0, "FAIL": 1}
    (failure,) = [check for check in document["checks"] if check["status"] == "FAIL"]
    assert failure["check"] == "networks.oauth-clients"
    assert failure["detail"] == "no OAuth app for x: employees cannot connect to it"
    assert "plus the entries already in it" in failure["fix"]


def test_the_doctor_only_reads(chorus_prod: DeployedChorus) -> None:
    chorus_prod.moto["sqs"].send_message(QueueUrl=chorus_prod.queue_url("DigestFailures"), MessageBody="{}")
    clients = chorus_prod.clients()
    called = watch_operations(clients)

    doctor(chorus_prod, clients)

    operations = called()
    assert {"DescribeStacks", "ListStackResources", "GetTemplate", "GetAccount", "GetSecretValue", "Query"} <= set(
        operations
    )
    assert [operation for operation in operations if not READ_ONLY.match(operation)] == []
    # The planted message is still there, unread.
    attributes = chorus_prod.moto["sqs"].get_queue_attributes(
        QueueUrl=chorus_prod.queue_url("DigestFailures"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"


def test_the_stack_is_read_past_the_first_hundred_resources(chorus_prod: DeployedChorus) -> None:
    # DescribeStackResources would stop at 100; the stack has more after the SAM transform.
    stack = read_stack(chorus_prod.cloudformation, STACK)  # type: ignore[arg-type]

    listed = [params for operation, params in chorus_prod.cloudformation.calls if operation == "ListStackResources"]
    assert len(stack.resources) > 100
    # One page of 100 at a time, each after the last: every resource read, none twice
    pages = -(-len(stack.resources) // 100)
    assert [params.get("NextToken") for params in listed] == [None] + [str(100 * page) for page in range(1, pages)]
    assert stack.physical_id("AdminApiErrorsAlarm") == chorus_prod.physical_ids["AdminApiErrorsAlarm"]


def test_an_unknown_stack_is_a_clear_error(chorus_prod: DeployedChorus) -> None:
    args = build_parser().parse_args(["doctor", "--stack", "chorus-nope", "--region", REGION])

    with pytest.raises(CliError, match="cannot read stack chorus-nope"):
        doctor_report(args, chorus_prod.clients(), now=lambda: NOW)


def test_the_command_needs_a_region(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")

    assert main(["doctor", "--stack", STACK]) == 1
    assert "no AWS region: pass --region" in capsys.readouterr().err


def test_a_refused_call_fails_its_check_and_the_others_still_run(chorus_prod: DeployedChorus) -> None:
    chorus_prod.sesv2.answer(
        "GetAccount",
        client_error(
            "sesv2", "GetAccount", "AccessDeniedException", "User is not authorized to perform: ses:GetAccount"
        ),
    )

    report = doctor(chorus_prod)

    for check in ("ses.production", "ses.daily-quota", "ses.send-rate"):
        assert finding(report, check).status is Status.FAIL
        assert finding(report, check).detail.startswith("GetAccount refused: AccessDeniedException")
        assert "README lists under 'chorus doctor'" in finding(report, check).fix
    assert finding(report, "ses.dkim").status is Status.PASS
    assert finding(report, "alarms.topic").status is Status.PASS


def test_a_resource_deleted_behind_cloudformations_back(chorus_prod: DeployedChorus) -> None:
    chorus_prod.moto["cognito-idp"].delete_user_pool(UserPoolId=chorus_prod.physical_ids["AdminUserPool"])

    admins = finding(doctor(chorus_prod), "admins")

    assert admins.status is Status.FAIL
    assert admins.detail.startswith("ListUsersInGroup refused: ResourceNotFoundException")
    assert admins.fix.startswith("aws cloudformation detect-stack-drift --region eu-west-1 --stack-name chorus-prod")


# ---------------------------------------------------------------- SES


def test_the_ses_sandbox_fails_once_and_explains_its_limits(chorus_prod: DeployedChorus) -> None:
    chorus_prod.sesv2.answer("GetAccount", recorded("sesv2", "GetAccount", "sesv2-get-account-sandbox"))

    report = doctor(chorus_prod)

    production = finding(report, "ses.production")
    assert production.status is Status.FAIL
    assert production.detail == "SES sandbox: only verified recipients, 200 emails a day"
    assert production.fix.startswith("aws sesv2 put-account-details --region eu-west-1 --production-access-enabled")
    for check in ("ses.daily-quota", "ses.send-rate"):
        assert finding(report, check).status is Status.WARN
        assert finding(report, check).fix == "see ses.production"


def test_a_domain_whose_dkim_records_are_not_published(chorus_prod: DeployedChorus) -> None:
    pending = recorded("sesv2", "GetEmailIdentity", "sesv2-get-email-identity-pending")
    chorus_prod.sesv2.answer("GetEmailIdentity", DeployedChorus.identities({SENDING_DOMAIN: pending}))

    report = doctor(chorus_prod)

    identity, dkim = finding(report, "ses.identity"), finding(report, "ses.dkim")
    assert (identity.status, dkim.status) == (Status.FAIL, Status.FAIL)
    assert identity.detail == "identity mail.acme.test is not verified yet (verification PENDING)"
    assert dkim.detail == "DKIM for mail.acme.test is PENDING: SES has not found its DNS records"
    assert "DkimRecord1-3 outputs" in dkim.fix


def test_a_sender_with_no_identity_at_all(chorus_prod: DeployedChorus) -> None:
    chorus_prod.sesv2.answer("GetEmailIdentity", DeployedChorus.identities({}))

    report = doctor(chorus_prod)

    identity = finding(report, "ses.identity")
    assert identity.status is Status.FAIL
    assert identity.detail == "no SES identity for chorus@mail.acme.test or its domain in eu-west-1"
    # The address, its domain and the parent domain were asked for, nothing else.
    asked = [params["EmailIdentity"] for op, params in chorus_prod.sesv2.calls if op == "GetEmailIdentity"]
    assert sorted(set(asked)) == ["acme.test", "chorus@mail.acme.test", "mail.acme.test"]


@pytest.mark.parametrize("deployed_with", [{"SenderEmail": "chorus@example.com", "SendingDomain": ""}], indirect=True)
def test_the_template_default_sender_is_called_out(deployed_with: DeployedChorus) -> None:
    identity = finding(doctor(deployed_with), "ses.identity")

    assert identity.status is Status.FAIL
    assert identity.detail == "SenderEmail is the template's placeholder chorus@example.com"


@pytest.mark.parametrize("deployed_with", [{"SenderEmail": "news@acme.test"}], indirect=True)
def test_a_sender_outside_the_sending_domain(deployed_with: DeployedChorus) -> None:
    identity = finding(doctor(deployed_with), "ses.identity")

    assert identity.status is Status.FAIL
    assert "outside SendingDomain mail.acme.test" in identity.detail
    assert identity.fix == "redeploy with SenderEmail=<name>@mail.acme.test"


def test_a_roster_larger_than_the_daily_quota(chorus_prod: DeployedChorus) -> None:
    account = recorded("sesv2", "GetAccount", "sesv2-get-account-production")
    account["SendQuota"]["Max24HourSend"] = 10.0
    chorus_prod.sesv2.answer("GetAccount", account)

    quota = finding(doctor(chorus_prod), "ses.daily-quota")

    assert quota.status is Status.FAIL
    assert quota.detail == "12 active employees but SES sends 10 emails a day: the digest stops after 10"


@pytest.mark.parametrize("deployed_with", [{"SesMaxSendRate": "20"}], indirect=True)
def test_a_stack_rate_above_the_account_rate(deployed_with: DeployedChorus) -> None:
    rate = finding(doctor(deployed_with), "ses.send-rate")

    assert rate.status is Status.FAIL
    assert rate.detail == "SesMaxSendRate 20/s is above the account's 14/s: SES throttles the digest"
    assert rate.fix.startswith("redeploy with SesMaxSendRate=14 ")


def test_an_empty_roster_is_a_warning() -> None:
    with mock_aws():
        empty = deploy()  # nobody hired yet
        quota = finding(doctor(empty), "ses.daily-quota")

    assert quota.status is Status.WARN
    assert quota.fix == "chorus upload employees <roster.csv> --stack chorus-prod --region eu-west-1"


# ---------------------------------------------------------------- secrets and networks


def test_a_magic_link_key_too_short_is_named_but_never_shown(chorus_prod: DeployedChorus) -> None:
    chorus_prod.moto["secretsmanager"].put_secret_value(
        SecretId=chorus_prod.secret_arn("MagicLinkSecret"), SecretString='{"current": "k1", "k1": "tooshort-XYZZY"}'
    )

    report = doctor(chorus_prod)

    magic = finding(report, "secrets.magic-link")
    assert magic.status is Status.FAIL
    assert magic.detail == "the magic-link secret is not a key ring: key k1 is shorter than 256 bits"
    assert "XYZZY" not in json.dumps(report.as_json())


def test_a_deleted_click_secret(chorus_prod: DeployedChorus) -> None:
    chorus_prod.moto["secretsmanager"].delete_secret(
        SecretId=chorus_prod.secret_arn("ClickSecret"), ForceDeleteWithoutRecovery=True
    )

    click = finding(doctor(chorus_prod), "secrets.click")

    assert click.status is Status.FAIL
    assert click.fix == "redeploy the stack (sam deploy): CloudFormation creates ClickSecret"


@pytest.mark.parametrize("deployed_with", [{"Networks": "mastodon", "SandboxEnabled": "true"}], indirect=True)
def test_networks_that_need_no_app_of_yours(deployed_with: DeployedChorus) -> None:
    deployed_with.moto["secretsmanager"].put_secret_value(
        SecretId=deployed_with.secret_arn("OAuthClientsSecret"), SecretString="{}"
    )

    report = doctor(deployed_with)

    assert finding(report, "networks.oauth-clients").status is Status.PASS
    assert finding(report, "networks.linkedin-version").detail == "LinkedIn is not enabled (Networks)"
    sandbox = finding(report, "networks.sandbox")
    assert (sandbox.status, sandbox.fix) == (Status.WARN, "redeploy with SandboxEnabled=false")


@pytest.mark.parametrize("deployed_with", [{"LinkedInVersion": "202510"}], indirect=True)
def test_a_retired_linkedin_version(deployed_with: DeployedChorus) -> None:
    version = finding(doctor(deployed_with), "networks.linkedin-version")

    assert version.status is Status.FAIL
    assert version.detail == "LinkedIn retired version 202510 on 2026-10-15: every LinkedIn post is refused"
    assert version.fix == f"redeploy with LinkedInVersion={DEFAULT_VERSION} (samconfig.toml parameter_overrides)"


@pytest.mark.parametrize("deployed_with", [{"LinkedInVersion": "202601"}], indirect=True)
def test_a_linkedin_version_close_to_its_sunset(deployed_with: DeployedChorus) -> None:
    version = finding(doctor(deployed_with), "networks.linkedin-version")

    assert version.status is Status.WARN
    assert version.detail == "LinkedIn retires version 202601 on 2027-01-15, in 47 day(s)"


@pytest.mark.parametrize("deployed_with", [{"PublicBaseUrl": "https://advocacy.acme.test/"}], indirect=True)
def test_a_public_base_url_the_functions_would_refuse(deployed_with: DeployedChorus) -> None:
    base = finding(doctor(deployed_with), "web.public-base-url")

    assert base.status is Status.FAIL
    assert base.fix == "redeploy with PublicBaseUrl=https://advocacy.acme.test"


@pytest.mark.parametrize("deployed_with", [{"PublicBaseUrl": "https://links.acme.test"}], indirect=True)
def test_a_custom_domain_mapped_elsewhere_or_unknown(deployed_with: DeployedChorus) -> None:
    gateway = deployed_with.moto["apigatewayv2"]
    other = gateway.create_api(Name="someone-else", ProtocolType="HTTP")["ApiId"]
    mapping = gateway.get_api_mappings(DomainName="links.acme.test")["Items"][0]
    gateway.delete_api_mapping(ApiMappingId=mapping["ApiMappingId"], DomainName="links.acme.test")
    gateway.create_api_mapping(DomainName="links.acme.test", ApiId=other, Stage="$default")

    elsewhere = finding(doctor(deployed_with), "web.public-base-url")
    for item in gateway.get_api_mappings(DomainName="links.acme.test")["Items"]:
        gateway.delete_api_mapping(ApiMappingId=item["ApiMappingId"], DomainName="links.acme.test")
    gateway.delete_domain_name(DomainName="links.acme.test")
    unknown = finding(doctor(deployed_with), "web.public-base-url")

    assert elsewhere.status is Status.FAIL
    assert elsewhere.fix == (
        "aws apigatewayv2 create-api-mapping --region eu-west-1 --domain-name links.acme.test "
        f"--api-id {deployed_with.physical_ids['HttpApi']} --stage '$default'"
    )
    assert unknown.status is Status.WARN


# ---------------------------------------------------------------- alarms, admins, concurrency, status


@pytest.mark.parametrize("deployed_with", [{"AlarmEmail": ""}], indirect=True)
def test_an_alarm_topic_nobody_hears(deployed_with: DeployedChorus) -> None:
    topic = finding(doctor(deployed_with), "alarms.topic")

    assert topic.status is Status.FAIL
    assert topic.detail == "nobody is subscribed to the alarm topic: alarms notify no one"


def test_an_unconfirmed_alarm_subscription(chorus_prod: DeployedChorus) -> None:
    # moto confirms every subscription at once; AWS answers this until the email's link is opened.
    topic = chorus_prod.physical_ids["AlarmTopic"]
    sns = ModelledClient(
        "sns",
        {
            "ListSubscriptionsByTopic": {
                "Subscriptions": [
                    {
                        "SubscriptionArn": "PendingConfirmation",
                        "Owner": "123456789012",
                        "Protocol": "email",
                        "Endpoint": "ops@acme.test",
                        "TopicArn": topic,
                    }
                ]
            }
        },
    )
    clients = chorus_prod.clients()

    report = doctor(chorus_prod, DoctorClients(**{**vars(clients), "sns": sns}))

    subscription = finding(report, "alarms.topic")
    assert subscription.status is Status.WARN
    assert subscription.detail == "no confirmed subscription: 1 pending confirmation (email)"
    assert "ops@acme.test" not in json.dumps(report.as_json())


def test_alarms_in_alarm_are_listed(chorus_prod: DeployedChorus) -> None:
    chorus_prod.moto["cloudwatch"].set_alarm_state(
        AlarmName=chorus_prod.physical_ids["ScheduleFailuresAlarm"], StateValue="ALARM", StateReason="1 message"
    )

    state = finding(doctor(chorus_prod), "alarms.state")

    assert state.status is Status.WARN
    alarms = [lid for lid, res in chorus_prod.raw.resources.items() if res.type == "AWS::CloudWatch::Alarm"]
    assert state.detail == f"1 of {len(alarms)} alarms in ALARM: ScheduleFailuresAlarm"


def test_no_admin_in_the_admin_group(chorus_prod: DeployedChorus) -> None:
    cognito = chorus_prod.moto["cognito-idp"]
    pool = chorus_prod.physical_ids["AdminUserPool"]
    cognito.admin_remove_user_from_group(UserPoolId=pool, Username="alex@acme.test", GroupName=ADMIN_GROUP)

    admins = finding(doctor(chorus_prod), "admins")
    add_admin(chorus_prod.moto, pool, ADMIN_GROUP, "sam@acme.test")
    again = finding(doctor(chorus_prod), "admins")

    assert admins.status is Status.FAIL
    assert f"--user-pool-id {pool}" in admins.fix and f"--group-name {ADMIN_GROUP}" in admins.fix
    assert again.status is Status.PASS


@pytest.mark.parametrize(
    "deployed_with", [{"JwtIssuer": "https://login.acme.test", "JwtAudience": "chorus"}], indirect=True
)
def test_admins_from_the_company_issuer_are_not_checked_here(deployed_with: DeployedChorus) -> None:
    admins = finding(doctor(deployed_with), "admins")

    assert admins.status is Status.PASS
    assert admins.detail == "admins sign in at https://login.acme.test (members of chorus-admins); not checked here"


def test_a_new_account_concurrency_quota(chorus_prod: DeployedChorus) -> None:
    chorus_prod.lambda_.answer(
        "GetAccountSettings", recorded("lambda", "GetAccountSettings", "lambda-get-account-settings-new-account")
    )

    concurrency = finding(doctor(chorus_prod), "lambda.concurrency")

    assert concurrency.status is Status.WARN
    assert concurrency.detail.startswith("the account runs 10 functions at once; ")
    assert "--quota-code L-B99A9384 --desired-value 1000" in concurrency.fix


@pytest.mark.parametrize(
    ("status", "expected"),
    [("UPDATE_COMPLETE", Status.PASS), ("UPDATE_ROLLBACK_COMPLETE", Status.WARN), ("ROLLBACK_COMPLETE", Status.FAIL)],
)
def test_the_stack_status(chorus_prod: DeployedChorus, status: str, expected: Status) -> None:
    chorus_prod.status = status

    assert finding(doctor(chorus_prod), "stack.status").status is expected


def test_a_message_being_redriven_is_counted(chorus_prod: DeployedChorus) -> None:
    sqs, url = chorus_prod.moto["sqs"], chorus_prod.queue_url("ScoringFailures")
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=300)

    queue = finding(doctor(chorus_prod), "failures.ScoringFailures")

    assert queue.status is Status.FAIL
    assert queue.detail == "1 message(s) (0 waiting, 1 being read, 0 delayed) from ScoringFunction"


def test_an_unknown_profile_is_a_clear_error(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile ops]\nregion = eu-west-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))

    assert main(["doctor", "--stack", STACK, "--profile", "opz"]) == 1
    assert "opz" in capsys.readouterr().err
