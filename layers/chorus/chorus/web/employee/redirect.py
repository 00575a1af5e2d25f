"""/r/{code}: the tracked link a shared post carries. Always a redirect to the stored target or a 404."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.errors import NotFound
from chorus.web.pages import PAGE_HEADERS, page

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.clicks import ClickService

REDIRECT_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def redirect_router(clicks: ClickService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.route("/r/<code>", method=["GET", "HEAD"])
    def follow(code: str) -> Response[str]:
        event = router.current_event
        http = event.request_context.http
        headers = event.headers or {}
        try:
            # The client IP is the one API Gateway saw; X-Forwarded-For is the client's to forge.
            location = clicks.follow(
                code,
                method=http.method,
                ip=http.source_ip,
                user_agent=headers.get("user-agent") or "",
                headers=headers,
            )
        except NotFound:
            response = page(
                404,
                "pages/message.html.j2",
                "en",
                heading="Link not found",
                message="This link does not exist.",
                me_link=None,
            )
            response.headers.update(PAGE_HEADERS)
            return response
        return Response(status_code=302, body="", headers={"Location": location, **REDIRECT_HEADERS})

    return router
