"""/admin/employees: post roster rows; deactivate one employee."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from chorus.domain.report import UploadKind
from chorus.web.admin.payloads import ingest_posted_file
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.ingest import IngestService
    from chorus.services.lifecycle import LifecycleService


def employees_router(ingest: IngestService, lifecycle: LifecycleService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.post("")
    def post_employees() -> Response[str]:
        return ingest_posted_file(router.current_event, ingest, UploadKind.EMPLOYEES)

    @router.post("/<employee_id>/deactivate")
    def deactivate(employee_id: str) -> Response[str]:
        """Idempotent: deactivating again withdraws anything left and reports it (200 each time)."""
        return json_response(200, lifecycle.deactivate(employee_id).to_dict())

    return router
