"""/admin/leaderboard, /admin/leaderboard/teams, /admin/points/reversals, /admin/reports (the
summary) and /admin/exports (full reports, produced in the background, downloaded from S3)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.points_report import EXPORT_ID, spreadsheet_cell
from chorus.domain.scoring import OVERALL, Period
from chorus.errors import FieldProblem, InvalidInput, NotFound
from chorus.observability import logger
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.points_reports import PointsReportService
    from chorus.services.scoring import ScoringService

MAX_BOARD = 100
SUMMARY_COLUMNS = ("dimension", "name", "points", "approvals", "publications", "clicks", "participants", "members")


class ReversalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    employee_id: str = Field(min_length=3, max_length=64)
    event_id: str = Field(min_length=3, max_length=300)
    reason: str = Field(min_length=1, max_length=300)


class ExportOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period = Period.MONTH


def _period(raw: str | None) -> Period:
    try:
        return Period(raw or "month")
    except ValueError:
        raise InvalidInput("bad period", [FieldProblem("period", "must be month, quarter or all")]) from None


def _size(raw: str | None) -> int:
    if raw is None:
        return 10
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_BOARD:
        raise InvalidInput("bad size", [FieldProblem("k", f"must be a whole number from 1 to {MAX_BOARD}")])
    return int(raw)


def _summary_csv(summary: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SUMMARY_COLUMNS)
    for dimension in ("campaigns", "groups"):
        for row in summary[dimension]:
            writer.writerow(
                [spreadsheet_cell(dimension[:-1]), *(spreadsheet_cell(row.get(c)) for c in SUMMARY_COLUMNS[1:])]
            )
    return buffer.getvalue()


def scores_router(scoring: ScoringService, reports: PointsReportService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def query() -> dict[str, str]:
        return dict(router.current_event.query_string_parameters or {})

    @router.get("/leaderboard")
    def leaderboard() -> Response[str]:
        params = query()
        period, scope = _period(params.get("period")), params.get("group") or OVERALL
        rows = scoring.leaderboard(period, scope, _size(params.get("k")))
        return json_response(
            200,
            {"period": period.value, "group": scope, "ranks": [row.__dict__ for row in rows]},
        )

    @router.get("/leaderboard/teams")
    def teams() -> Response[str]:
        return json_response(200, reports.team_board(_period(query().get("period"))))

    @router.post("/points/reversals")
    def reverse(request: ReversalRequest) -> Response[str]:
        award = scoring.reverse_award(request.employee_id, request.event_id, request.reason)
        return json_response(201, {"event_id": award.event_id, "points": award.points, "reason": award.reason})

    @router.get("/reports")
    def report() -> Response[str]:
        params = query()
        summary = reports.summary(_period(params.get("period")))
        if params.get("format") != "csv":
            return json_response(200, summary)
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=_summary_csv(summary),
            headers={
                "Content-Disposition": f'attachment; filename="chorus-summary-{summary["period_key"]}.csv"',
                "Cache-Control": "no-store",
            },
        )

    @router.post("/exports")
    def request_export() -> Response[str]:
        order = ExportOrder.model_validate_json(router.current_event.decoded_body or "{}")
        export = reports.request_export(order.period)
        logger.info("report export requested", admin=router.context.get("admin_subject"), export_id=export.export_id)
        location = f"/admin/exports/{export.export_id}"
        response = json_response(
            202,
            {
                "id": export.export_id,
                "status": export.status.value,
                "period": export.period.value if export.period is not None else None,
                "location": location,
            },
        )
        response.headers["Location"] = location
        return response

    @router.get("/exports/<export_id>")
    def export_status(export_id: str) -> Response[str]:
        if not EXPORT_ID.fullmatch(export_id):
            raise NotFound("no such report")
        return json_response(200, reports.export_status(export_id))

    return router
