"""The admin console (/console): sign-in with the admin API's OIDC issuer, then server-rendered
pages over the same services. Every page has the employee pages' security headers and CSP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chorus.web.console.consent import consent_router
from chorus.web.console.content import content_router
from chorus.web.console.digest import digest_router
from chorus.web.console.exports import exports_router
from chorus.web.console.leaderboards import leaderboards_router
from chorus.web.console.overview import overview_router
from chorus.web.console.pages import register_console_errors
from chorus.web.console.people import people_router
from chorus.web.console.reports import reports_router
from chorus.web.console.review import review_router
from chorus.web.console.rewards import rewards_router
from chorus.web.console.signin import signin_router
from chorus.web.console.upload import upload_router
from chorus.web.employee.assets import assets_router
from chorus.web.employee.connect import CallbackBase
from chorus.web.pages import same_origin_only, security_headers

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.console_reports import ConsoleReports
    from chorus.services.content_library import ContentLibrary
    from chorus.services.digest import DigestPlanner, DigestPreviews
    from chorus.services.exports import ExportDesk
    from chorus.services.ledger import ConsentLedger
    from chorus.services.lifecycle import LifecycleService
    from chorus.services.overview import OverviewService
    from chorus.services.people import PeopleService
    from chorus.services.points_reports import PointsReportService
    from chorus.services.retraction import RetractionService
    from chorus.services.review import ReviewService
    from chorus.services.rewards import RewardService
    from chorus.services.scoring import ScoringService
    from chorus.services.uploads import UploadDesk


@dataclass(frozen=True)
class ConsoleDependencies:
    auth: ConsoleAuth
    overview: OverviewService
    rewards: RewardService
    ledger: ConsentLedger
    # Where the issuer sends the browser back: PublicBaseUrl, else the API's execute-api URL.
    callback_base: CallbackBase
    uploads: UploadDesk
    people: PeopleService
    # Deactivation: the service the admin API, the CLI and roster uploads use.
    lifecycle: LifecycleService
    reports: ConsoleReports
    # The content pages: the library and its funnels, and the admin API's retraction.
    content: ContentLibrary
    retraction: RetractionService
    # Digest: previews and test copies, and "send now" (the admin API's planner).
    digest_previews: DigestPreviews
    digest_planner: DigestPlanner
    # Leaderboards: the scorer's boards and the team board (the admin API's services).
    scoring: ScoringService
    points_reports: PointsReportService
    # The compliance review queue (ReviewEditedPosts; the page says when it is off).
    review: ReviewService
    # Exports (consent ledger, redemptions): requested here, produced by the report function.
    exports: ExportDesk
    review_on: bool = False


def build_console_app(deps: ConsoleDependencies) -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    app = APIGatewayHttpResolver()
    app.use(middlewares=[security_headers, same_origin_only])
    app.include_router(signin_router(deps.auth, deps.callback_base), prefix="/console")
    app.include_router(overview_router(deps.auth, deps.overview), prefix="/console")
    app.include_router(upload_router(deps.auth, deps.uploads, deps.callback_base), prefix="/console")
    app.include_router(people_router(deps.auth, deps.people, deps.lifecycle), prefix="/console")
    app.include_router(rewards_router(deps.auth, deps.rewards), prefix="/console")
    app.include_router(consent_router(deps.auth, deps.ledger), prefix="/console")
    app.include_router(reports_router(deps.auth, deps.reports), prefix="/console")
    app.include_router(content_router(deps.auth, deps.content, deps.retraction), prefix="/console")
    app.include_router(digest_router(deps.auth, deps.digest_previews, deps.digest_planner), prefix="/console")
    app.include_router(leaderboards_router(deps.auth, deps.scoring, deps.points_reports), prefix="/console")
    app.include_router(
        review_router(deps.auth, deps.review, deps.callback_base, enabled=deps.review_on), prefix="/console"
    )
    app.include_router(exports_router(deps.auth, deps.exports, deps.ledger), prefix="/console")
    app.include_router(assets_router(), prefix="/console")
    register_console_errors(app)
    return app
