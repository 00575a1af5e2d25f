"""The admin console (/console): sign-in with the admin API's OIDC issuer, then server-rendered
pages over the same services. Every page has the employee pages' security headers and CSP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chorus.web.console.overview import overview_router
from chorus.web.console.pages import register_console_errors
from chorus.web.console.review import review_router
from chorus.web.console.signin import signin_router
from chorus.web.employee.assets import assets_router
from chorus.web.employee.connect import CallbackBase
from chorus.web.pages import same_origin_only, security_headers

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.overview import OverviewService
    from chorus.services.review import ReviewService


@dataclass(frozen=True)
class ConsoleDependencies:
    auth: ConsoleAuth
    overview: OverviewService
    # Where the issuer sends the browser back: PublicBaseUrl, else the API's execute-api URL.
    callback_base: CallbackBase
    # The compliance review queue (ReviewEditedPosts; the page says when it is off).
    review: ReviewService
    review_on: bool = False


def build_console_app(deps: ConsoleDependencies) -> APIGatewayHttpResolver:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    app = APIGatewayHttpResolver()
    app.use(middlewares=[security_headers, same_origin_only])
    app.include_router(signin_router(deps.auth, deps.callback_base), prefix="/console")
    app.include_router(overview_router(deps.auth, deps.overview), prefix="/console")
    app.include_router(
        review_router(deps.auth, deps.review, deps.callback_base, enabled=deps.review_on), prefix="/console"
    )
    app.include_router(assets_router(), prefix="/console")
    register_console_errors(app)
    return app
