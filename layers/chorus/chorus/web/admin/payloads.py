"""Admin request bodies: an uploaded file posted directly, and its report as the answer."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from chorus import clock
from chorus.domain.report import IngestReport, ReportStatus, UploadKind
from chorus.domain.tabular import UploadFormat
from chorus.errors import ChorusError, ErrorBody, FieldProblem, InvalidInput
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from chorus.services.ingest import IngestService

_FORMATS_BY_MEDIA_TYPE = {
    "text/csv": UploadFormat.CSV,
    "application/csv": UploadFormat.CSV,
    "application/json": UploadFormat.JSON,
    "application/x-ndjson": UploadFormat.JSONL,
    "application/jsonl": UploadFormat.JSONL,
    "application/x-jsonlines": UploadFormat.JSONL,
    "application/jsonlines": UploadFormat.JSONL,
}


class UnsupportedMediaType(ChorusError):
    http_status = 415
    code = "unsupported_media_type"


def format_of(event: APIGatewayProxyEventV2) -> UploadFormat:
    media_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    fmt = _FORMATS_BY_MEDIA_TYPE.get(media_type)
    if fmt is None:
        raise UnsupportedMediaType(
            "send the rows as text/csv, application/json (an array) or application/x-ndjson (JSON Lines)"
        )
    return fmt


def posted_bytes(event: APIGatewayProxyEventV2) -> bytes:
    """The body as sent. API Gateway base64-encodes a body that is not UTF-8 text; Powertools'
    ``decoded_body`` would decode it as UTF-8 and fail on the very files the report explains."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", errors="surrogatepass")  # a lone surrogate becomes a line the reader refuses
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise InvalidInput("the body is not valid base64", [FieldProblem("body", "is not valid base64")]) from None


def ingest_posted_file(event: APIGatewayProxyEventV2, ingest: IngestService, kind: UploadKind) -> Response[str]:
    fmt = format_of(event)
    raw = posted_bytes(event)
    now = clock.now()
    request_id = event.request_context.request_id or now.strftime("%H%M%S%f")
    key = f"uploads/api/{kind.value}/{now:%Y/%m/%d}/{request_id}.{fmt.value}"
    report = ingest.ingest_payload(kind, fmt, raw, key)
    return report_response(report)


def report_response(report: IngestReport) -> Response[str]:
    document = report.model_dump(mode="json")
    if report.status is not ReportStatus.REJECTED:
        return json_response(200, document)
    problems = [FieldProblem(f"line {error.line}: {error.field or 'row'}", error.reason) for error in report.errors]
    problems += [FieldProblem("file", note.reason) for note in report.file_errors]
    body = ErrorBody("invalid_input", "no row was accepted", problems).to_dict()
    body["report"] = document
    return json_response(422, body)
