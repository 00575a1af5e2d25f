"""/console/leaderboards: the top advocates per period (month, quarter, all time), overall or in
one group, with a CSV of the same rows; /console/leaderboards/teams: the team board. Both read
the scorer's aggregates through the admin API's services (ScoringService, PointsReportService)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from chorus.domain.points_report import spreadsheet_cell
from chorus.domain.scoring import OVERALL, Period
from chorus.errors import FieldProblem, InvalidInput
from chorus.web.console.pages import console_page, session_id

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.scoring import Ranked
    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.points_reports import PointsReportService
    from chorus.services.scoring import ScoringService

BOARD_SIZE = 50
PERIOD_LABELS = {Period.MONTH: "This month", Period.QUARTER: "This quarter", Period.ALL: "All time"}
CSV_COLUMNS = ("rank", "name", "employee_id", "points")
MAX_GROUP = 100


def _period(raw: str | None) -> Period:
    try:
        return Period(raw or Period.MONTH.value)
    except ValueError:
        raise InvalidInput("bad period", [FieldProblem("period", "must be month, quarter or all")]) from None


def _group(raw: str | None) -> str:
    group = (raw or "").strip()
    if len(group) > MAX_GROUP:
        raise InvalidInput("bad group", [FieldProblem("group", f"is at most {MAX_GROUP} characters")])
    return group or OVERALL


def board_csv(rows: list[Ranked]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([row.rank, spreadsheet_cell(row.name), spreadsheet_cell(row.employee_id), row.score])
    return buffer.getvalue()


def leaderboards_router(
    auth: ConsoleAuth, scoring: ScoringService, reports: PointsReportService
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def query(name: str) -> str | None:
        return (router.current_event.query_string_parameters or {}).get(name)

    @router.route("/leaderboards", method=["GET", "HEAD"])
    def leaderboard() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        period, group = _period(query("period")), _group(query("group"))
        rows = scoring.leaderboard(period, group, BOARD_SIZE)
        return console_page(
            200,
            "pages/console/leaderboards.html.j2",
            session,
            nav="leaderboards",
            periods=PERIOD_LABELS,
            period=period,
            group=group,
            overall=OVERALL,
            groups=reports.groups(),
            rows=rows,
            size=BOARD_SIZE,
        )

    @router.route("/leaderboards.csv", method=["GET", "HEAD"])
    def leaderboard_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        period, group = _period(query("period")), _group(query("group"))
        rows = scoring.leaderboard(period, group, BOARD_SIZE)
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=board_csv(rows),
            headers={"Content-Disposition": f'attachment; filename="chorus-leaderboard-{period.value}.csv"'},
        )

    @router.route("/leaderboards/teams", method=["GET", "HEAD"])
    def teams() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        period = _period(query("period"))
        board = reports.team_board(period)
        return console_page(
            200,
            "pages/console/leaderboards_teams.html.j2",
            session,
            nav="leaderboards",
            periods=PERIOD_LABELS,
            period=period,
            board=board,
            counted=Period(board["period"]),
        )

    return router
