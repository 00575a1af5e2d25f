"""/admin/exports/ledger and /admin/exports/redemptions: the console's exports, for scripts. The
same ExportDesk and rules as the console's (web/console/exports.py); the status is the points
reports' own route, GET /admin/exports/{id}, which answers for every kind."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response

from chorus.domain.exports import LedgerCriteria
from chorus.domain.ledger import LedgerSearch
from chorus.domain.points_report import ExportKind
from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.points_report import Export
    from chorus.services.exports import ExportDesk
    from chorus.services.ledger import ConsentLedger

FIELDS = frozenset({"by", "q", "from", "to"})


def _order(body: str | None) -> dict[str, str]:
    try:
        order: Any = json.loads(body or "{}")
    except ValueError:
        raise InvalidInput("bad body", [FieldProblem("body", "must be a JSON object")]) from None
    if not isinstance(order, dict) or not set(order) <= FIELDS or not all(isinstance(v, str) for v in order.values()):
        reason = "must be a JSON object of by and q, or of from and to (strings)"
        raise InvalidInput("bad body", [FieldProblem("body", reason)])
    return order


def ledger_exports_router(exports: ExportDesk, ledger: ConsentLedger) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def accepted(export: Export) -> Response[str]:
        location = f"/admin/exports/{export.export_id}"
        response = json_response(
            202,
            {"id": export.export_id, "kind": export.kind.value, "status": export.status.value, "location": location},
        )
        response.headers["Location"] = location
        return response

    @router.post("/exports/ledger")
    def export_ledger() -> Response[str]:
        order = _order(router.current_event.decoded_body)
        if "from" in order or "to" in order:
            criteria = LedgerCriteria.of_days(order.get("from", ""), order.get("to", ""), exports.today())
        else:
            search = LedgerSearch.parse(order.get("by", "employee"), order.get("q", ""))
            criteria = LedgerCriteria.of_search(ledger.pinned(search))
        export = exports.request(ExportKind.LEDGER, criteria.as_record())
        logger.info("ledger export requested", admin=router.context.get("admin_subject"), export_id=export.export_id)
        return accepted(export)

    @router.post("/exports/redemptions")
    def export_redemptions() -> Response[str]:
        export = exports.request(ExportKind.REDEMPTIONS)
        logger.info(
            "redemptions export requested", admin=router.context.get("admin_subject"), export_id=export.export_id
        )
        return accepted(export)

    return router
