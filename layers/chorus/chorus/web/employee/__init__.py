"""Employee pages behind magic links: the activity page, /me, unsubscribe, static assets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chorus.web.employee.activity import activity_router
from chorus.web.employee.assets import assets_router
from chorus.web.employee.me import me_router
from chorus.web.employee.unsubscribe import unsubscribe_router
from chorus.web.pages import register_page_errors, same_origin_only, security_headers

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from chorus.services.consent import ConsentService


@dataclass(frozen=True)
class EmployeePagesConfig:
    sharing_policy: str


def build_employee_app(consent: ConsentService, config: EmployeePagesConfig) -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    app = APIGatewayHttpResolver()
    app.use(middlewares=[security_headers, same_origin_only])
    app.include_router(activity_router(consent, config.sharing_policy))
    app.include_router(me_router(consent))
    app.include_router(unsubscribe_router(consent))
    app.include_router(assets_router())
    register_page_errors(app)
    return app
