"""The admin API: one resolver, a router per resource, admin-group check on every route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chorus.web.admin.alerts import OperatorAlerts, alerts_router
from chorus.web.admin.auth import require_admin
from chorus.web.admin.content import ContentCatalog, content_router
from chorus.web.admin.digests import digests_router
from chorus.web.admin.employees import employees_router
from chorus.web.admin.ledger_exports import ledger_exports_router
from chorus.web.admin.rewards import rewards_router
from chorus.web.admin.scores import scores_router
from chorus.web.admin.uploads import UploadObjects, uploads_router
from chorus.web.http_errors import register_error_handlers

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from chorus.services.data_export import DataExport
    from chorus.services.digest import DigestPlanner
    from chorus.services.erasure import ErasureService
    from chorus.services.exports import ExportDesk
    from chorus.services.ingest import IngestService
    from chorus.services.ledger import ConsentLedger
    from chorus.services.lifecycle import LifecycleService
    from chorus.services.points_reports import PointsReportService
    from chorus.services.retraction import RetractionService
    from chorus.services.rewards import RewardService
    from chorus.services.scoring import ScoringService


@dataclass(frozen=True)
class AdminAccess:
    """Who may call the admin API: members of ``admin_group`` in the token's groups claim."""

    admin_group: str
    groups_claim: str
    # How the issuer separates groups in a string claim ("": the string is one group).
    groups_delimiter: str


@dataclass(frozen=True)
class AdminDependencies:
    access: AdminAccess
    upload_url_ttl_seconds: int
    catalog: ContentCatalog
    objects: UploadObjects
    ingest: IngestService
    retraction: RetractionService
    lifecycle: LifecycleService
    erasure: ErasureService
    exports: DataExport
    planner: DigestPlanner
    scoring: ScoringService
    reports: PointsReportService
    rewards: RewardService
    alerts: OperatorAlerts
    # The console's exports (consent ledger, redemptions), for scripts.
    export_desk: ExportDesk
    ledger: ConsentLedger


def build_admin_app(deps: AdminDependencies) -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    # Bodies are read into their pydantic models by the router (route parameters typed as models).
    app = APIGatewayHttpResolver(enable_validation=True)
    access = deps.access
    app.use(middlewares=[require_admin(access.admin_group, access.groups_claim, access.groups_delimiter)])
    app.include_router(content_router(deps.catalog, deps.ingest, deps.retraction), prefix="/admin/content")
    app.include_router(digests_router(deps.planner), prefix="/admin/digests")
    app.include_router(scores_router(deps.scoring, deps.reports), prefix="/admin")
    app.include_router(rewards_router(deps.rewards), prefix="/admin")
    app.include_router(ledger_exports_router(deps.export_desk, deps.ledger), prefix="/admin")
    app.include_router(
        employees_router(deps.ingest, deps.lifecycle, deps.erasure, deps.exports), prefix="/admin/employees"
    )
    app.include_router(uploads_router(deps.objects, deps.upload_url_ttl_seconds), prefix="/admin")
    app.include_router(alerts_router(deps.alerts), prefix="/admin/alerts")
    register_error_handlers(app)
    return app
