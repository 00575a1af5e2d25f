"""/assets/{name}: the page's stylesheet and script (served by us so the CSP can say 'self')."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from chorus.errors import NotFound

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

ASSETS = {"chorus.css": "text/css; charset=utf-8", "chorus.js": "text/javascript; charset=utf-8"}


def assets_router() -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.route("/assets/<name>", method=["GET", "HEAD"])
    def asset(name: str) -> Response[str]:
        if name not in ASSETS:
            raise NotFound("no such asset")
        body = files("chorus.web").joinpath("assets", name).read_text(encoding="utf-8")
        return Response(
            status_code=200,
            content_type=ASSETS[name],
            body=body,
            headers={"Cache-Control": "public, max-age=3600"},
        )

    return router
