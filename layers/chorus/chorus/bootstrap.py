"""The one place where settings, AWS clients, adapters and services are wired.

Each ``*_runtime()`` is built on the first invocation of a warm container and reused; heavy
imports (boto3 clients, Powertools utilities) happen here rather than at module import, which
keeps handler import time close to that of boto3 alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from chorus.config import AdminApiSettings, IngestSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

    from chorus.domain.report import IngestReport
    from chorus.services.ingest import IngestService

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


@cache
def admin_app() -> APIGatewayHttpResolver:
    from chorus.adapters.s3_objects import ObjectStore
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
        )
    )
