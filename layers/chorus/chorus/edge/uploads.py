"""S3 ObjectCreated notifications of the uploads bucket -> ingest, at most once per object version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from pydantic import BaseModel, ConfigDict

from chorus.domain.report import IngestReport
from chorus.observability import logger
from chorus.services.ingest import IngestService, kind_for_key

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Idempotency records of S3 uploads live a week: S3 redelivers within minutes to hours.
UPLOAD_IDEMPOTENCY_SECONDS = 7 * 24 * 3600


class UploadedObject(BaseModel):
    """One object of an S3 ObjectCreated notification. Keys arrive URL-encoded ('+' = space)."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    sequencer: str | None = None


def uploaded_objects(event: dict[str, Any]) -> list[UploadedObject]:
    objects: list[UploadedObject] = []
    for record in S3Event(event).records:
        details = record.s3.get_object
        objects.append(
            UploadedObject(
                bucket=record.s3.bucket.name,
                key=unquote_plus(details.key),
                version_id=details.version_id,
                # Absent from some notifications; the idempotency key then holds null, as before.
                etag=details.get("eTag"),
                sequencer=details.get("sequencer"),
            )
        )
    return objects


class UploadEvents:
    def __init__(self, service: IngestService, *, uploads_bucket: str, persistence: BasePersistenceLayer) -> None:
        self._service = service
        self._bucket = uploads_bucket
        self._config = IdempotencyConfig(
            event_key_jmespath="[bucket, key, version_id, etag]",
            expires_after_seconds=UPLOAD_IDEMPOTENCY_SECONDS,
            raise_on_no_idempotency_key=True,
        )
        self._ingest_once = idempotent_function(
            data_keyword_argument="upload", persistence_store=persistence, config=self._config
        )(self._ingest)

    def _ingest(self, upload: dict[str, Any]) -> dict[str, Any]:
        report: IngestReport = self._service.ingest_object(upload["key"], upload.get("version_id"))
        return {"key": report.key, "report_key": report.report_key, "status": report.status.value}

    def handle(self, event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
        self._config.register_lambda_context(context)
        results: list[dict[str, Any]] = []
        for upload in uploaded_objects(event):
            if upload.bucket != self._bucket or kind_for_key(upload.key) is None:
                logger.warning("ignored object outside the upload prefixes", bucket=upload.bucket, key=upload.key)
                continue
            results.append(self._ingest_once(upload=upload.model_dump()))
        return results
