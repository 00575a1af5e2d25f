"""/assets/{name}: the page's stylesheet and scripts (served by us so the CSP can say 'self').

`lengths.js` is generated from `chorus.domain.lengths`: the patterns and weights the counters in
`chorus.js` use are the server's own. `brand.css` sets the company's accent colour (a CSS custom
property, in a stylesheet of ours since the CSP allows no inline style).
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import TYPE_CHECKING

from chorus.domain.branding import Brand
from chorus.domain.lengths import page_patterns
from chorus.errors import NotFound

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

ASSETS = {
    "chorus.css": "text/css; charset=utf-8",
    "chorus.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "console-upload.js": "text/javascript; charset=utf-8",
    "lengths.js": "text/javascript; charset=utf-8",
    "brand.css": "text/css; charset=utf-8",
}


def asset_body(name: str, brand: Brand | None = None) -> str:
    if name == "brand.css":
        # Validated #rrggbb, darkened to a 4.5:1 contrast on white (chorus.domain.branding).
        return f":root {{ --accent: {(brand or Brand()).accent_readable}; }}\n"
    if name == "lengths.js":
        return f"window.CHORUS_LENGTHS = {json.dumps(page_patterns(), separators=(',', ':'))};\n"
    return files("chorus.web").joinpath("assets", name).read_text(encoding="utf-8")


def assets_router(brand: Brand | None = None) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.route("/assets/<name>", method=["GET", "HEAD"])
    def asset(name: str) -> Response[str]:
        if name not in ASSETS:
            raise NotFound("no such asset")
        body = asset_body(name, brand)
        return Response(
            status_code=200,
            content_type=ASSETS[name],
            body=body,
            headers={"Cache-Control": "public, max-age=3600"},
        )

    return router
