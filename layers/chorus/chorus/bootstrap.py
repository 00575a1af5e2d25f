"""The one place where settings, AWS clients, adapters and services are wired.

Each ``*_runtime()`` is built on the first invocation of a warm container and reused; heavy
imports (boto3 clients, Powertools utilities) happen here rather than at module import, which
keeps handler import time close to that of boto3 alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from chorus import clock
from chorus.config import (
    AdminApiSettings,
    DigestPlannerSettings,
    DigestSenderSettings,
    IngestSettings,
    LifecycleSettings,
    NoticeSettings,
    PublisherSettings,
    ScheduleSettings,
    TableSettings,
    WebSettings,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

    from chorus.domain.report import IngestReport
    from chorus.messages.email import EmailChannel
    from chorus.services.clicks import ClickService
    from chorus.services.connections import ConnectionsService
    from chorus.services.consent import ConsentService
    from chorus.services.digest import DigestPlanner, DigestSender
    from chorus.services.email_feedback import EmailFeedbackService
    from chorus.services.ingest import IngestService
    from chorus.services.lifecycle import LifecycleService
    from chorus.services.notices import Notifier
    from chorus.services.publish import PublishService
    from chorus.services.retraction import RetractionService
    from chorus.services.rewards import RewardService
    from chorus.services.scoring import ScoringService
    from chorus.services.sweeper import Sweeper

# Idempotency records of S3 uploads live a week: S3 redelivers within minutes to hours.
UPLOAD_IDEMPOTENCY_SECONDS = 7 * 24 * 3600


def _client_config() -> Config:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 5})


def _dynamodb() -> DynamoDBClient:
    import boto3

    return boto3.client("dynamodb", config=_client_config())


def _s3() -> S3Client:
    import boto3
    from botocore.config import Config

    # SigV4 is the only signature presigned URLs may use in newer regions and with SSE-KMS.
    return boto3.client("s3", config=_client_config().merge(Config(signature_version="s3v4")))


def build_ingest_service(
    settings: IngestSettings | AdminApiSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    s3_client: S3Client | None = None,
) -> IngestService:
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.services.ingest import IngestService
    from chorus.store.catalog import CatalogStore

    catalog = CatalogStore(dynamodb_client or _dynamodb(), settings.table_name)
    objects = ObjectStore(s3_client or _s3(), settings.uploads_bucket)
    return IngestService(catalog, objects, max_bytes=settings.max_upload_bytes)


@dataclass
class IngestRuntime:
    """S3 upload events -> ingest, at most once per object version (Powertools idempotency)."""

    settings: IngestSettings
    service: IngestService
    dynamodb_client: DynamoDBClient

    def __post_init__(self) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        self._config = IdempotencyConfig(
            event_key_jmespath="[bucket, key, version_id, etag]",
            expires_after_seconds=UPLOAD_IDEMPOTENCY_SECONDS,
            raise_on_no_idempotency_key=True,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=self.settings.idempotency_table, boto3_client=self.dynamodb_client
        )
        self._ingest_once = idempotent_function(
            data_keyword_argument="upload", persistence_store=persistence, config=self._config
        )(self._ingest)

    def _ingest(self, upload: dict[str, Any]) -> dict[str, Any]:
        report: IngestReport = self.service.ingest_object(upload["key"], upload.get("version_id"))
        return {"key": report.key, "report_key": report.report_key, "status": report.status.value}

    def handle(self, event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
        from chorus.events import uploaded_objects
        from chorus.observability import logger
        from chorus.services.ingest import kind_for_key

        self._config.register_lambda_context(context)
        results: list[dict[str, Any]] = []
        for upload in uploaded_objects(event):
            if upload.bucket != self.settings.uploads_bucket or kind_for_key(upload.key) is None:
                logger.warning("ignored object outside the upload prefixes", bucket=upload.bucket, key=upload.key)
                continue
            results.append(self._ingest_once(upload=upload.model_dump()))
        return results


@cache
def ingest_runtime() -> IngestRuntime:
    settings = IngestSettings.from_env()
    dynamodb = _dynamodb()
    service = build_ingest_service(settings, dynamodb_client=dynamodb)
    return IngestRuntime(settings=settings, service=service, dynamodb_client=dynamodb)


def _scheduler(settings: ScheduleSettings) -> Any:
    import boto3

    from chorus.adapters.scheduler import PostScheduler

    return PostScheduler(
        boto3.client("scheduler", config=_client_config()),
        group_name=settings.schedule_group,
        target_arn=settings.publisher_arn,
        role_arn=settings.scheduler_role_arn,
        dead_letter_arn=settings.schedule_dlq_arn,
    )


def _key_ring(secret_id: str) -> Any:
    import boto3

    from chorus.adapters.secrets_keys import SecretsKeyRing

    return SecretsKeyRing(boto3.client("secretsmanager", config=_client_config()), secret_id)


def build_consent_service(
    settings: WebSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    scheduler: Any = None,
    key_ring: Any = None,
    http_session: Any = None,
) -> ConsentService:
    from chorus.adapters.networks.egress import PublicSession
    from chorus.adapters.networks.mastodon import fetch_instance_limits
    from chorus.domain.content import Network
    from chorus.domain.timing import QuietHours
    from chorus.services.consent import ConsentService
    from chorus.services.length_rules import ServerLengthRules
    from chorus.store.approvals import ApprovalStore
    from chorus.store.catalog import CatalogStore
    from chorus.store.connections import ConnectionStore
    from chorus.store.decisions import DecisionStore
    from chorus.store.digest_marks import DigestMarkStore

    dynamodb = dynamodb_client or _dynamodb()
    # The employee's Mastodon server is theirs to choose: its limits are read through the guard.
    session = http_session or PublicSession()
    networks = [Network(name.strip()) for name in settings.networks.split(",") if name.strip()]
    always_connected: frozenset[Network] = frozenset()
    if settings.sandbox_enabled:
        networks.append(Network.SANDBOX)
        always_connected = frozenset({Network.SANDBOX})
    return ConsentService(
        DecisionStore(dynamodb, settings.table_name),
        key_ring or _key_ring(settings.magic_link_secret_id),
        scheduler or _scheduler(settings),
        CatalogStore(dynamodb, settings.table_name),
        approvals=ApprovalStore(dynamodb, settings.table_name),
        subscriptions=DigestMarkStore(dynamodb, settings.table_name),
        networks=networks,
        always_connected=always_connected,
        quiet_hours=QuietHours.parse(settings.quiet_hours),
        max_posts_per_day=settings.max_posts_per_day,
        length_rules=ServerLengthRules(
            ConnectionStore(dynamodb, settings.table_name),
            lambda instance_url: fetch_instance_limits(instance_url, session),
        ),
    )


@cache
def admin_app() -> APIGatewayHttpResolver:
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.store.alerts import AlertStore
    from chorus.store.catalog import CatalogStore
    from chorus.web.admin import AdminDependencies, build_admin_app

    settings = AdminApiSettings.from_env()
    dynamodb = _dynamodb()
    s3 = _s3()
    return build_admin_app(
        AdminDependencies(
            settings=settings,
            catalog=CatalogStore(dynamodb, settings.table_name),
            objects=ObjectStore(s3, settings.uploads_bucket),
            ingest=build_ingest_service(settings, dynamodb_client=dynamodb, s3_client=s3),
            retraction=build_retraction_service(settings, dynamodb_client=dynamodb),
            lifecycle=build_lifecycle_service(settings, dynamodb_client=dynamodb),
            planner=build_digest_planner(settings, dynamodb_client=dynamodb),
            scoring=build_scoring_service(settings, dynamodb_client=dynamodb),
            rewards=build_reward_service(settings, dynamodb_client=dynamodb),
            alerts=AlertStore(dynamodb, settings.table_name),
        )
    )


def build_retraction_service(
    settings: AdminApiSettings, *, dynamodb_client: DynamoDBClient | None = None, scheduler: Any = None
) -> RetractionService:
    from chorus.services.retraction import RetractionService
    from chorus.store.approvals import ApprovalStore
    from chorus.store.catalog import CatalogStore

    dynamodb = dynamodb_client or _dynamodb()
    return RetractionService(
        CatalogStore(dynamodb, settings.table_name),
        ApprovalStore(dynamodb, settings.table_name),
        scheduler or _scheduler(settings),
    )


@cache
def web_app() -> APIGatewayHttpResolver:
    from chorus.web.employee import EmployeePagesConfig, build_employee_app

    settings = WebSettings.from_env()
    dynamodb = _dynamodb()
    return build_employee_app(
        build_consent_service(settings, dynamodb_client=dynamodb),
        build_connections_service(settings, dynamodb_client=dynamodb),
        EmployeePagesConfig(
            sharing_policy=settings.sharing_policy, public_base_url=settings.public_base_url, region=settings.region
        ),
        clicks=build_click_service(settings, dynamodb_client=dynamodb),
        rewards=build_reward_service(settings, dynamodb_client=dynamodb),
        scoring=build_scoring_service(settings, dynamodb_client=dynamodb),
    )


def build_click_service(
    settings: WebSettings, *, dynamodb_client: DynamoDBClient | None = None, secrets_client: Any = None
) -> ClickService:
    import boto3

    from chorus.adapters.secrets_keys import read_secret
    from chorus.services.clicks import ClickService
    from chorus.store.links import LinkStore

    client = secrets_client or boto3.client("secretsmanager", config=_client_config())
    secret = read_secret(client, settings.click_secret_id).encode()  # once per cold start, never per click
    return ClickService(LinkStore(dynamodb_client or _dynamodb(), settings.table_name), secret)


def build_reward_service(settings: TableSettings, *, dynamodb_client: DynamoDBClient | None = None) -> RewardService:
    from chorus.services.rewards import RewardService
    from chorus.store.rewards import RewardStore

    return RewardService(RewardStore(dynamodb_client or _dynamodb(), settings.table_name))


def build_digest_planner(
    settings: DigestPlannerSettings | AdminApiSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    sqs_client: Any = None,
) -> DigestPlanner:
    import boto3

    from chorus.adapters.sqs_queue import MessageQueue
    from chorus.services.digest import DigestPlanner
    from chorus.store.catalog import CatalogStore
    from chorus.store.digest_runs import DigestRunStore

    dynamodb = dynamodb_client or _dynamodb()
    return DigestPlanner(
        CatalogStore(dynamodb, settings.table_name),
        MessageQueue(sqs_client or boto3.client("sqs", config=_client_config()), settings.digest_queue_url),
        runs=DigestRunStore(dynamodb, settings.table_name),
        timezone=settings.digest_timezone,
    )


@cache
def digest_planner() -> DigestPlanner:
    return build_digest_planner(DigestPlannerSettings.from_env())


def _email_channel(settings: NoticeSettings | DigestSenderSettings, sesv2_client: Any = None) -> EmailChannel:
    import boto3

    from chorus.adapters.ses_email import SesEmailSender
    from chorus.messages.email import EmailChannel

    mailer = SesEmailSender(
        sesv2_client or boto3.client("sesv2", config=_client_config()),
        configuration_set=settings.ses_configuration_set,
    )
    return EmailChannel(mailer, sender=settings.sender_email, sender_name=settings.sender_name)


def build_digest_sender(
    settings: DigestSenderSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    sesv2_client: Any = None,
    key_ring: Any = None,
    pacer: Any = None,
) -> DigestSender:

    from chorus.services.digest import DigestSender, Links, Pacer
    from chorus.store.digest_marks import DigestMarkStore
    from chorus.store.digest_runs import DigestRunStore

    dynamodb = dynamodb_client or _dynamodb()
    return DigestSender(
        DigestMarkStore(dynamodb, settings.table_name),
        _email_channel(settings, sesv2_client),
        key_ring or _key_ring(settings.magic_link_secret_id),
        pacer or Pacer(settings.per_sender_rate),
        runs=DigestRunStore(dynamodb, settings.table_name),
        links=Links(settings.public_base_url),
    )


@dataclass
class DigestSenderRuntime:
    """SQS batch -> DigestSender, reporting failed messages only (partial batch response)."""

    sender: DigestSender

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
        from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

        from chorus.domain.digest import DigestBatch

        def send(record: SQSRecord) -> int:
            return self.sender.send_batch(DigestBatch.model_validate_json(record.body))

        processor = BatchProcessor(event_type=EventType.SQS)
        return dict(process_partial_response(event=event, record_handler=send, processor=processor, context=context))


@cache
def digest_sender_runtime() -> DigestSenderRuntime:
    return DigestSenderRuntime(build_digest_sender(DigestSenderSettings.from_env()))


def build_connections_service(
    settings: WebSettings | PublisherSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    kms_client: Any = None,
    secrets_client: Any = None,
    oauth_client: Any = None,
) -> ConnectionsService:
    import boto3

    from chorus.adapters.kms_tokens import TokenVault
    from chorus.adapters.oauth import RequestsOAuthClient
    from chorus.adapters.oauth_clients import SecretsOAuthClients
    from chorus.services.connections import ConnectionsService
    from chorus.store.connections import ConnectionStore

    return ConnectionsService(
        ConnectionStore(dynamodb_client or _dynamodb(), settings.table_name),
        TokenVault(kms_client or boto3.client("kms", config=_client_config()), settings.token_key_id),
        oauth_client or RequestsOAuthClient(),
        SecretsOAuthClients(
            secrets_client or boto3.client("secretsmanager", config=_client_config()),
            settings.oauth_clients_secret_id,
        ),
    )


def build_notifier(
    settings: PublisherSettings, *, dynamodb_client: DynamoDBClient | None = None, sesv2_client: Any = None
) -> Notifier:
    from chorus.services.notices import Notifier
    from chorus.store.catalog import CatalogStore

    return Notifier(
        CatalogStore(dynamodb_client or _dynamodb(), settings.table_name),
        _email_channel(settings, sesv2_client),
        _key_ring(settings.magic_link_secret_id),
        base_url=settings.public_base_url,
    )


def build_publish_service(
    settings: PublisherSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    connections: Any = None,
    notifier: Any = None,
    scheduler: Any = None,
    http_session: Any = None,
) -> PublishService:
    from chorus.adapters.networks.linkedin import LinkedInPublisher
    from chorus.adapters.networks.mastodon import MastodonPublisher
    from chorus.adapters.networks.sandbox import SandboxNetwork
    from chorus.adapters.networks.x import XPublisher
    from chorus.domain.content import Network
    from chorus.services.publish import NetworkPublisher, PublishService
    from chorus.store.alerts import AlertStore
    from chorus.store.approvals import ApprovalStore
    from chorus.store.sandbox_feed import SandboxFeedStore

    dynamodb = dynamodb_client or _dynamodb()
    enabled = {Network(name.strip()) for name in settings.networks.split(",") if name.strip()}
    available: dict[Network, NetworkPublisher] = {
        Network.LINKEDIN: LinkedInPublisher(http_session, version=settings.linkedin_version),
        Network.X: XPublisher(http_session),
        Network.MASTODON: MastodonPublisher(http_session),
    }
    networks = {network: publisher for network, publisher in available.items() if network in enabled}
    if settings.sandbox_enabled:
        networks[Network.SANDBOX] = SandboxNetwork(SandboxFeedStore(dynamodb, settings.table_name))
    return PublishService(
        ApprovalStore(dynamodb, settings.table_name),
        networks,
        connections or build_connections_service(settings, dynamodb_client=dynamodb),
        scheduler or _scheduler(settings),
        notifier or build_notifier(settings, dynamodb_client=dynamodb),
        alerts=AlertStore(dynamodb, settings.table_name),
        link_base_url=settings.public_base_url,
    )


@cache
def publish_service() -> PublishService:
    return build_publish_service(PublisherSettings.from_env())


@dataclass
class PublisherRuntime:
    """The Scheduler's input ({"approval": {...}}) -> one publication attempt."""

    service: PublishService

    def handle(self, event: dict[str, Any]) -> dict[str, str]:
        from chorus.services.publish import PublishTarget

        return {"outcome": self.service.publish(PublishTarget.model_validate(event["approval"])).value}


def publisher_runtime() -> PublisherRuntime:
    return PublisherRuntime(publish_service())


@cache
def sweeper() -> Sweeper:
    from chorus.services.sweeper import Sweeper
    from chorus.store.approvals import ApprovalStore
    from chorus.store.connections import ConnectionStore

    settings = PublisherSettings.from_env()
    dynamodb = _dynamodb()
    notifier = build_notifier(settings, dynamodb_client=dynamodb)
    return Sweeper(
        ApprovalStore(dynamodb, settings.table_name),
        build_publish_service(settings, dynamodb_client=dynamodb, notifier=notifier),
        ConnectionStore(dynamodb, settings.table_name),
        notifier,
    )


@dataclass
class ScoringRuntime:
    """A stream batch -> awards. Profiles and content are read once per batch; failed records
    are reported alone (partial batch response) and retried by the event source mapping."""

    service: ScoringService

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        from datetime import UTC, datetime

        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
        from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

        from chorus.services.scoring import Change
        from chorus.store.codec import from_dynamo

        def change_of(raw: dict[str, Any]) -> Change:
            stream = raw.get("dynamodb", {})
            old, new = stream.get("OldImage"), stream.get("NewImage")
            when = stream.get("ApproximateCreationDateTime")
            return Change(
                old=from_dynamo(old) if old else None,
                new=from_dynamo(new) if new else None,
                occurred_at=datetime.fromtimestamp(float(when), UTC) if when else clock.now(),
            )

        changes = {record["eventID"]: change_of(record) for record in event.get("Records", [])}
        batch_context = self.service.context_for(list(changes.values()))

        def apply(record: DynamoDBRecord) -> int:
            return self.service.apply(changes[record.event_id or ""], batch_context)

        processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
        return dict(process_partial_response(event=event, record_handler=apply, processor=processor, context=context))


def build_scoring_service(settings: TableSettings, *, dynamodb_client: DynamoDBClient | None = None) -> ScoringService:
    from chorus.services.scoring import ScoringService
    from chorus.store.catalog import CatalogStore
    from chorus.store.scores import ScoreStore, ScoringLookups

    dynamodb = dynamodb_client or _dynamodb()
    return ScoringService(
        ScoreStore(dynamodb, settings.table_name),
        ScoringLookups(dynamodb, settings.table_name),
        CatalogStore(dynamodb, settings.table_name),
    )


@cache
def scoring_runtime() -> ScoringRuntime:
    return ScoringRuntime(build_scoring_service(TableSettings.from_env()))


def build_email_feedback_service(
    settings: TableSettings, *, dynamodb_client: DynamoDBClient | None = None
) -> EmailFeedbackService:
    from chorus.services.email_feedback import EmailFeedbackService
    from chorus.store.suppression import SuppressionStore

    return EmailFeedbackService(SuppressionStore(dynamodb_client or _dynamodb(), settings.table_name))


@dataclass
class EmailFeedbackRuntime:
    """An SES event (EventBridge, the configuration set's destination) -> suppressions."""

    service: EmailFeedbackService

    def handle(self, event: dict[str, Any]) -> dict[str, int]:
        from chorus.events import email_feedback
        from chorus.observability import logger

        feedback = email_feedback(event)
        if feedback is None:
            logger.info("SES event without feedback to act on", detail_type=event.get("detail-type"))
            return {}
        return self.service.record(feedback)


@cache
def email_feedback_runtime() -> EmailFeedbackRuntime:
    return EmailFeedbackRuntime(build_email_feedback_service(TableSettings.from_env()))


def build_lifecycle_service(
    settings: LifecycleSettings | AdminApiSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    scheduler: Any = None,
) -> LifecycleService:
    from chorus.services.lifecycle import LifecycleService
    from chorus.store.approvals import ApprovalStore
    from chorus.store.catalog import CatalogStore
    from chorus.store.connections import ConnectionStore
    from chorus.store.decisions import DecisionStore

    dynamodb = dynamodb_client or _dynamodb()
    return LifecycleService(
        DecisionStore(dynamodb, settings.table_name),
        ApprovalStore(dynamodb, settings.table_name),
        CatalogStore(dynamodb, settings.table_name),
        ConnectionStore(dynamodb, settings.table_name),
        scheduler or _scheduler(settings),
    )


@dataclass
class LifecycleRuntime:
    """Stream records of deactivated employees -> withdraw each; a failed record is reported alone
    (partial batch response) and retried by the event source mapping."""

    service: LifecycleService

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
        from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

        from chorus.events import deactivation_of

        deactivations = {record.get("eventID"): deactivation_of(record) for record in event.get("Records", [])}

        def withdraw(record: DynamoDBRecord) -> int:
            deactivation = deactivations.get(record.event_id)
            if deactivation is None:
                return 0
            return self.service.withdraw(deactivation.employee_id).posts_cancelled

        processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
        return dict(
            process_partial_response(event=event, record_handler=withdraw, processor=processor, context=context)
        )


@cache
def lifecycle_runtime() -> LifecycleRuntime:
    return LifecycleRuntime(build_lifecycle_service(LifecycleSettings.from_env()))
