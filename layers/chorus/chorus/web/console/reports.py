"""/console/reports: participation by group over time, top advocates, the funnel per campaign and
the top content, each an SVG chart with its table and CSV (/console/reports/participation.csv,
/console/reports/advocates.csv, /console/reports/campaigns.csv, /console/reports/content.csv)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.funnel import FUNNEL_COUNTERS, STEP_LABELS
from chorus.domain.overview import bar_chart
from chorus.domain.points_report import iso
from chorus.domain.scoring import Period
from chorus.errors import FieldProblem, InvalidInput
from chorus.web.console.overview import csv_response
from chorus.web.console.pages import console_page, session_id

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.rollup import CampaignFigure, CampaignRollup, ContentFigure, FunnelFigures
    from chorus.domain.scoring import Ranked
    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.console_reports import ConsoleReports, GroupParticipation

PERIOD_LABELS = {Period.MONTH: "This month", Period.QUARTER: "This quarter", Period.ALL: "All time"}
PARTICIPATION_COLUMNS = ("month", "group", "participants", "active_employees", "participation_percent")
ADVOCATE_COLUMNS = ("rank", "employee_id", "name", "points")
# Groups in the page's table; the CSV has every group of the snapshots.
GROUPS_ON_PAGE = 50
CAMPAIGN_COLUMNS = ("campaign", "items", *FUNNEL_COUNTERS, "points", "figures_as_of")
CONTENT_COLUMNS = ("rank", "content_id", "title", "campaign", *FUNNEL_COUNTERS, "figures_as_of")
# Campaigns in the page's table (the most approvals first); the CSV has every campaign rolled up.
CAMPAIGNS_ON_PAGE = 50
# The top content's rankings: the query's value -> the counter ranked by.
RANKINGS = {"approvals": "Approvals", "visits": "Visits"}
NO_CAMPAIGN = "(no campaign)"
# The funnel chart's short labels under its bars.
STEP_TICKS = {
    "sent": "Sent",
    "opened": "Opened",
    "approvals": "Approved",
    "publications": "Published",
    "visits": "Visits",
}


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


def ranking_of(value: str | None) -> str:
    ranking = value or "approvals"
    if ranking not in RANKINGS:
        raise InvalidInput("unknown ranking", [FieldProblem("rank", "is approvals or visits")])
    return ranking


def campaign_label(campaign: str) -> str:
    return campaign or NO_CAMPAIGN


def csv_row(first: dict[str, str | int], funnel: FunnelFigures, last: dict[str, str | int]) -> dict[str, str | int]:
    """A row's leading cells, its funnel's counters in the funnel's order, then its trailing cells."""
    return first | {name: int(getattr(funnel, name)) for name in FUNNEL_COUNTERS} | last


def campaign_rows(rollup: CampaignRollup | None) -> list[dict[str, str | int]]:
    if rollup is None:
        return []
    as_of = iso(rollup.computed_at)
    return [
        csv_row(
            {"campaign": campaign_label(row.campaign), "items": row.items},
            row.funnel,
            {"points": row.points, "figures_as_of": as_of},
        )
        for row in rollup.campaigns
    ]


def top_content(rollup: CampaignRollup | None, ranking: str) -> list[ContentFigure]:
    if rollup is None:
        return []
    return rollup.top_by_visits if ranking == "visits" else rollup.top_by_approvals


def content_rows(rollup: CampaignRollup | None, ranking: str) -> list[dict[str, str | int]]:
    if rollup is None:
        return []
    as_of = iso(rollup.computed_at)
    return [
        csv_row(
            {"rank": rank, "content_id": row.content_id, "title": row.title, "campaign": campaign_label(row.campaign)},
            row.funnel,
            {"figures_as_of": as_of},
        )
        for rank, row in enumerate(top_content(rollup, ranking), start=1)
    ]


def chosen_campaign(rollup: CampaignRollup | None, value: str | None) -> CampaignFigure | None:
    """The campaign whose funnel the chart shows: the one asked for (by its label), else the one
    with the most approvals."""
    if rollup is None or not rollup.campaigns:
        return None
    if value is None:
        return rollup.campaigns[0]
    found = next((row for row in rollup.campaigns if campaign_label(row.campaign) == value), None)
    if found is None:
        raise InvalidInput("unknown campaign", [FieldProblem("campaign", "has no funnel rolled up")])
    return found


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
        rollup = reports.campaigns()
        campaign = chosen_campaign(rollup, param("campaign"))
        ranking = ranking_of(param("rank"))
        ranked = top_content(rollup, ranking)
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
            rollup=rollup,
            shown_campaigns=rollup.campaigns[:CAMPAIGNS_ON_PAGE] if rollup else [],
            campaign=campaign,
            campaign_label=campaign_label,
            campaign_chart=bar_chart(
                [(STEP_LABELS[name], getattr(campaign.funnel, name)) for name in FUNNEL_COUNTERS],
                ticks=[STEP_TICKS[name] for name in FUNNEL_COUNTERS],
            )
            if campaign
            else None,
            ranking=ranking,
            rankings=RANKINGS,
            ranked=ranked,
            ranked_chart=bar_chart(
                [(f"{rank}. {row.title}", getattr(row.funnel, ranking)) for rank, row in enumerate(ranked, start=1)],
                ticks=[str(rank) for rank in range(1, len(ranked) + 1)],
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

    rollup_csv_routes(router, auth, reports)
    return router


def rollup_csv_routes(router: APIGatewayHttpRouter, auth: ConsoleAuth, reports: ConsoleReports) -> None:
    """The funnel per campaign and the top content as CSV: the roll-up's rows, nothing recounted."""

    def param(name: str) -> str | None:
        return (router.current_event.query_string_parameters or {}).get(name)

    @router.route("/reports/campaigns.csv", method=["GET", "HEAD"])
    def campaigns_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        return csv_response(CAMPAIGN_COLUMNS, campaign_rows(reports.campaigns()), "chorus-funnel-per-campaign.csv")

    @router.route("/reports/content.csv", method=["GET", "HEAD"])
    def content_csv() -> Response[str]:
        auth.current(session_id(router.current_event))
        ranking = ranking_of(param("rank"))
        return csv_response(
            CONTENT_COLUMNS, content_rows(reports.campaigns(), ranking), f"chorus-top-content-by-{ranking}.csv"
        )
