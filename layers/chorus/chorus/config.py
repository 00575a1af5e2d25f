"""Validated settings, one model per function.

This is the only module that reads ``os.environ``. Each model fails loudly on the first
invocation (cold start) when a setting is missing or malformed, instead of running with a
placeholder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from chorus.domain.networks import Network, networks, profile_of


class SettingsError(RuntimeError):
    """A function was deployed without a setting it needs."""


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        try:
            # An empty variable means "not set" (CloudFormation cannot omit one conditionally).
            return cls.model_validate({name: value for name, value in source.items() if value != ""})
        except ValidationError as exc:
            missing = ", ".join(str(err["loc"][0]) for err in exc.errors())
            raise SettingsError(f"{cls.__name__}: invalid or missing settings: {missing}") from exc


def _network_list(value: object) -> object:
    """``linkedin,x,mastodon`` -> the networks, each one known (a typo fails at cold start)."""
    if isinstance(value, str):
        return frozenset(Network(name.strip()) for name in value.split(",") if name.strip())
    return value


NetworkSet = Annotated[frozenset[Network], BeforeValidator(_network_list)]
DEFAULT_NETWORKS = frozenset({Network.LINKEDIN, Network.X, Network.MASTODON})


class TableSettings(_Settings):
    table_name: str = Field(alias="TABLE_NAME", min_length=3)


class StorageSettings(TableSettings):
    uploads_bucket: str = Field(alias="UPLOADS_BUCKET", min_length=3)


class ScheduleSettings(_Settings):
    """Where approved posts are scheduled: the publisher target and the role Scheduler assumes."""

    schedule_group: str = Field(alias="SCHEDULE_GROUP", min_length=1)
    publisher_arn: str = Field(alias="PUBLISHER_ARN", pattern=r"^arn:")
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", pattern=r"^arn:")
    schedule_dlq_arn: str = Field(alias="SCHEDULE_DLQ_ARN", pattern=r"^arn:")


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


class NoticeSettings(LinkSettings):
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


class AdminApiSettings(StorageSettings, ScheduleSettings):
    admin_group: str = Field(alias="ADMIN_GROUP", min_length=1)
    digest_queue_url: str = Field(alias="DIGEST_QUEUE_URL", pattern=r"^https?://")
    digest_plan_queue_url: str = Field(alias="DIGEST_PLAN_QUEUE_URL", pattern=r"^https?://")
    digest_timezone: str = Field(alias="DIGEST_TIMEZONE", default="Europe/Paris")
    groups_claim: str = Field(alias="GROUPS_CLAIM", min_length=1)
    # How the issuer separates groups when the claim is one string; empty: the string is one group.
    groups_claim_delimiter: str = Field(alias="GROUPS_CLAIM_DELIMITER", default="", pattern=r"^(,|;|\||space)?$")
    max_upload_bytes: int = Field(alias="MAX_UPLOAD_BYTES", default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)
    upload_url_ttl_seconds: int = Field(alias="UPLOAD_URL_TTL_SECONDS", default=900, ge=60, le=3600)

    @property
    def groups_delimiter(self) -> str:
        return " " if self.groups_claim_delimiter == "space" else self.groups_claim_delimiter


class ClickSettings(_Settings):
    click_secret_id: str = Field(alias="CLICK_SECRET_ID", min_length=1)


class WebSettings(TableSettings, ScheduleSettings, LinkSettings, ConnectionSettings, ClickSettings, NetworkSettings):
    sharing_policy: str = Field(alias="SHARING_POLICY", default="")
    # Org-wide guard rails: posts per employee per network per day (0: no limit), quiet hours.
    max_posts_per_day: int = Field(alias="MAX_POSTS_PER_DAY", default=0, ge=0, le=100)
    quiet_hours: str = Field(alias="QUIET_HOURS", default="", pattern=r"^(\d{1,2}-\d{1,2})?$")
    # Where OAuth callbacks return (a custom domain); empty: the API's own execute-api URL in
    # this region (never the request's Host header).
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", default="", pattern=r"^(https?://[^/]+)?$")
    region: str = Field(validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"), default="")


class DigestPlannerSettings(TableSettings):
    digest_queue_url: str = Field(alias="DIGEST_QUEUE_URL", pattern=r"^https?://")
    digest_plan_queue_url: str = Field(alias="DIGEST_PLAN_QUEUE_URL", pattern=r"^https?://")
    digest_timezone: str = Field(alias="DIGEST_TIMEZONE", default="Europe/Paris")


class DigestSenderSettings(TableSettings, LinkSettings):
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", pattern=r"^https?://[^/]+$")
    sender_email: str = Field(alias="SENDER_EMAIL", pattern=r"^[^@\s]+@[^@\s]+$")
    sender_name: str = Field(alias="SENDER_NAME", default="Chorus")
    ses_max_send_rate: float = Field(alias="SES_MAX_SEND_RATE", gt=0)
    sender_concurrency: int = Field(alias="SENDER_CONCURRENCY", ge=1)
    # SES configuration set whose bounce and complaint events suppress the employee.
    ses_configuration_set: str | None = Field(alias="SES_CONFIGURATION_SET", default=None)

    @property
    def per_sender_rate(self) -> float:
        """Each concurrent sender gets an equal share, so together they stay under the SES rate."""
        return self.ses_max_send_rate / self.sender_concurrency


class PublisherSettings(TableSettings, ConnectionSettings, NoticeSettings, ScheduleSettings, NetworkSettings):
    # The same default as the adapter's and the template's (tests/unit/adapters/test_linkedin.py
    # checks the three agree); `chorus doctor` warns before LinkedIn retires it.
    linkedin_version: str = Field(alias="LINKEDIN_VERSION", default="202607", pattern=r"^\d{6}$")


class LifecycleSettings(TableSettings, ScheduleSettings):
    """The lifecycle function: withdraws deactivated employees (deletes schedules, not creates)."""
