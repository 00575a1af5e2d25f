"""What keeps the stack looked after: failure queues, the alarm topic, alarms, admins, concurrency."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from chorus_local.doctor.findings import Finding, failed, passed, warned
from chorus_local.doctor.stack import DeployedStack

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

PENDING = "PendingConfirmation"
# DescribeAlarms takes at most 100 names per call.
ALARM_NAMES_PER_CALL = 100
# Concurrency the stack needs at its busiest (Monday's digest): every employee page takes about
# 0.1 s, so the employee route limit in requests per second needs a tenth as many functions at
# once; plus every digest sender, plus this many for the publisher, sweeper, scoring and ingest.
PAGE_SECONDS = 0.1
BACKGROUND_FUNCTIONS = 10
LAMBDA_CONCURRENCY_QUOTA = "L-B99A9384"
_COUNTS: Final[tuple[QueueAttributeNameType, ...]] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


class FailureQueueChecks:
    def __init__(self, stack: DeployedStack, sqs: SQSClient) -> None:
        self._stack = stack
        self._sqs = sqs

    def queues(self) -> list[tuple[str, str]]:
        """(check id, queue logical id) of every deployed failure queue."""
        return [
            (f"failures.{logical_id}", logical_id)
            for logical_id in self._stack.failure_queues
            if self._stack.physical_id(logical_id)
        ]

    def none_declared(self) -> Finding | None:
        if self.queues():
            return None
        return warned(
            "failures",
            "the stack's template names no failure queue: failed work would go unnoticed",
            "deploy the current template.yaml (every async function has an on-failure queue)",
        )

    def queue(self, logical_id: str) -> Finding:
        check, url = f"failures.{logical_id}", self._stack.physical_id(logical_id) or ""
        attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[*_COUNTS, "QueueArn"])["Attributes"]
        visible, in_flight, delayed = (int(attributes.get(name, "0")) for name in _COUNTS)
        total = visible + in_flight + delayed
        sources = ", ".join(self._stack.failure_queues[logical_id])
        if not total:
            return passed(check, f"empty (failures of {sources})")
        region = self._stack.region
        after = (
            f"then move them back: aws sqs start-message-move-task --region {region} "
            f"--source-arn {attributes.get('QueueArn', '<queue arn>')}"
            if self._only_redriven(logical_id)
            else f"then aws sqs purge-queue --region {region} --queue-url {url}"
        )
        return failed(
            check,
            f"{total} message(s) ({visible} waiting, {in_flight} being read, {delayed} delayed) from {sources}",
            f"read them: aws sqs receive-message --region {region} --queue-url {url} "
            f"--max-number-of-messages 10 --attribute-names All; fix the cause and replay (README, "
            f"'chorus doctor'); {after}",
        )

    def _only_redriven(self, logical_id: str) -> bool:
        """A move task returns messages to the queue that redrove them; invocation records have none."""
        types = {
            resource.type if (resource := self._stack.resources.get(source)) else ""
            for source in self._stack.failure_queues[logical_id]
        }
        return types == {"AWS::SQS::Queue"}


class AlarmChecks:
    def __init__(self, stack: DeployedStack, sns: Any, cloudwatch: Any) -> None:
        self._stack = stack
        self._sns = sns
        self._cloudwatch = cloudwatch

    def _topic(self) -> str:
        return self._stack.outputs.get("AlarmTopicArn") or self._stack.physical_id("AlarmTopic") or ""

    def _subscriptions(self, topic: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._sns.list_subscriptions_by_topic(TopicArn=topic, **({"NextToken": token} if token else {}))
            yield from page.get("Subscriptions", [])
            token = page.get("NextToken")
            if not token:
                return

    def topic(self) -> Finding:
        check, topic, region = "alarms.topic", self._topic(), self._stack.region
        subscriptions = list(self._subscriptions(topic))
        confirmed = sorted(
            s.get("Protocol", "?") for s in subscriptions if s.get("SubscriptionArn", "").startswith("arn:")
        )
        pending = sorted(s.get("Protocol", "?") for s in subscriptions if s.get("SubscriptionArn") == PENDING)
        sns_subscribe = (
            f"aws sns subscribe --region {region} --topic-arn {topic} --protocol email "
            "--notification-endpoint <your address>"
        )
        if confirmed:
            more = f"; {len(pending)} pending ({', '.join(pending)})" if pending else ""
            return passed(check, f"{len(confirmed)} confirmed subscription(s) ({', '.join(confirmed)}){more}")
        if pending:
            return warned(
                check,
                f"no confirmed subscription: {len(pending)} pending confirmation ({', '.join(pending)})",
                "open the 'AWS Notification - Subscription Confirmation' email and confirm "
                f"(lost it? {sns_subscribe} sends another)",
            )
        return failed(
            check,
            "nobody is subscribed to the alarm topic: alarms notify no one",
            f"redeploy with AlarmEmail=<your address>, or {sns_subscribe}; then confirm from the email",
        )

    def firing(self) -> Finding:
        check, region = "alarms.state", self._stack.region
        names = {
            resource.physical_id: resource.logical_id for resource in self._stack.of_type("AWS::CloudWatch::Alarm")
        }
        firing: list[str] = []
        ordered = sorted(names)
        for start in range(0, len(ordered), ALARM_NAMES_PER_CALL):
            token: str | None = None
            while True:
                # State filtered here: moto ignores StateValue next to AlarmNames.
                page = self._cloudwatch.describe_alarms(
                    AlarmNames=ordered[start : start + ALARM_NAMES_PER_CALL], **({"NextToken": token} if token else {})
                )
                firing.extend(
                    names.get(alarm["AlarmName"], alarm["AlarmName"])
                    for alarm in page.get("MetricAlarms", [])
                    if alarm.get("StateValue") == "ALARM"
                )
                token = page.get("NextToken")
                if not token:
                    break
        if firing:
            return warned(
                check,
                f"{len(firing)} of {len(names)} alarms in ALARM: {', '.join(sorted(firing))}",
                f"aws cloudwatch describe-alarms --region {region} --state-value ALARM "
                "(each alarm's description says what to look at)",
            )
        return passed(check, f"{len(names)} alarms, none in ALARM")


class AdminChecks:
    def __init__(self, stack: DeployedStack, cognito: Any) -> None:
        self._stack = stack
        self._cognito = cognito

    def admins(self) -> Finding:
        check, stack, region = "admins", self._stack, self._stack.region
        group = stack.parameter("AdminGroup")
        issuer = stack.parameter("JwtIssuer")
        if issuer:
            return passed(check, f"admins sign in at {issuer} (members of {group}); not checked here")
        pool = stack.outputs.get("AdminUserPoolId") or stack.physical_id("AdminUserPool") or ""
        users: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._cognito.list_users_in_group(
                UserPoolId=pool, GroupName=group, **({"NextToken": token} if token else {})
            )
            users.extend(page.get("Users", []))
            token = page.get("NextToken")
            if not token:
                break
        enabled = [user for user in users if user.get("Enabled", True)]
        if not enabled:
            return failed(
                check,
                f"no enabled user in the admin group {group}: nobody can use the admin API",
                f"aws cognito-idp admin-create-user --region {region} --user-pool-id {pool} --username <email> "
                "--user-attributes Name=email,Value=<email> Name=email_verified,Value=true && "
                f"aws cognito-idp admin-add-user-to-group --region {region} --user-pool-id {pool} "
                f"--username <email> --group-name {group} (README, step 6)",
            )
        waiting = sum(1 for user in enabled if user.get("UserStatus") == "FORCE_CHANGE_PASSWORD")
        note = f" ({waiting} yet to choose a password)" if waiting else ""
        return passed(check, f"{len(enabled)} admin(s) in {group}{note}")


def concurrency_needed(stack: DeployedStack) -> int:
    employee_rate = float(stack.parameter("EmployeeRouteRateLimit") or 0)
    senders = int(stack.parameter("SenderConcurrency") or 0)
    return math.ceil(employee_rate * PAGE_SECONDS) + senders + BACKGROUND_FUNCTIONS


class ConcurrencyChecks:
    def __init__(self, stack: DeployedStack, lambda_client: Any) -> None:
        self._stack = stack
        self._lambda = lambda_client

    def concurrency(self) -> Finding:
        check, region = "lambda.concurrency", self._stack.region
        limit = self._lambda.get_account_settings()["AccountLimit"]
        available = int(limit.get("UnreservedConcurrentExecutions", limit.get("ConcurrentExecutions", 0)))
        needed = concurrency_needed(self._stack)
        if available < needed:
            return warned(
                check,
                f"the account runs {available} functions at once; Monday's digest and the employee pages need "
                f"about {needed}: employees get errors",
                f"aws service-quotas request-service-quota-increase --region {region} --service-code lambda "
                f"--quota-code {LAMBDA_CONCURRENCY_QUOTA} --desired-value 1000 (README, step 1)",
            )
        return passed(check, f"{available} concurrent executions available; about {needed} needed")
