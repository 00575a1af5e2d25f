"""/admin/employees: post roster rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.report import UploadKind
from chorus.web.admin.payloads import ingest_posted_file

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.ingest import IngestService


def employees_router(ingest: IngestService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.post("")
    def post_employees() -> Response[str]:
        return ingest_posted_file(router.current_event, ingest, UploadKind.EMPLOYEES)

    return router
