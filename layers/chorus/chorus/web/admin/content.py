"""/admin/content: list, post rows, read one, retract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.event_handler import Response

from chorus.domain.content import Content
from chorus.domain.listing import Page
from chorus.domain.report import UploadKind
from chorus.observability import logger
from chorus.web.admin.payloads import ingest_posted_file
from chorus.web.cursors import decode_cursor, encode_cursor, page_size
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.ingest import IngestService
    from chorus.services.retraction import RetractionService


class ContentCatalog(Protocol):
    def list_active_content(self, limit: int, start: dict[str, Any] | None = None) -> Page[Content]: ...
    def get_content(self, content_id: str) -> Content: ...


def content_router(
    catalog: ContentCatalog, ingest: IngestService, retraction: RetractionService
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.get("")
    def list_content() -> Response[str]:
        query = router.current_event.query_string_parameters or {}
        page = catalog.list_active_content(page_size(query.get("limit")), decode_cursor(query.get("next")))
        return json_response(
            200,
            {
                "items": [item.model_dump(mode="json") for item in page.items],
                "next": encode_cursor(page.next_token),
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
