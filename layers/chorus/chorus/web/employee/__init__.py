"""Employee pages behind magic links: the activity page, /me, unsubscribe, static assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chorus.domain.branding import Brand
from chorus.web.employee.activity import activity_router
from chorus.web.employee.assets import assets_router
from chorus.web.employee.connect import CallbackBase, client_metadata_router, connect_router
from chorus.web.employee.me import me_router
from chorus.web.employee.redirect import redirect_router
from chorus.web.employee.unsubscribe import unsubscribe_router
from chorus.web.pages import branded, register_page_errors, same_origin_only, security_headers
from chorus.web.slack.interactions import slack_router

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from chorus.services.clicks import ClickService
    from chorus.services.connections import ConnectionsService
    from chorus.services.consent import ConsentService
    from chorus.services.data_export import DataExport
    from chorus.services.digest import DigestTimes
    from chorus.services.funnel import PageOpenings
    from chorus.services.rewards import RewardService
    from chorus.services.scoring import ScoringService
    from chorus.services.slack import ChannelChoice, SlackRequests


@dataclass(frozen=True)
class EmployeePagesConfig:
    sharing_policy: str
    # Where OAuth callbacks return: PublicBaseUrl, else the API's own URL in this region.
    public_base_url: str = ""
    region: str = ""
    brand: Brand = field(default_factory=Brand)


def build_employee_app(
    consent: ConsentService,
    connections: ConnectionsService,
    config: EmployeePagesConfig,
    *,
    clicks: ClickService,
    rewards: RewardService,
    scoring: ScoringService,
    exports: DataExport,
    digest_times: DigestTimes,
    openings: PageOpenings,
    slack: SlackRequests | None = None,
    channels: ChannelChoice | None = None,
) -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    app = APIGatewayHttpResolver()
    app.use(middlewares=[branded(config.brand), security_headers, same_origin_only])
    app.include_router(activity_router(consent, openings, config.sharing_policy, config.public_base_url))
    app.include_router(me_router(consent, scoring, rewards, exports, digest_times=digest_times, channels=channels))
    app.include_router(unsubscribe_router(consent))
    app.include_router(assets_router(config.brand))
    app.include_router(connect_router(consent, connections, CallbackBase(config.public_base_url, config.region)))
    app.include_router(client_metadata_router(connections))
    app.include_router(redirect_router(clicks))
    if slack is not None:
        app.include_router(slack_router(slack))
    register_page_errors(app)
    return app
