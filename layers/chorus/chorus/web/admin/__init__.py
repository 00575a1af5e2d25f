"""The admin API: one resolver, a router per resource, admin-group check on every route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chorus.web.admin.alerts import alerts_router
from chorus.web.admin.auth import require_admin
from chorus.web.admin.content import content_router
from chorus.web.admin.digests import digests_router
from chorus.web.admin.employees import employees_router
from chorus.web.admin.rewards import rewards_router
from chorus.web.admin.scores import scores_router
from chorus.web.admin.uploads import uploads_router
from chorus.web.http_errors import register_error_handlers

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from chorus.adapters.s3_objects import ObjectStore
    from chorus.config import AdminApiSettings
    from chorus.services.digest import DigestPlanner
    from chorus.services.ingest import IngestService
    from chorus.services.lifecycle import LifecycleService
    from chorus.services.points_reports import PointsReportService
    from chorus.services.retraction import RetractionService
    from chorus.services.rewards import RewardService
    from chorus.services.scoring import ScoringService
    from chorus.store.alerts import AlertStore
    from chorus.store.catalog import CatalogStore


@dataclass(frozen=True)
class AdminDependencies:
    settings: AdminApiSettings
    catalog: CatalogStore
    objects: ObjectStore
    ingest: IngestService
    retraction: RetractionService
    lifecycle: LifecycleService
    planner: DigestPlanner
    scoring: ScoringService
    reports: PointsReportService
    rewards: RewardService
    alerts: AlertStore


def build_admin_app(deps: AdminDependencies) -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    app = APIGatewayHttpResolver()
    settings = deps.settings
    app.use(middlewares=[require_admin(settings.admin_group, settings.groups_claim, settings.groups_delimiter)])
    app.include_router(content_router(deps.catalog, deps.ingest, deps.retraction), prefix="/admin/content")
    app.include_router(digests_router(deps.planner), prefix="/admin/digests")
    app.include_router(scores_router(deps.scoring, deps.reports), prefix="/admin")
    app.include_router(rewards_router(deps.rewards), prefix="/admin")
    app.include_router(employees_router(deps.ingest, deps.lifecycle), prefix="/admin/employees")
    app.include_router(uploads_router(deps.objects, deps.settings.upload_url_ttl_seconds), prefix="/admin")
    app.include_router(alerts_router(deps.alerts), prefix="/admin/alerts")
    register_error_handlers(app)
    return app
