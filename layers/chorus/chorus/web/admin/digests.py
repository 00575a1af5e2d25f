"""/admin/digests: send this week's digest now (the weekly schedule does the same)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from chorus import clock
from chorus.observability import logger
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.digest import DigestPlanner


def digests_router(planner: DigestPlanner) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.post("")
    def send_now() -> Response[str]:
        summary = planner.plan(clock.now())
        logger.info("digest requested", admin=router.context.get("admin_subject"), week_id=summary.week_id)
        # 202: batches are queued; each email goes out at most once this week, whoever asks.
        return json_response(202, asdict(summary))

    return router
