"""/console/reports: participation by group over time and top advocates, each an SVG chart with
its table and CSV (/console/reports/participation.csv, /console/reports/advocates.csv)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.overview import bar_chart
from chorus.domain.scoring import Period
from chorus.errors import FieldProblem, InvalidInput
from chorus.web.console.overview import csv_response
from chorus.web.console.pages import console_page, session_id

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.scoring import Ranked
    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.console_reports import ConsoleReports, GroupParticipation

PERIOD_LABELS = {Period.MONTH: "This month", Period.QUARTER: "This quarter", Period.ALL: "All time"}
PARTICIPATION_COLUMNS = ("month", "group", "participants", "active_employees", "participation_percent")
ADVOCATE_COLUMNS = ("rank", "employee_id", "name", "points")
# Groups in the page's table; the CSV has every group of the snapshots.
GROUPS_ON_PAGE = 50


def period_of(value: str | None) -> Period:
    try:
        return Period(value or Period.MONTH.value)
    except ValueError:
        raise InvalidInput("unknown period", [FieldProblem("period", "is month, quarter or all")]) from None


def participation_rows(report: GroupParticipation) -> list[dict[str, str | int]]:
    return [
        {
            "month": cell.label,
            "group": trend.group,
            "participants": cell.participants,
            "active_employees": "" if cell.active is None else cell.active,
            "participation_percent": "" if cell.percent is None else cell.percent,
        }
        for trend in report.groups
        for cell in trend.cells
    ]


def advocate_rows(advocates: list[Ranked]) -> list[dict[str, str | int]]:
    return [
        {"rank": row.rank, "employee_id": row.employee_id, "name": row.name, "points": row.score} for row in advocates
    ]


def reports_router(auth: ConsoleAuth, reports: ConsoleReports) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def param(name: str) -> str | None:
        return (router.current_event.query_string_parameters or {}).get(name)

    @router.route("/reports", method=["GET", "HEAD"])
    def reports_page() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        period = period_of(param("period"))
        participation = reports.participation_by_group()
        groups = {trend.group: trend for trend in participation.groups}
        chosen = param("group") or (participation.groups[0].group if participation.groups else None)
        if chosen is not None and chosen not in groups:
            raise InvalidInput("unknown group", [FieldProblem("group", "has no participation recorded")])
        trend = groups[chosen] if chosen is not None else None
        advocates = reports.top_advocates(period)
        return console_page(
            200,
            "pages/console/reports.html.j2",
            session,
            nav="reports",
            participation=participation,
            shown_groups=participation.groups[:GROUPS_ON_PAGE],
            trend=trend,
            trend_chart=bar_chart(
                [(cell.label, cell.percent or 0) for cell in trend.cells],
                ticks=[cell.label[5:] for cell in trend.cells],
            )
            if trend
            else None,
            period=period,
            periods=PERIOD_LABELS,
            advocates=advocates,
            advocates_chart=bar_chart(
                [(f"{row.rank}. {row.name}", row.score) for row in advocates],
                ticks=[str(row.rank) for row in advocates],
            ),
        )

    @router.route("/reports/participation.csv", method=["GET", "HEAD"])
    def participation_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        return csv_response(
            PARTICIPATION_COLUMNS,
            participation_rows(reports.participation_by_group()),
            "chorus-participation-by-group.csv",
        )

    @router.route("/reports/advocates.csv", method=["GET", "HEAD"])
    def advocates_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        period = period_of(param("period"))
        return csv_response(
            ADVOCATE_COLUMNS, advocate_rows(reports.top_advocates(period)), f"chorus-top-advocates-{period.value}.csv"
        )

    return router
