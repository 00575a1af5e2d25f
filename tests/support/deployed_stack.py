"""A deployed Chorus stack on moto, built from template.yaml: what ``chorus doctor`` reads.

moto's CloudFormation cannot hold this stack: it has no SAM transform, cannot create Secrets
Manager secrets, Cognito pools, SNS subscriptions, CloudWatch alarms or SES identities as stack
resources, and answers DescribeStackResources with rows that lack their logical ids for those.
So:

* the resources are created in moto by the local cloud's provisioner (what ``chorus local up``
  runs on template.yaml), and here what it leaves out (the Cognito pool, its admin group and an
  admin, the alarm email subscription, the alarms, the custom domain and the HTTP API);
* CloudFormation's answers (DescribeStacks, ListStackResources, GetTemplate) come from a
  model-validated fake built from the SAM-transformed template, its conditions and outputs
  resolved with the same parameters, and the physical ids of what was created;
* SES v2 and Lambda's GetAccountSettings are fakes with recorded answers: moto has no GetAccount
  or GetAccountSettings, and its GetEmailIdentity never reports an identity verified.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

from chorus.domain.employee import Employee
from chorus.store.catalog import CatalogStore
from chorus_local.doctor.run import DoctorClients
from chorus_local.provision import Provisioner
from chorus_local.template import Stack, load_template
from tests.support.aws_fakes import ModelledClient, client_error, recorded
from tests.support.cloudformation import transformed

ROOT = Path(__file__).resolve().parents[2]
STACK = "chorus-prod"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/5e1e3b90-cd2f-11f0-9a41-0a5f3c8e6b21"
SENDING_DOMAIN = "mail.acme.test"
CUSTOM_DOMAIN = "advocacy.acme.test"
ADMIN_GROUP = "chorus-admins"
# What an operator gives `sam deploy --guided` (others: the template's defaults).
PARAMETERS = {
    "Stage": "prod",
    "SenderEmail": f"chorus@{SENDING_DOMAIN}",
    "SenderName": "Acme Advocacy",
    "SendingDomain": SENDING_DOMAIN,
    "AlarmEmail": "ops@acme.test",
    "PublicBaseUrl": f"https://{CUSTOM_DOMAIN}",
    "Networks": "linkedin,x,mastodon",
    "LinkedInVersion": "202607",
    "SesMaxSendRate": "14",
}
OAUTH_APPS = {
    "linkedin": {"client_id": "77li2026acme", "client_secret": "WPL_AP1.li-secret-not-shown"},
    "x": {"client_id": "eC1hY21lLWFwcA", "client_secret": "x-secret-not-shown-0123456789"},
}
# 2026-11-29 10:00 UTC: today, a Sunday.
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
LIST_PAGE = 100  # ListStackResources' page size


def _suffix(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12].upper()


@dataclass
class DeployedChorus:
    """The stack and its clients; tests plant problems through ``moto`` clients or the fakes."""

    raw: Stack
    processed: dict[str, Any]
    physical_ids: dict[str, str]
    status: str = "CREATE_COMPLETE"
    moto: dict[str, Any] = field(default_factory=dict)
    sesv2: ModelledClient = field(init=False)
    lambda_: ModelledClient = field(init=False)
    cloudformation: ModelledClient = field(init=False)

    def __post_init__(self) -> None:
        domain = recorded("sesv2", "GetEmailIdentity", "sesv2-get-email-identity-verified")
        self.sesv2 = ModelledClient(
            "sesv2",
            {
                "GetAccount": recorded("sesv2", "GetAccount", "sesv2-get-account-production"),
                "GetEmailIdentity": self.identities({SENDING_DOMAIN: domain}),
            },
        )
        self.lambda_ = ModelledClient(
            "lambda", {"GetAccountSettings": recorded("lambda", "GetAccountSettings", "lambda-get-account-settings")}
        )
        self.cloudformation = ModelledClient(
            "cloudformation",
            {
                "DescribeStacks": self._describe_stacks,
                "ListStackResources": self._list_stack_resources,
                "GetTemplate": self._get_template,
            },
        )

    # ------------------------------------------------------------------ planting problems
    @staticmethod
    def identities(known: dict[str, dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def answer(params: dict[str, Any]) -> dict[str, Any]:
            name = params["EmailIdentity"]
            if name not in known:
                raise client_error(
                    "sesv2", "GetEmailIdentity", "NotFoundException", f"Email identity {name} does not exist.", 404
                )
            return known[name]

        return answer

    def queue_url(self, logical_id: str) -> str:
        return self.physical_ids[logical_id]

    def secret_arn(self, logical_id: str) -> str:
        return self.physical_ids[logical_id]

    def clients(self) -> DoctorClients:
        return DoctorClients(
            cloudformation=self.cloudformation,  # type: ignore[arg-type]
            sesv2=self.sesv2,  # type: ignore[arg-type]
            dynamodb=self.moto["dynamodb"],
            secretsmanager=self.moto["secretsmanager"],
            sqs=self.moto["sqs"],
            sns=self.moto["sns"],
            cloudwatch=self.moto["cloudwatch"],
            cognito_idp=self.moto["cognito-idp"],
            lambda_=self.lambda_,
            apigatewayv2=self.moto["apigatewayv2"],
        )

    # ------------------------------------------------------------------ CloudFormation's view
    @cached_property
    def _resources(self) -> list[dict[str, Any]]:
        chosen = {name: str(value) for name, value in self.raw.parameters.items()}
        listed = Stack(self.processed, parameter_overrides=chosen, stack_name=STACK, region=REGION)
        rows = []
        for logical_id, resource in listed.resources.items():
            rows.append(
                {
                    "LogicalResourceId": logical_id,
                    "PhysicalResourceId": self.physical_ids.get(
                        logical_id, f"{STACK}-{logical_id}-{_suffix(logical_id)}"
                    ),
                    "ResourceType": resource.type,
                    "LastUpdatedTimestamp": NOW,
                    "ResourceStatus": "CREATE_COMPLETE",
                    "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
                }
            )
        return rows

    def _check_stack(self, operation: str, params: dict[str, Any]) -> None:
        if params.get("StackName") not in {STACK, STACK_ID}:
            raise client_error(
                "cloudformation",
                operation,
                "ValidationError",
                f"Stack with id {params.get('StackName')} does not exist",
            )

    def _describe_stacks(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_stack("DescribeStacks", params)
        outputs = self.raw.outputs()
        return {
            "Stacks": [
                {
                    "StackId": STACK_ID,
                    "StackName": STACK,
                    "CreationTime": NOW,
                    "StackStatus": self.status,
                    "Parameters": [
                        {"ParameterKey": name, "ParameterValue": str(value)}
                        for name, value in self.raw.parameters.items()
                    ],
                    "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
                    "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
                }
            ]
        }

    def _list_stack_resources(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_stack("ListStackResources", params)
        rows = self._resources
        start = int(params.get("NextToken") or 0)
        page: dict[str, Any] = {"StackResourceSummaries": rows[start : start + LIST_PAGE]}
        if start + LIST_PAGE < len(rows):
            page["NextToken"] = str(start + LIST_PAGE)
        return page

    def _get_template(self, params: dict[str, Any]) -> dict[str, Any]:
        self._check_stack("GetTemplate", params)
        assert params.get("TemplateStage") == "Processed", "the doctor reads the template after the SAM transform"
        return {"TemplateBody": json.dumps(self.processed), "StagesAvailable": ["Original", "Processed"]}


def deploy(parameters: dict[str, str] | None = None) -> DeployedChorus:
    """Inside ``mock_aws``: creates the stack's resources in moto, a healthy stack by default."""
    chosen = {**PARAMETERS, **(parameters or {})}
    raw = Stack(load_template(ROOT / "template.yaml"), parameter_overrides=chosen, stack_name=STACK, region=REGION)
    moto = {
        name: boto3.client(name, region_name=REGION)  # type: ignore[call-overload]
        for name in ("dynamodb", "secretsmanager", "sqs", "sns", "cloudwatch", "cognito-idp", "apigatewayv2", "s3")
    }
    created = Provisioner(raw, lambda service: boto3.client(service, region_name=REGION), {}).provision()  # type: ignore[call-overload]
    physical_ids = {logical_id: str(raw.ref(logical_id)) for logical_id in created}

    moto["secretsmanager"].put_secret_value(
        SecretId=physical_ids["OAuthClientsSecret"], SecretString=json.dumps(OAUTH_APPS)
    )

    # Cognito, as the stack creates it, and the first admin (README, step 6).
    if raw.condition("UseCognito"):
        cognito = moto["cognito-idp"]
        pool = cognito.create_user_pool(PoolName=f"chorus-{chosen['Stage']}-admins")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="admins")["UserPoolClient"]["ClientId"]
        cognito.create_group(UserPoolId=pool, GroupName=raw.parameters["AdminGroup"])
        raw.set_ref("AdminUserPool", pool)
        raw.set_ref("AdminUserPoolClient", client)
        physical_ids.update(
            AdminUserPool=pool, AdminUserPoolClient=client, AdminUserPoolGroup=raw.parameters["AdminGroup"]
        )
        add_admin(moto, pool, raw.parameters["AdminGroup"], "alex@acme.test")

    # The HTTP API and, with PublicBaseUrl, its custom domain.
    api = moto["apigatewayv2"].create_api(Name=f"{STACK}-HttpApi", ProtocolType="HTTP")["ApiId"]
    raw.set_ref("HttpApi", api)
    physical_ids["HttpApi"] = api
    domain = urlsplit(raw.parameters["PublicBaseUrl"]).hostname
    if domain:
        moto["apigatewayv2"].create_domain_name(DomainName=domain)
        moto["apigatewayv2"].create_api_mapping(DomainName=domain, ApiId=api, Stage="$default")

    topic = physical_ids["AlarmTopic"]
    if raw.parameters["AlarmEmail"]:
        subscription = moto["sns"].subscribe(TopicArn=topic, Protocol="email", Endpoint=raw.parameters["AlarmEmail"])
        physical_ids["AlarmEmailSubscription"] = subscription["SubscriptionArn"]
    for logical_id, resource in raw.resources.items():
        if resource.type == "AWS::CloudWatch::Alarm":
            name = f"{STACK}-{logical_id}-{_suffix(logical_id)}"
            props = raw.resolve(resource.properties)
            moto["cloudwatch"].put_metric_alarm(
                AlarmName=name,
                AlarmDescription=props["AlarmDescription"],
                Namespace=props["Namespace"],
                MetricName=props["MetricName"],
                Dimensions=props.get("Dimensions", []),
                Statistic=props["Statistic"],
                Period=int(props["Period"]),
                EvaluationPeriods=int(props["EvaluationPeriods"]),
                Threshold=float(props["Threshold"]),
                ComparisonOperator=props["ComparisonOperator"],
                AlarmActions=[topic],
            )
            physical_ids[logical_id] = name

    # One transform serves every variant: parameters only decide conditions here, which the fake
    # resolves per stack (a transform takes seconds).
    return DeployedChorus(raw=raw, processed=transformed(PARAMETERS), physical_ids=physical_ids, moto=moto)


def add_admin(moto: dict[str, Any], pool: str, group: str, email: str) -> None:
    cognito = moto["cognito-idp"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)


def hire(stack: DeployedChorus, count: int, *, inactive: int = 0) -> None:
    """Adds employees through the store (the sparse roster index holds the active ones)."""
    store = CatalogStore(stack.moto["dynamodb"], stack.physical_ids["Table"])
    employees = [
        Employee(
            employee_id=f"e{index:05d}",
            email=f"employee{index}@acme.test",
            name=f"Employee {index}",
            active=index >= inactive,
        )
        for index in range(count + inactive)
    ]
    store.upsert_employees(employees)


def watch_operations(clients: DoctorClients) -> Callable[[], list[str]]:
    """Every operation the doctor's clients are asked for: moto clients through botocore's
    before-call event, fakes through their call log. Returns a reader of the list so far."""
    seen: list[str] = []
    fakes: list[ModelledClient] = []
    for client in vars(clients).values():
        if isinstance(client, ModelledClient):
            fakes.append(client)
        else:
            client.meta.events.register("before-call", lambda model, **_: seen.append(model.name))

    def read() -> list[str]:
        return seen + [operation for fake in fakes for operation, _params in fake.calls]

    return read
