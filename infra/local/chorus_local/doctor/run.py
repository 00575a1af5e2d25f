"""Run every check against a deployed stack, each on its own: one that cannot run is a FAIL that
says why (usually a missing permission), and the others still report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chorus import clock
from chorus.adapters.networks.linkedin import DEFAULT_VERSION, linkedin_version_sunset
from chorus_local.doctor.findings import Finding, Report, failed, passed, warned
from chorus_local.doctor.networks import NetworkChecks
from chorus_local.doctor.operations import AdminChecks, AlarmChecks, ConcurrencyChecks, FailureQueueChecks
from chorus_local.doctor.secrets import SecretChecks
from chorus_local.doctor.ses import SesChecks
from chorus_local.doctor.stack import DeployedStack, read_stack

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

# A doctor that hangs helps nobody: short timeouts, standard retries for throttling.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 4})
PERMISSIONS_FIX = "give your credentials the read-only actions README lists under 'chorus doctor'"
# How each service says "not allowed" (SNS: AuthorizationError; query APIs: AccessDenied).
ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation"})


@dataclass(frozen=True)
class DoctorClients:
    """One client per service the doctor reads. sns, cloudwatch, cognito-idp, lambda and
    apigatewayv2 have no type stubs in this project, hence Any."""

    cloudformation: CloudFormationClient
    sesv2: SESV2Client
    dynamodb: DynamoDBClient
    secretsmanager: SecretsManagerClient
    sqs: SQSClient
    sns: Any
    cloudwatch: Any
    cognito_idp: Any
    lambda_: Any
    apigatewayv2: Any

    @classmethod
    def from_session(cls, session: boto3.Session) -> DoctorClients:
        def client(name: str) -> Any:
            return session.client(name, config=CLIENT_CONFIG)  # type: ignore[call-overload]

        return cls(
            cloudformation=client("cloudformation"),
            sesv2=client("sesv2"),
            dynamodb=client("dynamodb"),
            secretsmanager=client("secretsmanager"),
            sqs=client("sqs"),
            sns=client("sns"),
            cloudwatch=client("cloudwatch"),
            cognito_idp=client("cognito-idp"),
            lambda_=client("lambda"),
            apigatewayv2=client("apigatewayv2"),
        )


def stack_status(stack: DeployedStack) -> Finding:
    check, status = "stack.status", stack.status
    if status in {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}:
        return passed(check, f"{status} (Stage {stack.parameter('Stage') or '?'})")
    if status.endswith("_IN_PROGRESS"):
        return warned(check, f"{status}: a deploy is running", "run chorus doctor again when it completes")
    if status in {"UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}:
        return warned(
            check,
            f"{status}: the last deploy was rolled back; the stack runs the version before it",
            f"read why: aws cloudformation describe-stack-events --region {stack.region} --stack-name {stack.name}",
        )
    return failed(
        check,
        f"{status}: the stack is not usable",
        f"aws cloudformation describe-stack-events --region {stack.region} --stack-name {stack.name}; fix, "
        "then sam deploy (a stack in ROLLBACK_COMPLETE must be deleted first)",
    )


def _checks(
    stack: DeployedStack, clients: DoctorClients, today: datetime
) -> list[tuple[str, Callable[[], Finding | None]]]:
    ses = SesChecks(stack, clients.sesv2, clients.dynamodb)
    secrets = SecretChecks(stack, clients.secretsmanager)
    networks = NetworkChecks(
        stack,
        clients.apigatewayv2,
        sunset=linkedin_version_sunset,
        recommended_version=DEFAULT_VERSION,
        today=today.date(),
    )
    queues = FailureQueueChecks(stack, clients.sqs)
    alarms = AlarmChecks(stack, clients.sns, clients.cloudwatch)
    admins = AdminChecks(stack, clients.cognito_idp)
    concurrency = ConcurrencyChecks(stack, clients.lambda_)
    return [
        ("ses.identity", ses.identity),
        ("ses.dkim", ses.dkim),
        ("ses.production", ses.production_access),
        ("ses.daily-quota", ses.daily_quota),
        ("ses.send-rate", ses.send_rate),
        ("secrets.magic-link", secrets.magic_link),
        ("secrets.click", secrets.click),
        ("networks.oauth-clients", secrets.oauth_clients),
        ("networks.linkedin-version", networks.linkedin_version),
        ("networks.sandbox", networks.sandbox),
        ("web.public-base-url", networks.public_base_url),
        ("failures", queues.none_declared),
        *[(check, _bind(queues.queue, logical_id)) for check, logical_id in queues.queues()],
        ("alarms.topic", alarms.topic),
        ("alarms.state", alarms.firing),
        ("admins", admins.admins),
        ("lambda.concurrency", concurrency.concurrency),
    ]


def _bind(check: Callable[[str], Finding], logical_id: str) -> Callable[[], Finding]:
    return lambda: check(logical_id)


def _could_not_check(stack: DeployedStack, check: str, exc: ClientError | BotoCoreError) -> Finding:
    if not isinstance(exc, ClientError):
        return failed(check, f"could not call AWS: {exc}", "check your network and credentials, then run again")
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "?"))
    detail = f"{exc.operation_name} refused: {code}: {error.get('Message', '')}".strip()
    if code in ACCESS_DENIED:
        return failed(check, detail, PERMISSIONS_FIX)
    return failed(
        check,
        detail,
        f"aws cloudformation detect-stack-drift --region {stack.region} --stack-name {stack.name} "
        "finds resources changed or deleted outside CloudFormation",
    )


def run_doctor(clients: DoctorClients, stack_name: str, *, now: Callable[[], datetime] = clock.now) -> Report:
    """Reads the stack (StackNotFound when it cannot), then runs every check; changes nothing."""
    checked_at = now()
    stack = read_stack(clients.cloudformation, stack_name)
    findings = [stack_status(stack)]
    for check, run in _checks(stack, clients, checked_at):
        try:
            finding = run()
        except (ClientError, BotoCoreError) as exc:
            finding = _could_not_check(stack, check, exc)
        if finding is not None:
            findings.append(finding)
    return Report(stack=stack.name, region=stack.region, checked_at=checked_at, findings=tuple(findings))
