"""/admin/leaderboard, /admin/leaderboard/teams, /admin/points/reversals, /admin/reports."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.scoring import OVERALL, Period
from chorus.errors import FieldProblem, InvalidInput
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.scoring import ScoringService

MAX_BOARD = 100


class ReversalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    employee_id: str = Field(min_length=3, max_length=64)
    event_id: str = Field(min_length=3, max_length=300)
    reason: str = Field(min_length=1, max_length=300)


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


def _cell(value: object) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: such text is quoted."""
    text = str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} and not text.lstrip("-").isdigit() else text


def scores_router(scoring: ScoringService) -> APIGatewayHttpRouter:
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
        period = _period(query().get("period"))
        return json_response(200, {"period": period.value, "teams": scoring.team_board(period)})

    @router.post("/points/reversals")
    def reverse(request: ReversalRequest) -> Response[str]:
        award = scoring.reverse_award(request.employee_id, request.event_id, request.reason)
        return json_response(201, {"event_id": award.event_id, "points": award.points, "reason": award.reason})

    @router.get("/reports")
    def report() -> Response[str]:
        params = query()
        period = _period(params.get("period"))
        document = scoring.report(period)
        if params.get("format") == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["dimension", "name", "points", "approvals", "publications", "clicks"])
            for dimension in ("campaigns", "groups", "employees"):
                for row in document[dimension]:
                    writer.writerow(
                        [
                            _cell(x)
                            for x in (
                                dimension[:-1],
                                row["name"],
                                row["points"],
                                row["approvals"],
                                row["publications"],
                                row["clicks"],
                            )
                        ]
                    )
            return Response(
                status_code=200,
                content_type="text/csv; charset=utf-8",
                body=buffer.getvalue(),
                headers={
                    "Content-Disposition": f'attachment; filename="chorus-{period.value}.csv"',
                    "Cache-Control": "no-store",
                },
            )
        return json_response(200, document)

    return router
