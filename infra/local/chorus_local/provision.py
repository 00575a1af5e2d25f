"""Create the template's resources in moto (nothing is listed by hand: Resources is the list).

Created: DynamoDB tables (keys, GSIs/LSIs, streams, TTL, PITR), S3 buckets (versioning, CORS,
notification configuration from the functions' S3 events), SQS queues (attributes, redrive),
SNS topics, Secrets Manager secrets, KMS keys and aliases, SES email identities and configuration
sets, Scheduler schedule groups and schedules. Skipped with a debug line: everything moto need not
emulate locally (Cognito, log groups, alarms, policies, IAM roles, SES event destinations - no
mail bounces here -, the HTTP API and layers, which the gateway and the function runtime stand in
for).
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from typing import Any

from chorus_local.functions import FunctionSpec
from chorus_local.log import get_logger
from chorus_local.template import Resource, Stack, scalar_text

logger = get_logger(__name__)

ClientFactory = Callable[[str], Any]

SKIPPED_TYPES = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::SES::ConfigurationSetEventDestination",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::Api",
}


class Provisioner:
    def __init__(self, stack: Stack, client: ClientFactory, functions: dict[str, FunctionSpec]) -> None:
        self.stack = stack
        self.client = client
        self.functions = functions
        self.created: dict[str, str] = {}

    def provision(self) -> dict[str, str]:
        """Create every supported resource; returns {logical id: physical name}."""
        order = {
            "AWS::KMS::Key": 0,
            "AWS::KMS::Alias": 1,
            "AWS::SQS::Queue": 2,
            "AWS::SNS::Topic": 3,
            "AWS::SecretsManager::Secret": 4,
            "AWS::DynamoDB::Table": 5,
            "AWS::S3::Bucket": 6,
            "AWS::SES::ConfigurationSet": 7,
            "AWS::SES::EmailIdentity": 7,
            "AWS::Scheduler::ScheduleGroup": 8,
            "AWS::Scheduler::Schedule": 9,
        }
        handlers: dict[str, Callable[[Resource], None]] = {
            "AWS::KMS::Key": self._kms_key,
            "AWS::KMS::Alias": self._kms_alias,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::DynamoDB::Table": self._table,
            "AWS::S3::Bucket": self._bucket,
            "AWS::SES::ConfigurationSet": self._configuration_set,
            "AWS::SES::EmailIdentity": self._email_identity,
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::Scheduler::Schedule": self._schedule,
        }
        resources = sorted(self.stack.resources.values(), key=lambda r: order.get(r.type, 99))
        # Queues that are another queue's dead-letter target first.
        resources.sort(key=lambda r: (order.get(r.type, 99), "RedrivePolicy" in r.properties))
        for res in resources:
            handler = handlers.get(res.type)
            if handler is None:
                level = "skipped" if res.type in SKIPPED_TYPES else "unsupported, skipped"
                logger.debug(level, logical_id=res.logical_id, type=res.type)
                continue
            handler(res)
            logger.info("created", logical_id=res.logical_id, type=res.type, name=self.created[res.logical_id])
        return dict(self.created)

    def _props(self, res: Resource) -> dict[str, Any]:
        resolved: dict[str, Any] = self.stack.resolve(res.properties)
        return resolved

    # ------------------------------------------------------------------ DynamoDB

    def _table(self, res: Resource) -> None:
        props = self._props(res)
        name = self.stack.physical_name(res.logical_id)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(index_kind):
                kwargs[index_kind] = props[index_kind]
        stream = props.get("StreamSpecification")
        if stream:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        if props.get("Tags"):
            kwargs["Tags"] = props["Tags"]
        ddb = self.client("dynamodb")
        description = ddb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        self.stack.set_attribute(res.logical_id, "Arn", description["TableArn"])
        if description.get("LatestStreamArn"):
            self.stack.set_attribute(res.logical_id, "StreamArn", description["LatestStreamArn"])
        self.created[res.logical_id] = name

    # ------------------------------------------------------------------ S3

    def _bucket(self, res: Resource) -> None:
        props = self._props(res)
        name = self.stack.physical_name(res.logical_id)
        s3 = self.client("s3")
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.stack.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.stack.region}
        s3.create_bucket(**kwargs)
        versioning = (props.get("VersioningConfiguration") or {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        cors = (props.get("CorsConfiguration") or {}).get("CorsRules")
        if cors:
            # CloudFormation spells three CorsRule keys differently from the S3 API.
            renames = {"MaxAge": "MaxAgeSeconds", "Id": "ID", "ExposedHeaders": "ExposeHeaders"}
            rules = [{renames.get(key, key): value for key, value in rule.items()} for rule in cors]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        notifications = self.bucket_notifications(res.logical_id)
        if notifications:
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"LambdaFunctionConfigurations": notifications}
            )
        self.created[res.logical_id] = name

    def bucket_notifications(self, bucket_logical_id: str) -> list[dict[str, Any]]:
        """The Lambda notification configurations SAM derives from ``Type: S3`` events."""
        configs: list[dict[str, Any]] = []
        for spec in self.functions.values():
            for event in spec.events:
                if event.type != "S3":
                    continue
                bucket_ref = event.raw_properties.get("Bucket")
                if not (isinstance(bucket_ref, dict) and bucket_ref.get("Ref") == bucket_logical_id):
                    continue
                events = event.properties.get("Events")
                config: dict[str, Any] = {
                    "Id": f"{spec.logical_id}{event.name}",
                    "LambdaFunctionArn": spec.arn,
                    "Events": events if isinstance(events, list) else [events],
                }
                rules = ((event.properties.get("Filter") or {}).get("S3Key") or {}).get("Rules")
                if rules:
                    config["Filter"] = {"Key": {"FilterRules": rules}}
                configs.append(config)
        return configs

    # ------------------------------------------------------------------ SQS / SNS

    def _queue(self, res: Resource) -> None:
        props = self._props(res)
        name = self.stack.physical_name(res.logical_id)
        attributes: dict[str, str] = {}
        for key in (
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "FifoQueue",
            "ContentBasedDeduplication",
            "SqsManagedSseEnabled",
            "KmsMasterKeyId",
        ):
            if key in props:
                attributes[key] = scalar_text(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        self.client("sqs").create_queue(QueueName=name, Attributes=attributes)
        self.created[res.logical_id] = name

    def _topic(self, res: Resource) -> None:
        props = self._props(res)
        name = self.stack.physical_name(res.logical_id)
        attributes = {"FifoTopic": "true"} if str(props.get("FifoTopic", "")).lower() == "true" else {}
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.stack.set_attribute(res.logical_id, "Arn", arn)
        self.created[res.logical_id] = name

    # ------------------------------------------------------------------ secrets, KMS

    def _secret(self, res: Resource) -> None:
        props = self._props(res)
        name = self.stack.physical_name(res.logical_id)
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate is not None:
            value = _generate_secret(generate)
        kwargs: dict[str, Any] = {"Name": name, "SecretString": value if value is not None else ""}
        if props.get("Description"):
            kwargs["Description"] = props["Description"]
        arn = self.client("secretsmanager").create_secret(**kwargs)["ARN"]
        self.stack.set_ref(res.logical_id, arn)
        self.stack.set_attribute(res.logical_id, "Arn", arn)
        self.created[res.logical_id] = name

    def _kms_key(self, res: Resource) -> None:
        props = self._props(res)
        kwargs: dict[str, Any] = {}
        for key in ("Description", "KeyUsage", "KeySpec"):
            if key in props:
                kwargs[key] = props[key]
        metadata = self.client("kms").create_key(**kwargs)["KeyMetadata"]
        self.stack.set_ref(res.logical_id, metadata["KeyId"])
        self.stack.set_attribute(res.logical_id, "Arn", metadata["Arn"])
        self.stack.set_attribute(res.logical_id, "KeyId", metadata["KeyId"])
        self.created[res.logical_id] = metadata["KeyId"]

    def _kms_alias(self, res: Resource) -> None:
        props = self._props(res)
        self.client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        self.created[res.logical_id] = str(props["AliasName"])

    # ------------------------------------------------------------------ SES, Scheduler

    def _email_identity(self, res: Resource) -> None:
        props = self._props(res)
        identity = str(props["EmailIdentity"])
        self.client("sesv2").create_email_identity(EmailIdentity=identity)
        self.created[res.logical_id] = identity

    def _configuration_set(self, res: Resource) -> None:
        name = self.stack.physical_name(res.logical_id)
        self.client("sesv2").create_configuration_set(ConfigurationSetName=name)
        self.created[res.logical_id] = name

    def _schedule_group(self, res: Resource) -> None:
        name = self.stack.physical_name(res.logical_id)
        self.client("scheduler").create_schedule_group(Name=name)
        self.created[res.logical_id] = name

    def _schedule(self, res: Resource) -> None:
        props = self._props(res)
        name = self.stack.physical_name(res.logical_id)
        kwargs: dict[str, Any] = {
            "Name": name,
            "ScheduleExpression": props["ScheduleExpression"],
            "FlexibleTimeWindow": props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
            "Target": props["Target"],
        }
        for key in ("GroupName", "ScheduleExpressionTimezone", "State", "Description"):
            if key in props:
                kwargs[key] = props[key]
        self.client("scheduler").create_schedule(**kwargs)
        self.created[res.logical_id] = name


def _generate_secret(spec: dict[str, Any]) -> str:
    length = int(spec.get("PasswordLength", 32))
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    excluded = str(spec.get("ExcludeCharacters", ""))
    alphabet = "".join(ch for ch in alphabet if ch not in excluded)
    generated = "".join(secrets.choice(alphabet) for _ in range(length))
    template = spec.get("SecretStringTemplate")
    if template is not None and spec.get("GenerateStringKey"):
        data = json.loads(str(template))
        data[str(spec["GenerateStringKey"])] = generated
        return json.dumps(data)
    return generated
