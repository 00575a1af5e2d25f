"""/admin/uploads (presigned PUT for a file) and /admin/reports/{key+} (its report)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal, Protocol

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chorus import clock
from chorus.domain.report import UploadKind, report_key_for
from chorus.domain.tabular import UploadFormat
from chorus.errors import NotFound
from chorus.services.uploads import upload_key
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

_CONTENT_TYPES = {
    UploadFormat.CSV: "text/csv",
    UploadFormat.JSON: "application/json",
    UploadFormat.JSONL: "application/x-ndjson",
}


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["content", "employees"]
    filename: str = Field(min_length=1, max_length=200)

    @field_validator("filename")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if UploadFormat.for_name(value) is None:
            raise ValueError("must end in .csv, .json, .jsonl or .ndjson")
        return value


class UploadObjects(Protocol):
    """The uploads bucket: where admins put files, and where their reports appear."""

    def presigned_put(self, key: str, content_type: str, expires_in: int) -> str: ...
    def read(self, key: str) -> bytes: ...


def uploads_router(objects: UploadObjects, url_ttl_seconds: int) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.post("/uploads")
    def create_upload(request: UploadRequest) -> Response[str]:
        fmt = UploadFormat.for_name(request.filename)
        assert fmt is not None  # checked by the model
        key = upload_key(UploadKind(request.kind), request.filename, clock.now())
        content_type = _CONTENT_TYPES[fmt]
        return json_response(
            201,
            {
                "key": key,
                "report_key": report_key_for(key),
                "method": "PUT",
                "upload_url": objects.presigned_put(key, content_type, url_ttl_seconds),
                "headers": {"Content-Type": content_type},
                "expires_in": url_ttl_seconds,
            },
        )

    @router.get("/reports/.+")
    def get_report() -> Response[str]:
        key = (router.current_event.path_parameters or {}).get("key") or router.current_event.raw_path.split(
            "/admin/reports/", 1
        )[-1]
        report_key = key if key.startswith("reports/") else report_key_for(key)
        try:
            document = json.loads(objects.read(report_key))
        except NotFound:
            raise NotFound(f"no report for {key} yet (uploads are processed within seconds)") from None
        return json_response(200, document)

    return router
