"""/console: the Overview; /console/overview.csv (months), /console/overview/weeks.csv (the 12-week
trend chart's data) and /console/overview/networks.csv (publications by network)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from chorus.domain.overview import Overview, PeriodFigures, bar_chart
from chorus.domain.points_report import spreadsheet_cell
from chorus.web.console.pages import console_page, session_id

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.overview import OverviewService

CSV_COLUMNS = ("month", "approvals", "participants", "participation_percent", "publications", "visits", "points")
WEEK_CSV_COLUMNS = ("week", *CSV_COLUMNS[1:])
NETWORK_CSV_COLUMNS = ("network", "publications_this_week", "publications_this_month")


def percent(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.0f}"


def period_rows(column: str, periods: list[PeriodFigures], active: int | None) -> list[dict[str, str | int]]:
    return [
        {
            column: period.label,
            "approvals": period.approvals,
            "participants": period.participants,
            # The census is today's: earlier periods' shares use today's active employees.
            "participation_percent": percent(period.participation(active)),
            "publications": period.publications,
            "visits": period.visits,
            "points": period.points,
        }
        for period in periods
    ]


def trend_rows(overview: Overview) -> list[dict[str, str | int]]:
    return period_rows("month", overview.months, overview.active_employees)


def week_rows(overview: Overview) -> list[dict[str, str | int]]:
    return period_rows("week", overview.weeks, overview.active_employees)


def network_rows(overview: Overview) -> list[dict[str, str | int]]:
    return [
        {"network": label, "publications_this_week": week, "publications_this_month": month}
        for label, week, month in overview.networks()
    ]


def csv_response(columns: tuple[str, ...], rows: list[dict[str, str | int]], filename: str) -> Response[str]:
    from aws_lambda_powertools.event_handler import Response

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    # Group and employee names are typed by people: no cell runs as a spreadsheet formula.
    writer.writerows({column: spreadsheet_cell(value) for column, value in row.items()} for row in rows)
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=buffer.getvalue(),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def overview_router(auth: ConsoleAuth, overview_service: OverviewService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.route("", method=["GET", "HEAD"])
    def overview() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        figures = overview_service.overview()
        weeks = week_rows(figures)
        return console_page(
            200,
            "pages/console/overview.html.j2",
            session,
            nav="overview",
            figures=figures,
            this_week=figures.this_week,
            this_month=figures.this_month,
            week_participation=percent(figures.this_week.participation(figures.active_employees)),
            participation=percent(figures.this_month.participation(figures.active_employees)),
            networks=network_rows(figures),
            week_chart=bar_chart(
                [(week.label, week.approvals) for week in figures.weeks],
                ticks=[week.label[5:8] for week in figures.weeks],
            ),
            weeks=weeks,
            chart=bar_chart(
                [(month.label, month.approvals) for month in figures.months],
                ticks=[month.label[5:] for month in figures.months],
            ),
            rows=trend_rows(figures),
        )

    @router.route("/overview.csv", method=["GET", "HEAD"])
    def overview_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        return csv_response(CSV_COLUMNS, trend_rows(overview_service.overview()), "chorus-overview.csv")

    @router.route("/overview/weeks.csv", method=["GET", "HEAD"])
    def weeks_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        return csv_response(WEEK_CSV_COLUMNS, week_rows(overview_service.overview()), "chorus-overview-weeks.csv")

    @router.route("/overview/networks.csv", method=["GET", "HEAD"])
    def networks_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        return csv_response(
            NETWORK_CSV_COLUMNS, network_rows(overview_service.overview()), "chorus-publications-by-network.csv"
        )

    return router
