"""Validated settings, one model per function.

This is the only module that reads ``os.environ``. Each model fails loudly on the first
invocation (cold start) when a setting is missing or malformed, instead of running with a
placeholder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from chorus.domain.branding import Brand, https_origin
from chorus.domain.disclosure import Disclosure
from chorus.domain.networks import Network, networks, profile_of
from chorus.domain.privacy import DEFAULT_LEDGER_RETENTION


class SettingsError(RuntimeError):
    """A function was deployed without a setting it needs."""


class _Settings(BaseModel):
    # A function reads one of these models: its validator is built when first used, not for
    # every model at import (about 20 ms of each cold start, bench/cold_start.py).
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        try:
            # An empty variable means "not set" (CloudFormation cannot omit one conditionally).
            return cls.model_validate({name: value for name, value in source.items() if value != ""})
        except ValidationError as exc:
            # A rule across settings (a model validator) has no location: its message says which.
            missing = ", ".join(str(err["loc"][0]) if err["loc"] else err["msg"] for err in exc.errors())
            raise SettingsError(f"{cls.__name__}: invalid or missing settings: {missing}") from exc


def _network_list(value: object) -> object:
    """``linkedin,x,mastodon`` -> the networks, each one known (a typo fails at cold start)."""
    if isinstance(value, str):
        return frozenset(Network(name.strip()) for name in value.split(",") if name.strip())
    return value


NetworkSet = Annotated[frozenset[Network], BeforeValidator(_network_list)]


def _per_network(value: object) -> object:
    """``linkedin=<value>,x=<value>`` -> {network: value}, each network known."""
    if isinstance(value, str):
        pairs = [item.partition("=") for item in value.split(",") if item.strip()]
        return {Network(name.strip()): setting.strip() for name, _, setting in pairs}
    return value


QueueArns = Annotated[dict[Network, Annotated[str, Field(pattern=r"^arn:")]], BeforeValidator(_per_network)]
QueueUrls = Annotated[dict[Network, Annotated[str, Field(pattern=r"^https?://")]], BeforeValidator(_per_network)]
Concurrency = Annotated[dict[Network, Annotated[int, Field(ge=1)]], BeforeValidator(_per_network)]
DEFAULT_NETWORKS = frozenset({Network.LINKEDIN, Network.X, Network.MASTODON})


def _json_object(value: object) -> object:
    """A JSON object given as text (a template parameter); empty text is no entry."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else {}
    return value


def _https_url_or_none(value: object) -> object:
    """An https URL without credentials (ValueError otherwise); empty text is none."""
    if value == "":
        return None
    if isinstance(value, str):
        https_origin(value)
    return value


# One line of plain text: no control, line or paragraph separator, or bidirectional override.
_PLAIN_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+$"
DisclosureTexts = Annotated[
    dict[
        Annotated[str, Field(pattern=r"^[a-z]{2,3}$")],
        Annotated[str, Field(min_length=1, max_length=40, pattern=_PLAIN_LINE)],
    ],
    BeforeValidator(_json_object),
]


class DisclosureSettings(_Settings):
    """The disclosure added to proposed posts, per language: ``{"en": "#employee", "fr":
    "#collaborateur"}``; with REQUIRE_DISCLOSURE an approved text without it is refused."""

    disclosure: DisclosureTexts = Field(alias="DISCLOSURE", default_factory=dict)
    require_disclosure: bool = Field(alias="REQUIRE_DISCLOSURE", default=False)

    @model_validator(mode="after")
    def _required_needs_a_text(self) -> Self:
        if self.require_disclosure and not self.disclosure:
            raise ValueError("REQUIRE_DISCLOSURE needs a DISCLOSURE")
        return self

    @property
    def disclosure_rule(self) -> Disclosure:
        return Disclosure(dict(self.disclosure), required=self.require_disclosure)


class BrandSettings(_Settings):
    """The company's name, logo (https) and accent colour on employee pages and emails."""

    company_name: str = Field(alias="COMPANY_NAME", default="", max_length=60, pattern=r"^$|" + _PLAIN_LINE)
    logo_url: Annotated[str | None, BeforeValidator(_https_url_or_none)] = Field(
        alias="LOGO_URL", default=None, max_length=500
    )
    accent_color: str = Field(alias="ACCENT_COLOR", default="#3b5bdb", pattern=r"^#[0-9a-fA-F]{6}$")

    @property
    def brand(self) -> Brand:
        return Brand(self.company_name, self.logo_url, self.accent_color)


class TableSettings(_Settings):
    table_name: str = Field(alias="TABLE_NAME", min_length=3)


class StorageSettings(TableSettings):
    uploads_bucket: str = Field(alias="UPLOADS_BUCKET", min_length=3)


class DigestZoneSettings(_Settings):
    # The zone whose weeks the digest runs count in (the planner's DigestTimezone).
    digest_timezone: str = Field(alias="DIGEST_TIMEZONE", default="Europe/Paris")


class EmailFeedbackSettings(TableSettings, DigestZoneSettings):
    """Bounces and complaints: suppressions, counted in the week's digest run."""


class DigestTimeSettings(_Settings):
    # The company's digest weekday and local time (a weekly cron on a quarter hour): each employee
    # gets it then in their own zone, unless they chose another on /me.
    digest_schedule: str = Field(
        alias="DIGEST_SCHEDULE",
        default="cron(0 9 ? * MON *)",
        pattern=r"^cron\(([0-5]?[0-9]) ([01]?[0-9]|2[0-3]) \? \* ([A-Za-z]{3}|[1-7]) \*\)$",
    )


class ScheduleSettings(_Settings):
    """Where approved posts are scheduled: the group, the role Scheduler assumes, and where a
    schedule that cannot deliver goes (enough to delete schedules)."""

    schedule_group: str = Field(alias="SCHEDULE_GROUP", min_length=1)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", pattern=r"^arn:")
    schedule_dlq_arn: str = Field(alias="SCHEDULE_DLQ_ARN", pattern=r"^arn:")


class PostScheduleSettings(ScheduleSettings):
    """...and where a schedule delivers a due post: its network's publish queue, or the shared
    one (the sandbox, and a network registered without a queue of its own)."""

    publish_queue_arns: QueueArns = Field(alias="PUBLISH_QUEUE_ARNS", default_factory=dict)
    shared_publish_queue_arn: str = Field(alias="SHARED_PUBLISH_QUEUE_ARN", pattern=r"^arn:")


class LinkSettings(_Settings):
    magic_link_secret_id: str = Field(alias="MAGIC_LINK_SECRET_ID", min_length=1)


class ConnectionSettings(_Settings):
    token_key_id: str = Field(alias="TOKEN_KEY_ID", min_length=1)
    oauth_clients_secret_id: str = Field(alias="OAUTH_CLIENTS_SECRET_ID", min_length=1)


class NetworkSettings(_Settings):
    """The networks employees may share to: those named, plus the sandbox when enabled."""

    networks: NetworkSet = Field(alias="NETWORKS", default=DEFAULT_NETWORKS)
    sandbox_enabled: bool = Field(alias="SANDBOX_ENABLED", default=False)

    @property
    def offered_networks(self) -> tuple[Network, ...]:
        """In the order pages show them (the registry's); the sandbox when enabled."""
        offered = self.networks | ({Network.SANDBOX} if self.sandbox_enabled else set())
        return tuple(network for network in networks() if network in offered)

    @property
    def always_connected(self) -> frozenset[Network]:
        """The offered networks that need no connection (the sandbox)."""
        return frozenset(network for network in self.offered_networks if not profile_of(network).needs_connection)


class NoticeSettings(LinkSettings, BrandSettings):
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", pattern=r"^https?://[^/]+$")
    sender_email: str = Field(alias="SENDER_EMAIL", pattern=r"^[^@\s]+@[^@\s]+$")
    sender_name: str = Field(alias="SENDER_NAME", default="Chorus")
    # SES configuration set whose bounce and complaint events suppress the employee.
    ses_configuration_set: str | None = Field(alias="SES_CONFIGURATION_SET", default=None)


# 25 MiB keeps a whole JSON array comfortably in a 512 MB function while CSV and JSON Lines stream.
DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024


class IngestSettings(StorageSettings):
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=3)
    max_upload_bytes: int = Field(alias="MAX_UPLOAD_BYTES", default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)


class AdminApiSettings(StorageSettings, ScheduleSettings, DigestTimeSettings):
    admin_group: str = Field(alias="ADMIN_GROUP", min_length=1)
    digest_queue_url: str = Field(alias="DIGEST_QUEUE_URL", pattern=r"^https?://")
    digest_plan_queue_url: str = Field(alias="DIGEST_PLAN_QUEUE_URL", pattern=r"^https?://")
    digest_timezone: str = Field(alias="DIGEST_TIMEZONE", default="Europe/Paris")
    groups_claim: str = Field(alias="GROUPS_CLAIM", min_length=1)
    # How the issuer separates groups when the claim is one string; empty: the string is one group.
    groups_claim_delimiter: str = Field(alias="GROUPS_CLAIM_DELIMITER", default="", pattern=r"^(,|;|\||space)?$")
    max_upload_bytes: int = Field(alias="MAX_UPLOAD_BYTES", default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)
    upload_url_ttl_seconds: int = Field(alias="UPLOAD_URL_TTL_SECONDS", default=900, ge=60, le=3600)
    # Where report requests go (the report function), and how long a report's download link works.
    report_queue_url: str = Field(alias="REPORT_QUEUE_URL", pattern=r"^https?://")
    download_url_ttl_seconds: int = Field(alias="DOWNLOAD_URL_TTL_SECONDS", default=900, ge=60, le=3600)

    @property
    def groups_delimiter(self) -> str:
        return " " if self.groups_claim_delimiter == "space" else self.groups_claim_delimiter


class ClickSettings(_Settings):
    click_secret_id: str = Field(alias="CLICK_SECRET_ID", min_length=1)


class SlackSettings(_Settings):
    """Slack is on when both secrets are named (template parameters SlackBotTokenSecretArn and
    SlackSigningSecretArn); the secrets themselves are read through the secrets provider."""

    slack_bot_token_secret_id: str = Field(alias="SLACK_BOT_TOKEN_SECRET_ID", default="")
    slack_signing_secret_id: str = Field(alias="SLACK_SIGNING_SECRET_ID", default="")
    # Where the interactivity endpoint queues clicks for the Slack actions function.
    slack_click_queue_url: str = Field(alias="SLACK_CLICK_QUEUE_URL", default="", pattern=r"^(https?://.+)?$")
    # slack_sdk's base URL (tests and the local cloud point it at a fake Slack Web API).
    slack_api_url: str = Field(alias="SLACK_API_URL", default="https://slack.com/api/", pattern=r"^https?://")

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token_secret_id and self.slack_signing_secret_id)


class ReviewSettings(_Settings):
    """ReviewEditedPosts: an approval whose text the employee edited waits for a reviewer in the
    console before anything is scheduled (chorus.domain.review)."""

    review_edited_posts: bool = Field(alias="REVIEW_EDITED_POSTS", default=False)


class WebSettings(
    ReviewSettings,
    TableSettings,
    PostScheduleSettings,
    LinkSettings,
    ConnectionSettings,
    ClickSettings,
    NetworkSettings,
    DigestTimeSettings,
    DigestZoneSettings,
    DisclosureSettings,
    BrandSettings,
    SlackSettings,
):
    sharing_policy: str = Field(alias="SHARING_POLICY", default="")
    # Org-wide guard rails: posts per employee per network per day (0: no limit), quiet hours.
    max_posts_per_day: int = Field(alias="MAX_POSTS_PER_DAY", default=0, ge=0, le=100)
    quiet_hours: str = Field(alias="QUIET_HOURS", default="", pattern=r"^(\d{1,2}-\d{1,2})?$")
    # Where OAuth callbacks return (a custom domain); empty: the API's own execute-api URL in
    # this region (never the request's Host header).
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", default="", pattern=r"^(https?://[^/]+)?$")
    region: str = Field(validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"), default="")
    # How long a visitor's keyed hash is kept, which is also how long the same visitor counts once.
    visitor_hash_hours: int = Field(alias="VISITOR_HASH_RETENTION_HOURS", default=24, ge=1, le=168)


class DigestPlannerSettings(TableSettings, DigestTimeSettings):
    digest_queue_url: str = Field(alias="DIGEST_QUEUE_URL", pattern=r"^https?://")
    digest_plan_queue_url: str = Field(alias="DIGEST_PLAN_QUEUE_URL", pattern=r"^https?://")
    digest_timezone: str = Field(alias="DIGEST_TIMEZONE", default="Europe/Paris")


class DigestSenderSettings(
    TableSettings, LinkSettings, BrandSettings, DisclosureSettings, SlackSettings, NetworkSettings
):
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", pattern=r"^https?://[^/]+$")
    sender_email: str = Field(alias="SENDER_EMAIL", pattern=r"^[^@\s]+@[^@\s]+$")
    sender_name: str = Field(alias="SENDER_NAME", default="Chorus")
    ses_max_send_rate: float = Field(alias="SES_MAX_SEND_RATE", gt=0)
    sender_concurrency: int = Field(alias="SENDER_CONCURRENCY", ge=1)
    # SES configuration set whose bounce and complaint events suppress the employee.
    ses_configuration_set: str | None = Field(alias="SES_CONFIGURATION_SET", default=None)
    # How long after its week a "digest sent" marker is kept (a redelivered batch sends nothing twice).
    digest_marker_days: int = Field(alias="DIGEST_MARKER_RETENTION_DAYS", default=60, ge=7, le=400)

    @property
    def per_sender_rate(self) -> float:
        """Each concurrent sender gets an equal share, so together they stay under the SES rate."""
        return self.ses_max_send_rate / self.sender_concurrency


class SlackActionsSettings(WebSettings):
    """The Slack actions function: approves a clicked "Post as shown" as the web function would,
    then replaces the message; its links lead to the employee pages."""

    public_base_url: str = Field(alias="PUBLIC_BASE_URL", pattern=r"^https?://[^/]+$")


class PublisherSettings(TableSettings, ConnectionSettings, NoticeSettings, PostScheduleSettings, NetworkSettings):
    # The same default as the adapter's and the template's (tests/unit/adapters/test_linkedin.py
    # checks the three agree); `chorus doctor` warns before LinkedIn retires it.
    linkedin_version: str = Field(alias="LINKEDIN_VERSION", default="202607", pattern=r"^\d{6}$")
    # Each network's publish concurrency (its queue's MaximumConcurrency): how many posts may be
    # in flight at once, so how far ahead of a network's allowance running out to stop.
    publish_concurrency: Concurrency = Field(alias="PUBLISH_CONCURRENCY", default_factory=dict)


class SweeperSettings(TableSettings, NoticeSettings):
    """The sweeper enqueues posts (it publishes nothing itself) and emails connection reminders."""

    publish_queue_urls: QueueUrls = Field(alias="PUBLISH_QUEUE_URLS", default_factory=dict)
    shared_publish_queue_url: str = Field(alias="SHARED_PUBLISH_QUEUE_URL", pattern=r"^https?://")


class ReportSettings(StorageSettings):
    """The report function: reads the boards, counters and roster, writes report files to S3."""

    # The report queue's maxReceiveCount: the last attempt marks the export failed.
    report_max_receives: int = Field(alias="REPORT_MAX_RECEIVES", default=3, ge=1)


class LifecycleSettings(TableSettings, ScheduleSettings):
    """The lifecycle function: withdraws deactivated employees (deletes schedules, not creates)."""


class RetentionSettings(TableSettings):
    """The daily retention job: how long the consent ledger stays whole before it is pseudonymised."""

    ledger_retention_days: int = Field(
        alias="LEDGER_RETENTION_DAYS", default=DEFAULT_LEDGER_RETENTION.days, ge=30, le=3653
    )


class ConsoleUploadSettings(StorageSettings, ScheduleSettings):
    """The console's Upload page (the admin API's limits) and People page (deactivation deletes
    schedules)."""

    max_upload_bytes: int = Field(alias="MAX_UPLOAD_BYTES", default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)
    upload_url_ttl_seconds: int = Field(alias="UPLOAD_URL_TTL_SECONDS", default=900, ge=60, le=3600)
    download_url_ttl_seconds: int = Field(alias="DOWNLOAD_URL_TTL_SECONDS", default=900, ge=60, le=3600)


class ScoringSettings(TableSettings):
    """The scorer: weekly counters are kept per ISO week on the company's clock (the digest's zone)."""

    digest_timezone: str = Field(alias="DIGEST_TIMEZONE", default="Europe/Paris")


class ConsoleDigestSettings(BrandSettings, DisclosureSettings, DigestTimeSettings):
    """The console's Digest page: previews and test copies composed as the sender composes
    them, and "send now" queued as the admin API queues it."""

    digest_queue_url: str = Field(alias="DIGEST_QUEUE_URL", pattern=r"^https?://")
    digest_plan_queue_url: str = Field(alias="DIGEST_PLAN_QUEUE_URL", pattern=r"^https?://")
    digest_timezone: str = Field(alias="DIGEST_TIMEZONE", default="Europe/Paris")


class ReviewerSettings(ReviewSettings, PostScheduleSettings, LinkSettings, BrandSettings):
    """What the console's review page needs: it schedules an approved post as the consent service
    does (the same quiet hours), and tells the employee by email with a link to their post (on
    the console's own base URL: PUBLIC_BASE_URL, else the API's execute-api URL)."""

    quiet_hours: str = Field(alias="QUIET_HOURS", default="", pattern=r"^(\d{1,2}-\d{1,2})?$")
    sender_email: str = Field(alias="SENDER_EMAIL", pattern=r"^[^@\s]+@[^@\s]+$")
    sender_name: str = Field(alias="SENDER_NAME", default="Chorus")
    ses_configuration_set: str | None = Field(alias="SES_CONFIGURATION_SET", default=None)


class ConsoleExportSettings(StorageSettings):
    """The console's exports (consent ledger, redemptions): requests go to the report function's
    queue; their download links last ConsoleUploadSettings.download_url_ttl_seconds."""

    report_queue_url: str = Field(alias="REPORT_QUEUE_URL", pattern=r"^https?://")


class ConsoleSettings(ConsoleUploadSettings, ConsoleDigestSettings, ReviewerSettings, ConsoleExportSettings):
    """The admin console: the issuer it signs in with (the admin API's), its public client id, and
    the admin API's group rule; the post schedules (retracting content deletes its schedules)."""

    oidc_issuer: str = Field(alias="OIDC_ISSUER", pattern=r"^https?://[^\s]+$")
    # Another issuer's console client id; with the stack's Cognito pool, the pool and the client's
    # name instead (the id is read on a container's first request: adapters/cognito_clients.py says why).
    oidc_client_id: str = Field(alias="OIDC_CLIENT_ID", default="")
    cognito_user_pool_id: str = Field(alias="COGNITO_USER_POOL_ID", default="")
    console_client_name: str = Field(alias="CONSOLE_CLIENT_NAME", default="")
    admin_group: str = Field(alias="ADMIN_GROUP", min_length=1)
    groups_claim: str = Field(alias="GROUPS_CLAIM", min_length=1)
    groups_claim_delimiter: str = Field(alias="GROUPS_CLAIM_DELIMITER", default="", pattern=r"^(,|;|\||space)?$")
    # Where the issuer sends the browser back (a custom domain); empty: the API's execute-api URL.
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", default="", pattern=r"^(https?://[^/]+)?$")
    region: str = Field(validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"), default="")
    # "This week" on the Overview is the company's ISO week, as the scorer counts it (the
    # digest's zone, ConsoleDigestSettings.digest_timezone).

    @property
    def groups_delimiter(self) -> str:
        return " " if self.groups_claim_delimiter == "space" else self.groups_claim_delimiter

    @model_validator(mode="after")
    def _names_a_client(self) -> Self:
        if not self.oidc_client_id and not (self.cognito_user_pool_id and self.console_client_name):
            raise ValueError("OIDC_CLIENT_ID, or COGNITO_USER_POOL_ID and CONSOLE_CLIENT_NAME, must be set")
        return self
