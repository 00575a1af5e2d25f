"""The composition root: the one place where settings are read and AWS clients, adapters, stores,
services and edges are wired. Nothing here parses an event or decides anything: each trigger's
event handling is in ``chorus.edge``, the HTTP routes in ``chorus.web``.

Each function's entry point (``ingest_events()``, ``web_app()``...) is built on the first
invocation of a warm container and reused; heavy imports (boto3 clients, Powertools utilities)
happen then rather than at module import, which keeps handler import time close to that of
boto3 alone. The ``build_*`` functions take clients so tests and benchmarks can pass their own.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from chorus.config import (
    AdminApiSettings,
    ConsoleSettings,
    ConsoleUploadSettings,
    DigestPlannerSettings,
    DigestSenderSettings,
    EmailFeedbackSettings,
    IngestSettings,
    LifecycleSettings,
    NoticeSettings,
    PostScheduleSettings,
    PublisherSettings,
    ReportSettings,
    RetentionSettings,
    ScheduleSettings,
    ScoringSettings,
    SlackActionsSettings,
    SlackSettings,
    SweeperSettings,
    TableSettings,
    WebSettings,
)
from chorus.domain.networks import Network, atproto_client_metadata

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

    from chorus.adapters.scheduler import PostScheduler
    from chorus.adapters.secrets_keys import SecretsKeyRing
    from chorus.adapters.slack_api import SlackSecrets, SlackWebApi
    from chorus.domain.lengths import InstanceLimits
    from chorus.edge.deactivations import Deactivations
    from chorus.edge.digest_batches import DigestBatches
    from chorus.edge.digest_pages import DigestPages
    from chorus.edge.email_feedback import FeedbackEvents
    from chorus.edge.reports import ReportRequests
    from chorus.edge.schedules import ScheduledPosts
    from chorus.edge.score_stream import ScoreStream
    from chorus.edge.slack_clicks import SlackClicks
    from chorus.edge.uploads import UploadEvents
    from chorus.messages.channel import Channel
    from chorus.messages.email import EmailChannel
    from chorus.services.clicks import ClickService
    from chorus.services.connections import ConnectionsService
    from chorus.services.consent import ConsentService
    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.data_export import DataExport
    from chorus.services.digest import DigestPlanner, DigestPreviews, DigestSender, DigestTimes
    from chorus.services.email_feedback import EmailFeedbackService
    from chorus.services.erasure import ErasureService
    from chorus.services.exports import ExportDesk
    from chorus.services.ingest import IngestService
    from chorus.services.lifecycle import LifecycleService
    from chorus.services.notices import Notifier
    from chorus.services.people import PeopleService
    from chorus.services.points_reports import PointsReportService
    from chorus.services.publish import PublishService
    from chorus.services.retention import LedgerRetention
    from chorus.services.retraction import RetractionService
    from chorus.services.review import ReviewService
    from chorus.services.rewards import RewardService
    from chorus.services.rollups import RollupJob
    from chorus.services.scoring import ScoringService
    from chorus.services.slack import ChannelChoice, SlackOneClick, SlackRequests
    from chorus.services.sweeper import Sweeper
    from chorus.services.uploads import UploadDesk


# ---------------------------------------------------------------- clients


class _OnFirstUse:
    """Stands for an object that is made when it is first used, once (thread-safe: the publisher
    uses its clients from several threads).

    A function wires every client and session its routes or records may need, but its first
    event uses only some: each client costs its service model's load (5-20 ms, the first one
    about 50 ms), ``requests`` and OAuthlib about 50 ms. Those are paid when used, not at init
    (bench/cold_start.py). With SnapStart, the priming makes them before the snapshot instead
    (``before_snapshot``: making it calls nothing over the network).
    """

    def __init__(self, make: Callable[[], object], *, before_snapshot: bool = True) -> None:
        self._make: Callable[[], object] | None = make
        self._made: object = None
        self._lock = threading.Lock()
        if before_snapshot:
            _not_yet_made.add(self)

    def _target(self) -> object:
        if self._make is not None:
            with self._lock:
                if self._make is not None:
                    self._made = self._make()
                    self._make = None
        return self._made

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


# What a SnapStart priming makes before the snapshot (weak: tests build thousands and drop them).
_not_yet_made: weakref.WeakSet[_OnFirstUse] = weakref.WeakSet()


def _client_config() -> Config:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 5})


def _client(service: str) -> Any:
    def make() -> object:
        import boto3

        return boto3.client(service, config=_client_config())  # type: ignore[call-overload]

    return _OnFirstUse(make)


def _dynamodb() -> DynamoDBClient:
    return cast("DynamoDBClient", _client("dynamodb"))


def _s3() -> S3Client:
    def make() -> object:
        import boto3
        from botocore.config import Config

        # SigV4 is the only signature presigned URLs may use in newer regions and with SSE-KMS.
        return boto3.client("s3", config=_client_config().merge(Config(signature_version="s3v4")))

    return cast("S3Client", _OnFirstUse(make))


def _scheduler(settings: ScheduleSettings) -> PostScheduler:
    """Functions that only delete schedules have no publish queues to deliver to."""
    from chorus.adapters.scheduler import PostScheduler

    return PostScheduler(
        _client("scheduler"),
        group_name=settings.schedule_group,
        targets=settings.publish_queue_arns if isinstance(settings, PostScheduleSettings) else {},
        shared_target=settings.shared_publish_queue_arn if isinstance(settings, PostScheduleSettings) else None,
        role_arn=settings.scheduler_role_arn,
        dead_letter_arn=settings.schedule_dlq_arn,
    )


def _secrets() -> SecretsProvider:
    """One per function: the secrets it reads share one cache."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=_client("secretsmanager"))


def _key_ring(secret_id: str, secrets: SecretsProvider | None) -> SecretsKeyRing:
    from chorus.adapters.secrets_keys import SecretsKeyRing

    return SecretsKeyRing(secrets or _secrets(), secret_id)


def _email_channel(
    settings: NoticeSettings | DigestSenderSettings | ConsoleSettings, sesv2_client: Any = None
) -> EmailChannel:
    from chorus.adapters.ses_email import SesEmailSender
    from chorus.messages.email import EmailChannel

    mailer = SesEmailSender(sesv2_client or _client("sesv2"), configuration_set=settings.ses_configuration_set)
    return EmailChannel(mailer, sender=settings.sender_email, sender_name=settings.sender_name, brand=settings.brand)


def _slack_secrets(settings: SlackSettings, secrets: SecretsProvider | None) -> SlackSecrets:
    from chorus.adapters.slack_api import SlackSecrets

    return SlackSecrets(
        secrets or _secrets(),
        bot_token_secret_id=settings.slack_bot_token_secret_id,
        signing_secret_id=settings.slack_signing_secret_id,
    )


def build_slack_api(settings: SlackSettings, *, secrets: SecretsProvider | None = None) -> SlackWebApi:
    from slack_sdk import WebClient

    from chorus.adapters.slack_api import RetryAfter, SlackWebApi

    client = WebClient(base_url=settings.slack_api_url, timeout=10, retry_handlers=[RetryAfter()])
    return SlackWebApi(client, _slack_secrets(settings, secrets).bot_token)


# ---------------------------------------------------------------- ingest


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


@cache
def ingest_events() -> UploadEvents:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from chorus.edge.uploads import UploadEvents

    settings = IngestSettings.from_env()
    dynamodb = _dynamodb()
    return UploadEvents(
        build_ingest_service(settings, dynamodb_client=dynamodb),
        uploads_bucket=settings.uploads_bucket,
        persistence=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
    )


# ---------------------------------------------------------------- employee pages


def build_consent_service(
    settings: WebSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    scheduler: Any = None,
    key_ring: Any = None,
    secrets: SecretsProvider | None = None,
    http_session: Any = None,
) -> ConsentService:
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
    session = http_session or _OnFirstUse(_public_session)
    return ConsentService(
        DecisionStore(dynamodb, settings.table_name),
        key_ring or _key_ring(settings.magic_link_secret_id, secrets),
        scheduler or _scheduler(settings),
        CatalogStore(dynamodb, settings.table_name),
        approvals=ApprovalStore(dynamodb, settings.table_name),
        subscriptions=DigestMarkStore(dynamodb, settings.table_name),
        networks=settings.offered_networks,
        always_connected=settings.always_connected,
        quiet_hours=QuietHours.parse(settings.quiet_hours),
        max_posts_per_day=settings.max_posts_per_day,
        disclosure=settings.disclosure_rule,
        digest_timezone=settings.digest_timezone,
        review_edited=settings.review_edited_posts,
        length_rules=ServerLengthRules(
            ConnectionStore(dynamodb, settings.table_name),
            lambda instance_url: _instance_limits(instance_url, session),
        ),
    )


def build_click_service(
    settings: WebSettings, *, dynamodb_client: DynamoDBClient | None = None, secrets: SecretsProvider | None = None
) -> ClickService:
    from datetime import timedelta

    from chorus.adapters.secrets_keys import read_secret
    from chorus.services.clicks import ClickService
    from chorus.store.links import LinkStore

    window = timedelta(hours=settings.visitor_hash_hours)
    links = LinkStore(dynamodb_client or _dynamodb(), settings.table_name, window=window)
    provider = secrets or _secrets()

    def make() -> object:
        # Read once per container, on its first click, never per click; and never before a
        # SnapStart snapshot, which would share one read (and its dead connection) with every restore.
        return ClickService(links, read_secret(provider, settings.click_secret_id).encode())

    return cast("ClickService", _OnFirstUse(make, before_snapshot=False))


def build_connections_service(
    settings: WebSettings | PublisherSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    kms_client: Any = None,
    secrets: SecretsProvider | None = None,
    oauth_client: Any = None,
) -> ConnectionsService:
    from chorus.adapters.kms_tokens import TokenVault
    from chorus.adapters.networks.registry import app_password_sessions
    from chorus.adapters.oauth_clients import SecretsOAuthClients
    from chorus.services.connections import ConnectionsService
    from chorus.store.connections import ConnectionStore

    return ConnectionsService(
        ConnectionStore(dynamodb_client or _dynamodb(), settings.table_name),
        TokenVault(kms_client or _client("kms"), settings.token_key_id),
        oauth_client or _OnFirstUse(_requests_oauth_client),
        SecretsOAuthClients(secrets or _secrets(), settings.oauth_clients_secret_id),
        app_passwords=app_password_sessions(settings.offered_networks),
        atproto=_OnFirstUse(_bluesky_oauth) if Network.BLUESKY in settings.offered_networks else None,
        atproto_client=_atproto_client(settings.public_base_url, settings.offered_networks),
    )


def _bluesky_oauth() -> object:
    from chorus.adapters.networks.bluesky_oauth import BlueskyOAuth

    return BlueskyOAuth()


def _atproto_client(public_base_url: str, offered: tuple[Network, ...]) -> dict[str, Any] | None:
    """Bluesky's OAuth client metadata: its client_id must be an https URL the authorization
    servers can fetch, so OAuth is offered only with an https PublicBaseUrl (app passwords else)."""
    if Network.BLUESKY not in offered or not public_base_url.startswith("https://"):
        return None
    return atproto_client_metadata(public_base_url)


def _public_session() -> object:
    from chorus.adapters.networks.egress import PublicSession

    return PublicSession()


def _instance_limits(instance_url: str, session: Any) -> InstanceLimits:
    from chorus.adapters.networks.mastodon import fetch_instance_limits

    return fetch_instance_limits(instance_url, session)


def _requests_oauth_client() -> object:
    from chorus.adapters.oauth import RequestsOAuthClient

    return RequestsOAuthClient()


@cache
def web_app() -> APIGatewayHttpResolver:
    from chorus.services.funnel import PageOpenings
    from chorus.store.funnel import FunnelStore
    from chorus.web.employee import EmployeePagesConfig, build_employee_app

    settings = WebSettings.from_env()
    dynamodb = _dynamodb()
    secrets = _secrets()
    return build_employee_app(
        build_consent_service(settings, dynamodb_client=dynamodb, secrets=secrets),
        build_connections_service(settings, dynamodb_client=dynamodb, secrets=secrets),
        EmployeePagesConfig(
            sharing_policy=settings.sharing_policy,
            public_base_url=settings.public_base_url,
            region=settings.region,
            brand=settings.brand,
        ),
        clicks=build_click_service(settings, dynamodb_client=dynamodb, secrets=secrets),
        rewards=build_reward_service(settings, dynamodb_client=dynamodb),
        scoring=build_scoring_service(settings, dynamodb_client=dynamodb),
        exports=build_data_export(settings, dynamodb_client=dynamodb),
        digest_times=build_digest_times(settings, dynamodb_client=dynamodb),
        openings=PageOpenings(FunnelStore(dynamodb, settings.table_name)),
        slack=build_slack_requests(settings, dynamodb_client=dynamodb, secrets=secrets),
        channels=build_channel_choice(settings, dynamodb_client=dynamodb),
    )


def build_channel_choice(
    settings: WebSettings, *, dynamodb_client: DynamoDBClient | None = None
) -> ChannelChoice | None:
    """The digest channel choice on /me; None (email only, no choice shown) without Slack."""
    if not settings.slack_enabled:
        return None
    from chorus.services.slack import ChannelChoice
    from chorus.store.slack import SlackStore

    return ChannelChoice(SlackStore(dynamodb_client or _dynamodb(), settings.table_name))


def build_slack_requests(
    settings: WebSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    sqs_client: Any = None,
    secrets: SecretsProvider | None = None,
) -> SlackRequests | None:
    """The interactivity endpoint's service; None (no route) when Slack is not configured."""
    if not settings.slack_enabled:
        return None
    from chorus.adapters.sqs_queue import MessageQueue
    from chorus.services.slack import SlackRequests
    from chorus.store.slack import SlackStore

    return SlackRequests(
        _slack_secrets(settings, secrets),
        SlackStore(dynamodb_client or _dynamodb(), settings.table_name),
        MessageQueue(sqs_client or _client("sqs"), settings.slack_click_queue_url, "Slack clicks"),
    )


def build_slack_one_click(
    settings: SlackActionsSettings,
    *,
    consent: ConsentService | None = None,
    dynamodb_client: DynamoDBClient | None = None,
    slack_api: Any = None,
    secrets: SecretsProvider | None = None,
) -> SlackOneClick:
    from chorus.services.digest import Links
    from chorus.services.slack import SlackOneClick
    from chorus.store.decisions import DecisionStore
    from chorus.store.slack import SlackStore

    dynamodb = dynamodb_client or _dynamodb()
    secrets = secrets or _secrets()
    return SlackOneClick(
        consent or build_consent_service(settings, dynamodb_client=dynamodb, secrets=secrets),
        SlackStore(dynamodb, settings.table_name),
        DecisionStore(dynamodb, settings.table_name),
        slack_api or build_slack_api(settings, secrets=secrets),
        activity_link=Links(settings.public_base_url).activity,
    )


@cache
def slack_clicks() -> SlackClicks:
    from chorus.edge.slack_clicks import SlackClicks

    return SlackClicks(build_slack_one_click(SlackActionsSettings.from_env()))


def build_data_export(settings: TableSettings, *, dynamodb_client: DynamoDBClient | None = None) -> DataExport:
    from chorus.services.data_export import DataExport
    from chorus.store.privacy import PersonalDataStore

    return DataExport(PersonalDataStore(dynamodb_client or _dynamodb(), settings.table_name))


# ---------------------------------------------------------------- admin API


def build_retraction_service(
    settings: AdminApiSettings | ConsoleSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    scheduler: Any = None,
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


def build_reward_service(settings: TableSettings, *, dynamodb_client: DynamoDBClient | None = None) -> RewardService:
    from chorus.services.rewards import RewardService
    from chorus.store.rewards import RewardStore

    return RewardService(RewardStore(dynamodb_client or _dynamodb(), settings.table_name))


@cache
def admin_app() -> APIGatewayHttpResolver:
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.services.ledger import ConsentLedger
    from chorus.store.alerts import AlertStore
    from chorus.store.catalog import CatalogStore
    from chorus.store.ledger import LedgerStore
    from chorus.web.admin import AdminAccess, AdminDependencies, build_admin_app

    settings = AdminApiSettings.from_env()
    dynamodb = _dynamodb()
    s3 = _s3()
    catalog = CatalogStore(dynamodb, settings.table_name)
    return build_admin_app(
        AdminDependencies(
            access=AdminAccess(settings.admin_group, settings.groups_claim, settings.groups_delimiter),
            upload_url_ttl_seconds=settings.upload_url_ttl_seconds,
            catalog=catalog,
            objects=ObjectStore(s3, settings.uploads_bucket),
            ingest=build_ingest_service(settings, dynamodb_client=dynamodb, s3_client=s3),
            retraction=build_retraction_service(settings, dynamodb_client=dynamodb),
            lifecycle=build_lifecycle_service(settings, dynamodb_client=dynamodb),
            erasure=build_erasure_service(settings, dynamodb_client=dynamodb, s3_client=s3),
            exports=build_data_export(settings, dynamodb_client=dynamodb),
            planner=build_digest_planner(settings, dynamodb_client=dynamodb),
            scoring=build_scoring_service(settings, dynamodb_client=dynamodb, company_zone=settings.digest_timezone),
            reports=build_points_report_service(settings, dynamodb_client=dynamodb, s3_client=s3),
            rewards=build_reward_service(settings, dynamodb_client=dynamodb),
            alerts=AlertStore(dynamodb, settings.table_name),
            export_desk=build_export_desk(settings, dynamodb_client=dynamodb, s3_client=s3),
            ledger=ConsentLedger(LedgerStore(dynamodb, settings.table_name), catalog),
        )
    )


# ---------------------------------------------------------------- admin console


def build_console_auth(
    settings: ConsoleSettings, *, dynamodb_client: DynamoDBClient | None = None, issuer: Any = None
) -> ConsoleAuth:
    from chorus.adapters.oidc import OidcIssuer
    from chorus.services.console_auth import ConsoleAuth
    from chorus.store.console_sessions import ConsoleSessionStore
    from chorus.web.admin.auth import is_admin

    def admin(claims: Any) -> bool:
        return is_admin(claims, settings.admin_group, settings.groups_claim, settings.groups_delimiter)

    if issuer is None and settings.oidc_client_id:
        issuer = OidcIssuer(settings.oidc_issuer, settings.oidc_client_id)
    elif issuer is None:
        from chorus.adapters.cognito_clients import client_id_by_name

        def cognito_issuer() -> object:
            client_id = client_id_by_name(
                _client("cognito-idp"), settings.cognito_user_pool_id, settings.console_client_name
            )
            return OidcIssuer(settings.oidc_issuer, client_id)

        # Found on the first request (once per container), not before a SnapStart snapshot: a
        # lookup there would be one AWS call, and its answer kept in every restored environment.
        issuer = _OnFirstUse(cognito_issuer, before_snapshot=False)
    return ConsoleAuth(ConsoleSessionStore(dynamodb_client or _dynamodb(), settings.table_name), issuer, admin)


def build_review_service(
    settings: ConsoleSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    scheduler: Any = None,
    sesv2_client: Any = None,
    secrets: SecretsProvider | None = None,
) -> ReviewService:
    from chorus.domain.timing import QuietHours
    from chorus.services.notices import Notifier
    from chorus.services.review import ReviewService
    from chorus.store.catalog import CatalogStore
    from chorus.store.decisions import DecisionStore
    from chorus.store.reviews import ReviewStore

    dynamodb = dynamodb_client or _dynamodb()
    decisions = DecisionStore(dynamodb, settings.table_name)
    return ReviewService(
        ReviewStore(dynamodb, settings.table_name),
        decisions,
        scheduler or _scheduler(settings),
        Notifier(
            CatalogStore(dynamodb, settings.table_name),
            _email_channel(settings, sesv2_client),
            _key_ring(settings.magic_link_secret_id, secrets),
            base_url=settings.public_base_url,
        ),
        quiet_hours=QuietHours.parse(settings.quiet_hours),
    )


def build_console_app(
    settings: ConsoleSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    issuer: Any = None,
    s3_client: S3Client | None = None,
    scheduler: Any = None,
    sqs_client: Any = None,
    sesv2_client: Any = None,
) -> APIGatewayHttpResolver:
    from chorus.services.console_reports import ConsoleReports
    from chorus.services.content_library import ContentLibrary
    from chorus.services.ledger import ConsentLedger
    from chorus.services.overview import OverviewService
    from chorus.store.catalog import CatalogStore
    from chorus.store.console_figures import ConsoleFigures
    from chorus.store.funnel import FunnelStore
    from chorus.store.ledger import LedgerStore
    from chorus.store.participation import ParticipationStore
    from chorus.store.rollups import RollupStore
    from chorus.web.console import ConsoleDependencies
    from chorus.web.console import build_console_app as build_app
    from chorus.web.employee.connect import CallbackBase

    dynamodb = dynamodb_client or _dynamodb()
    catalog = CatalogStore(dynamodb, settings.table_name)
    return build_app(
        ConsoleDependencies(
            auth=build_console_auth(settings, dynamodb_client=dynamodb, issuer=issuer),
            overview=OverviewService(
                ConsoleFigures(dynamodb, settings.table_name), company_zone=settings.digest_timezone
            ),
            rewards=build_reward_service(settings, dynamodb_client=dynamodb),
            ledger=ConsentLedger(
                LedgerStore(dynamodb, settings.table_name), CatalogStore(dynamodb, settings.table_name)
            ),
            reports=ConsoleReports(
                ParticipationStore(dynamodb, settings.table_name),
                build_scoring_service(settings, dynamodb_client=dynamodb),
                RollupStore(dynamodb, settings.table_name),
            ),
            callback_base=CallbackBase(settings.public_base_url, settings.region),
            uploads=build_upload_desk(settings, s3_client=s3_client),
            people=build_people_service(settings, dynamodb_client=dynamodb),
            lifecycle=build_lifecycle_service(settings, dynamodb_client=dynamodb, scheduler=scheduler),
            content=ContentLibrary(catalog, FunnelStore(dynamodb, settings.table_name), catalog),
            retraction=build_retraction_service(settings, dynamodb_client=dynamodb, scheduler=scheduler),
            digest_previews=build_digest_previews(settings, dynamodb_client=dynamodb, sesv2_client=sesv2_client),
            digest_planner=build_digest_planner(settings, dynamodb_client=dynamodb, sqs_client=sqs_client),
            scoring=build_scoring_service(settings, dynamodb_client=dynamodb),
            points_reports=_console_points_reports(settings, dynamodb),
            review=build_review_service(settings, dynamodb_client=dynamodb),
            exports=build_export_desk(settings, dynamodb_client=dynamodb, s3_client=s3_client, sqs_client=sqs_client),
            review_on=settings.review_edited_posts,
        )
    )


def build_upload_desk(settings: ConsoleUploadSettings, *, s3_client: S3Client | None = None) -> UploadDesk:
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.services.uploads import UploadDesk

    return UploadDesk(
        ObjectStore(s3_client or _s3(), settings.uploads_bucket),
        max_bytes=settings.max_upload_bytes,
        url_ttl_seconds=settings.upload_url_ttl_seconds,
        download_ttl_seconds=settings.download_url_ttl_seconds,
    )


def build_people_service(settings: TableSettings, *, dynamodb_client: DynamoDBClient | None = None) -> PeopleService:
    from chorus.services.people import PeopleService
    from chorus.store.catalog import CatalogStore
    from chorus.store.privacy import PersonalDataStore

    dynamodb = dynamodb_client or _dynamodb()
    return PeopleService(CatalogStore(dynamodb, settings.table_name), PersonalDataStore(dynamodb, settings.table_name))


def build_digest_previews(
    settings: ConsoleSettings, *, dynamodb_client: DynamoDBClient | None = None, sesv2_client: Any = None
) -> DigestPreviews:
    from chorus.services.digest import DigestPreviews
    from chorus.store.catalog import CatalogStore
    from chorus.store.digest_marks import DigestMarkStore

    dynamodb = dynamodb_client or _dynamodb()
    catalog = CatalogStore(dynamodb, settings.table_name)
    return DigestPreviews(
        catalog,
        catalog,
        DigestMarkStore(dynamodb, settings.table_name),
        _email_channel(settings, sesv2_client),
        timezone=settings.digest_timezone,
        disclosure=settings.disclosure_rule,
    )


def _console_points_reports(settings: ConsoleSettings, dynamodb: DynamoDBClient) -> PointsReportService:
    """The report service's read side (team board, census): no exports from the console yet."""
    from chorus.services.points_reports import PointsReportService
    from chorus.store.points_reports import CensusStore, ExportStore
    from chorus.store.rollups import RollupStore
    from chorus.store.scores import ScoreStore

    return PointsReportService(
        ScoreStore(dynamodb, settings.table_name),
        CensusStore(dynamodb, settings.table_name),
        ExportStore(dynamodb, settings.table_name),
        rollups=RollupStore(dynamodb, settings.table_name),
    )


@cache
def console_app() -> APIGatewayHttpResolver:
    return build_console_app(ConsoleSettings.from_env())


def build_erasure_service(
    settings: AdminApiSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    s3_client: S3Client | None = None,
    scheduler: Any = None,
) -> ErasureService:
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.services.erasure import ErasureService
    from chorus.store.catalog import CatalogStore
    from chorus.store.privacy import PersonalDataStore

    dynamodb = dynamodb_client or _dynamodb()
    return ErasureService(
        PersonalDataStore(dynamodb, settings.table_name),
        build_lifecycle_service(settings, dynamodb_client=dynamodb, scheduler=scheduler),
        CatalogStore(dynamodb, settings.table_name),
        ObjectStore(s3_client or _s3(), settings.uploads_bucket),
    )


# ---------------------------------------------------------------- digest


def build_digest_planner(
    settings: DigestPlannerSettings | AdminApiSettings | ConsoleSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    sqs_client: Any = None,
) -> DigestPlanner:
    from chorus.adapters.sqs_queue import MessageQueue
    from chorus.domain.digest import DigestTime
    from chorus.services.digest import DigestPlanner
    from chorus.store.catalog import CatalogStore
    from chorus.store.digest_marks import DigestMarkStore
    from chorus.store.digest_runs import DigestRunStore
    from chorus.store.digest_zones import DigestZoneStore

    dynamodb = dynamodb_client or _dynamodb()
    sqs = sqs_client or _client("sqs")
    return DigestPlanner(
        CatalogStore(dynamodb, settings.table_name),
        MessageQueue(sqs, settings.digest_queue_url),
        MessageQueue(sqs, settings.digest_plan_queue_url),
        impacts=DigestMarkStore(dynamodb, settings.table_name),
        runs=DigestRunStore(dynamodb, settings.table_name),
        timezone=settings.digest_timezone,
        digest_time=DigestTime.from_cron(settings.digest_schedule),
        zones=DigestZoneStore(dynamodb, settings.table_name),
    )


def build_digest_times(settings: WebSettings, *, dynamodb_client: DynamoDBClient | None = None) -> DigestTimes:
    from chorus.domain.digest import DigestTime
    from chorus.services.digest import DigestTimes
    from chorus.store.catalog import CatalogStore

    catalog = CatalogStore(dynamodb_client or _dynamodb(), settings.table_name)
    return DigestTimes(catalog, DigestTime.from_cron(settings.digest_schedule))


@cache
def digest_pages() -> DigestPages:
    from chorus.edge.digest_pages import DigestPages

    return DigestPages(build_digest_planner(DigestPlannerSettings.from_env()))


def build_digest_sender(
    settings: DigestSenderSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    sesv2_client: Any = None,
    key_ring: Any = None,
    pacer: Any = None,
    slack_api: Any = None,
) -> DigestSender:
    from datetime import timedelta

    from chorus.services.digest import DigestSender, Links, Pacer
    from chorus.store.catalog import CatalogStore
    from chorus.store.digest_marks import DigestMarkStore
    from chorus.store.digest_runs import DigestRunStore
    from chorus.store.funnel import FunnelStore

    dynamodb = dynamodb_client or _dynamodb()
    secrets = _secrets()
    keys = key_ring or _key_ring(settings.magic_link_secret_id, secrets)
    channel: Channel = _email_channel(settings, sesv2_client)
    if settings.slack_enabled:
        slack_api = slack_api or build_slack_api(settings, secrets=secrets)
        channel = _chosen_channels(settings, channel, keys, dynamodb, slack_api)
    return DigestSender(
        DigestMarkStore(dynamodb, settings.table_name),
        channel,
        keys,
        pacer or Pacer(settings.per_sender_rate),
        contents=CatalogStore(dynamodb, settings.table_name),
        runs=DigestRunStore(dynamodb, settings.table_name),
        links=Links(settings.public_base_url),
        funnel=FunnelStore(dynamodb, settings.table_name),
        disclosure=settings.disclosure_rule,
        marker_lifetime=timedelta(days=settings.digest_marker_days),
    )


def _chosen_channels(
    settings: DigestSenderSettings, email: Channel, keys: Any, dynamodb: DynamoDBClient, slack_api: Any
) -> Channel:
    from chorus.messages.slack import SlackChannel
    from chorus.services.slack import ChosenChannels, OneClickOffers
    from chorus.store.decisions import DecisionStore
    from chorus.store.slack import SlackStore

    offers = OneClickOffers(
        DecisionStore(dynamodb, settings.table_name),
        keys,
        networks=settings.offered_networks,
        disclosure=settings.disclosure_rule,
        always_connected=settings.always_connected,
    )
    slack_store = SlackStore(dynamodb, settings.table_name)
    return ChosenChannels(email, SlackChannel(slack_api, offers), slack_api, slack_store, slack_store)


@cache
def digest_batches() -> DigestBatches:
    from chorus.edge.digest_batches import DigestBatches

    return DigestBatches(build_digest_sender(DigestSenderSettings.from_env()))


# ---------------------------------------------------------------- publishing


def build_notifier(
    settings: PublisherSettings | SweeperSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    sesv2_client: Any = None,
    secrets: SecretsProvider | None = None,
) -> Notifier:
    from chorus.services.notices import Notifier
    from chorus.store.catalog import CatalogStore

    return Notifier(
        CatalogStore(dynamodb_client or _dynamodb(), settings.table_name),
        _email_channel(settings, sesv2_client),
        _key_ring(settings.magic_link_secret_id, secrets),
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
    secrets: SecretsProvider | None = None,
) -> PublishService:
    from chorus.adapters.networks.registry import PublisherOptions, publishers
    from chorus.services.publish import PublishService
    from chorus.store.alerts import AlertStore
    from chorus.store.approvals import ApprovalStore
    from chorus.store.quotas import QuotaStore
    from chorus.store.sandbox_feed import SandboxFeedStore

    dynamodb = dynamodb_client or _dynamodb()
    secrets = secrets or _secrets()
    options = PublisherOptions(
        http_session=http_session,
        linkedin_version=settings.linkedin_version,
        sandbox_feed=SandboxFeedStore(dynamodb, settings.table_name),
    )
    return PublishService(
        ApprovalStore(dynamodb, settings.table_name),
        publishers(settings.offered_networks, options),
        connections or build_connections_service(settings, dynamodb_client=dynamodb, secrets=secrets),
        scheduler or _scheduler(settings),
        notifier or build_notifier(settings, dynamodb_client=dynamodb, secrets=secrets),
        alerts=AlertStore(dynamodb, settings.table_name),
        quotas=QuotaStore(dynamodb, settings.table_name),
        link_base_url=settings.public_base_url,
        concurrency=settings.publish_concurrency,
    )


@cache
def publish_service() -> PublishService:
    return build_publish_service(PublisherSettings.from_env())


def scheduled_posts() -> ScheduledPosts:
    from chorus.edge.schedules import ScheduledPosts

    return ScheduledPosts(publish_service())


def build_sweeper(
    settings: SweeperSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    sqs_client: Any = None,
    notifier: Any = None,
) -> Sweeper:
    from chorus.adapters.publish_queues import SqsPublishQueues
    from chorus.services.sweeper import Sweeper
    from chorus.store.approvals import ApprovalStore
    from chorus.store.connections import ConnectionStore

    dynamodb = dynamodb_client or _dynamodb()
    return Sweeper(
        ApprovalStore(dynamodb, settings.table_name),
        SqsPublishQueues(
            sqs_client or _client("sqs"), settings.publish_queue_urls, shared=settings.shared_publish_queue_url
        ),
        ConnectionStore(dynamodb, settings.table_name),
        notifier or build_notifier(settings, dynamodb_client=dynamodb),
    )


@cache
def sweeper() -> Sweeper:
    return build_sweeper(SweeperSettings.from_env())


# ---------------------------------------------------------------- table stream, email feedback


def build_scoring_service(
    settings: TableSettings, *, dynamodb_client: DynamoDBClient | None = None, company_zone: str = "UTC"
) -> ScoringService:
    from chorus.services.scoring import ScoringService
    from chorus.store.scores import ScoreStore, ScoringLookups

    dynamodb = dynamodb_client or _dynamodb()
    # Awards (the scorer's, an admin's reversal) count in the company's week (DigestTimezone); the
    # employee pages only read boards.
    return ScoringService(
        ScoreStore(dynamodb, settings.table_name, company_zone=company_zone),
        ScoringLookups(dynamodb, settings.table_name),
    )


@cache
def score_stream() -> ScoreStream:
    from chorus.edge.score_stream import ScoreStream

    settings = ScoringSettings.from_env()
    return ScoreStream(build_scoring_service(settings, company_zone=settings.digest_timezone))


def build_lifecycle_service(
    settings: LifecycleSettings | AdminApiSettings | ConsoleSettings,
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


@cache
def deactivations() -> Deactivations:
    from chorus.edge.deactivations import Deactivations

    return Deactivations(build_lifecycle_service(LifecycleSettings.from_env()))


def build_points_report_service(
    settings: AdminApiSettings | ReportSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    s3_client: S3Client | None = None,
    sqs_client: Any = None,
) -> PointsReportService:
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.adapters.sqs_queue import MessageQueue
    from chorus.services.points_reports import PointsReportService
    from chorus.store.catalog import CatalogStore
    from chorus.store.participation import ParticipationStore
    from chorus.store.points_reports import CensusStore, ExportStore
    from chorus.store.rollups import RollupStore
    from chorus.store.scores import ScoreStore

    dynamodb = dynamodb_client or _dynamodb()
    # The admin API requests reports and signs their links; the report function reads the roster.
    admin = settings if isinstance(settings, AdminApiSettings) else None
    queue = None
    if admin:
        sqs = sqs_client or _client("sqs")
        queue = MessageQueue(sqs, admin.report_queue_url, "report requests")
    return PointsReportService(
        ScoreStore(dynamodb, settings.table_name),
        CensusStore(dynamodb, settings.table_name),
        ExportStore(dynamodb, settings.table_name),
        files=ObjectStore(s3_client or _s3(), settings.uploads_bucket),
        queue=queue,
        roster=None if admin else CatalogStore(dynamodb, settings.table_name),
        # The census run keeps the monthly snapshots of participation by group.
        participation=None if admin else ParticipationStore(dynamodb, settings.table_name),
        # The team board reads the roll-up the report function keeps.
        rollups=RollupStore(dynamodb, settings.table_name) if admin else None,
        download_ttl_seconds=admin.download_url_ttl_seconds if admin else 0,
    )


@cache
def report_requests() -> ReportRequests:
    from chorus.edge.reports import ReportRequests

    settings = ReportSettings.from_env()
    points = build_points_report_service(settings)
    return ReportRequests(
        points,
        settings.report_max_receives,
        build_export_desk(settings, points=points),
        rollup=build_rollup_job(settings),
    )


def build_export_desk(
    settings: ReportSettings | ConsoleSettings | AdminApiSettings,
    *,
    dynamodb_client: DynamoDBClient | None = None,
    s3_client: S3Client | None = None,
    sqs_client: Any = None,
    points: PointsReportService | None = None,
) -> ExportDesk:
    """The console and the admin API request exports and sign their links; the report function
    produces them (``points``: its points report service, which also takes the census)."""
    from chorus.adapters.s3_objects import ObjectStore
    from chorus.adapters.sqs_queue import MessageQueue
    from chorus.domain.points_report import ExportKind
    from chorus.services.exports import ExportDesk
    from chorus.services.ledger import ConsentLedger
    from chorus.services.ledger_export import LedgerExport
    from chorus.services.redemption_export import RedemptionExport
    from chorus.store.catalog import CatalogStore
    from chorus.store.ledger import LedgerStore
    from chorus.store.points_reports import ExportStore

    dynamodb = dynamodb_client or _dynamodb()
    files = ObjectStore(s3_client or _s3(), settings.uploads_bucket)
    if not isinstance(settings, ReportSettings):
        return ExportDesk(
            ExportStore(dynamodb, settings.table_name),
            files=files,
            queue=MessageQueue(sqs_client or _client("sqs"), settings.report_queue_url, "report requests"),
            download_ttl_seconds=settings.download_url_ttl_seconds,
        )
    ledger = ConsentLedger(LedgerStore(dynamodb, settings.table_name), CatalogStore(dynamodb, settings.table_name))
    return ExportDesk(
        ExportStore(dynamodb, settings.table_name),
        files=files,
        producers={
            ExportKind.POINTS: points or build_points_report_service(settings, dynamodb_client=dynamodb),
            ExportKind.LEDGER: LedgerExport(ledger),
            ExportKind.REDEMPTIONS: RedemptionExport(build_reward_service(settings, dynamodb_client=dynamodb)),
        },
    )


def build_rollup_job(settings: ReportSettings, *, dynamodb_client: DynamoDBClient | None = None) -> RollupJob:
    from chorus.services.rollups import RollupJob
    from chorus.store.funnel import FunnelStore
    from chorus.store.rollups import RollupStore
    from chorus.store.scores import ScoreStore

    dynamodb = dynamodb_client or _dynamodb()
    return RollupJob(
        ScoreStore(dynamodb, settings.table_name),
        FunnelStore(dynamodb, settings.table_name),
        RollupStore(dynamodb, settings.table_name),
    )


def build_email_feedback_service(
    settings: EmailFeedbackSettings, *, dynamodb_client: DynamoDBClient | None = None
) -> EmailFeedbackService:
    from chorus.services.email_feedback import EmailFeedbackService
    from chorus.store.suppression import SuppressionStore

    return EmailFeedbackService(
        SuppressionStore(dynamodb_client or _dynamodb(), settings.table_name),
        digest_timezone=settings.digest_timezone,
    )


@cache
def email_feedback() -> FeedbackEvents:
    from chorus.edge.email_feedback import FeedbackEvents

    return FeedbackEvents(build_email_feedback_service(EmailFeedbackSettings.from_env()))


# ---------------------------------------------------------------- retention


def build_ledger_retention(
    settings: RetentionSettings, *, dynamodb_client: DynamoDBClient | None = None
) -> LedgerRetention:
    from datetime import timedelta

    from chorus.services.retention import LedgerRetention
    from chorus.store.privacy import PersonalDataStore

    return LedgerRetention(
        PersonalDataStore(dynamodb_client or _dynamodb(), settings.table_name),
        retention=timedelta(days=settings.ledger_retention_days),
    )


@cache
def ledger_retention() -> LedgerRetention:
    return build_ledger_retention(RetentionSettings.from_env())


# ---------------------------------------------------------------- SnapStart


def snapstart(prime: Callable[[], None]) -> None:
    """A handler module's one call at import: ``prime`` runs before Lambda's SnapStart snapshot,
    and randomness is reseeded after each restore (chorus.snapstart); outside Lambda, nothing."""
    from chorus import snapstart as hooks

    hooks.register(prime)


def _made_clients() -> None:
    """Makes every client, session and OAuth client the function wired (their models, endpoint
    rules and imports loaded). None opens a connection: they are made, never called."""
    for lazy in list(_not_yet_made):
        lazy._target()
        _not_yet_made.discard(lazy)


def _compiled_templates(package: str) -> None:
    from chorus.messages.rendering import environment

    templates = environment(package)
    for name in templates.list_templates(extensions=["j2"]):
        templates.get_template(name)


def _routed(app: APIGatewayHttpResolver, method: str, path: str) -> None:
    """One request through the app's routing, middlewares and error pages, for a path that reads
    nothing from AWS (an asset, or a page that does not exist)."""
    app.resolve(
        {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": "",
            "headers": {"host": "snapstart.invalid"},
            "requestContext": {
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
                "requestId": "snapstart",
                "routeKey": "$default",
                "stage": "$default",
                "timeEpoch": 0,
            },
            "isBase64Encoded": False,
        },
        None,  # type: ignore[arg-type]  # no invocation yet: nothing reads the context
    )


def prime_web() -> None:
    from chorus.domain.lengths import weighted_length

    app = web_app()
    _made_clients()
    _compiled_templates("chorus.web")
    _routed(app, "GET", "/assets/chorus.css")
    # X's counter on the activity page: its URL pattern (a long TLD alternation) compiled.
    weighted_length("We opened in Lyon. Come and see! https://example.com/snapstart")


def prime_admin() -> None:
    app = admin_app()
    _made_clients()
    _routed(app, "GET", "/admin/snapstart")


def prime_console() -> None:
    app = console_app()
    _made_clients()
    _compiled_templates("chorus.web")
    _routed(app, "GET", "/console/snapstart")


# The event-driven functions: their entry point built and every client it wired made; the email
# templates compiled where the function sends mail. Nothing is called: no record is read, no
# secret fetched (a secret read before the snapshot would live on in every copy of it).


def _primed_consumer(entry: Callable[[], object], *, sends_email: bool = False) -> None:
    entry()
    _made_clients()
    if sends_email:
        _compiled_templates("chorus.messages")


def prime_ingest() -> None:
    _primed_consumer(ingest_events)


def prime_digest_planner() -> None:
    _primed_consumer(digest_pages)


def prime_digest_sender() -> None:
    _primed_consumer(digest_batches, sends_email=True)


def prime_slack_actions() -> None:
    _primed_consumer(slack_clicks)


def prime_publisher() -> None:
    _primed_consumer(scheduled_posts, sends_email=True)


def prime_sweeper() -> None:
    _primed_consumer(sweeper, sends_email=True)


def prime_scoring() -> None:
    _primed_consumer(score_stream)


def prime_lifecycle() -> None:
    _primed_consumer(deactivations)


def prime_reports() -> None:
    _primed_consumer(report_requests)


def prime_retention() -> None:
    _primed_consumer(ledger_retention)


def prime_email_feedback() -> None:
    _primed_consumer(email_feedback)
