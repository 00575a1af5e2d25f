"""/admin/employees: post roster rows; find an employee by address; deactivate, erase one; their data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.report import UploadKind
from chorus.observability import logger
from chorus.web.admin.payloads import ingest_posted_file
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.data_export import DataExport
    from chorus.services.erasure import ErasureService
    from chorus.services.ingest import IngestService
    from chorus.services.lifecycle import LifecycleService


class AddressLookup(BaseModel):
    """In a body, never in a URL: an address in a query string would sit in browser histories."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)


def employees_router(
    ingest: IngestService, lifecycle: LifecycleService, erasure: ErasureService, exports: DataExport
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.post("")
    def post_employees() -> Response[str]:
        return ingest_posted_file(router.current_event, ingest, UploadKind.EMPLOYEES)

    @router.post("/lookup")
    def lookup(request: AddressLookup) -> Response[str]:
        """Who an address is now (ids are pseudonymous; an erased address answers its tombstone)."""
        return json_response(200, erasure.find(request.email).to_dict())

    @router.post("/<employee_id>/deactivate")
    def deactivate(employee_id: str) -> Response[str]:
        """Idempotent: deactivating again withdraws anything left and reports it (200 each time)."""
        return json_response(200, lifecycle.deactivate(employee_id).to_dict())

    @router.post("/<employee_id>/erase")
    def erase(employee_id: str) -> Response[str]:
        """Idempotent: erasing again finishes what a first run left (a post in flight) and reports it."""
        erased = erasure.erase(employee_id)
        logger.info("employee erased by admin", employee_id=employee_id, admin=router.context.get("admin_subject"))
        return json_response(200, erased.to_dict())

    @router.get("/<employee_id>/data")
    def data(employee_id: str) -> Response[str]:
        """What the employee's "Download my data" gives, for an admin answering an access request."""
        logger.info("personal data read by admin", employee_id=employee_id, admin=router.context.get("admin_subject"))
        return json_response(200, exports.document(employee_id))

    return router
