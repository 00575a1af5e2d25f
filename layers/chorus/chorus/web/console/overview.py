"""/console: the Overview, and /console/overview.csv: the trend chart's data."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from chorus.domain.overview import Overview, bar_chart
from chorus.web.console.pages import console_page, session_id

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.overview import OverviewService

CSV_COLUMNS = ("month", "approvals", "participants", "participation_percent", "publications", "visits", "points")


def percent(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.0f}"


def trend_rows(overview: Overview) -> list[dict[str, str | int]]:
    return [
        {
            "month": month.label,
            "approvals": month.approvals,
            "participants": month.participants,
            # The census is today's: earlier months' shares use today's active employees.
            "participation_percent": percent(month.participation(overview.active_employees)),
            "publications": month.publications,
            "visits": month.visits,
            "points": month.points,
        }
        for month in overview.months
    ]


def overview_router(auth: ConsoleAuth, overview_service: OverviewService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.route("", method=["GET", "HEAD"])
    def overview() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        figures = overview_service.overview()
        rows = trend_rows(figures)
        return console_page(
            200,
            "pages/console/overview.html.j2",
            session,
            nav="overview",
            figures=figures,
            this_month=figures.this_month,
            participation=percent(figures.this_month.participation(figures.active_employees)),
            chart=bar_chart([(month.label, month.approvals) for month in figures.months]),
            rows=rows,
        )

    @router.route("/overview.csv", method=["GET", "HEAD"])
    def overview_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(trend_rows(overview_service.overview()))
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=buffer.getvalue(),
            headers={"Content-Disposition": 'attachment; filename="chorus-overview.csv"'},
        )

    return router
