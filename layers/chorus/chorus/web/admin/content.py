"""/admin/content: list, post rows, read one, retract."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.event_handler import Response

from chorus.domain.content import Content
from chorus.domain.listing import Page
from chorus.domain.report import UploadKind
from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger
from chorus.web.admin.payloads import ingest_posted_file
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.ingest import IngestService
    from chorus.services.retraction import RetractionService

MAX_PAGE_SIZE = 100


class ContentCatalog(Protocol):
    def list_active_content(self, limit: int, start: dict[str, Any] | None = None) -> Page[Content]: ...
    def get_content(self, content_id: str) -> Content: ...


def _encode_token(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def _decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("bad page token", [FieldProblem("next", "is not a token from a previous page")]) from exc
    if not isinstance(decoded, dict) or not all(isinstance(value, str) for value in decoded.values()):
        raise InvalidInput("bad page token", [FieldProblem("next", "is not a token from a previous page")])
    return decoded


def _page_size(raw: str | None) -> int:
    if raw is None:
        return 50
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput(
            "bad page size", [FieldProblem("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")]
        )
    return int(raw)


def content_router(
    catalog: ContentCatalog, ingest: IngestService, retraction: RetractionService
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.get("")
    def list_content() -> Response[str]:
        query = router.current_event.query_string_parameters or {}
        page = catalog.list_active_content(_page_size(query.get("limit")), _decode_token(query.get("next")))
        return json_response(
            200,
            {
                "items": [item.model_dump(mode="json") for item in page.items],
                "next": _encode_token(page.next_token),
            },
        )

    @router.post("")
    def post_content() -> Response[str]:
        return ingest_posted_file(router.current_event, ingest, UploadKind.CONTENT)

    @router.get("/<content_id>")
    def get_content(content_id: str) -> Response[str]:
        return json_response(200, catalog.get_content(content_id).model_dump(mode="json"))

    @router.delete("/<content_id>")
    def retract_content(content_id: str) -> Response[str]:
        content, posts = retraction.retract(content_id)
        logger.info("retraction requested", content_id=content_id, admin=router.context.get("admin_subject"))
        return json_response(200, {**content.model_dump(mode="json"), "scheduled_posts_retracted": posts})

    return router
