"""/admin/digests: send this week's digest now, to everyone at once (the quarter-hour schedule sends
it in each employee's morning), and see a week's run: how many digests were sent, skipped (the
employee already had it) or failed."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from chorus import clock
from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.digest import DigestPlanner

_WEEK_ID = re.compile(r"^\d{4}-W\d{2}$")


def digests_router(planner: DigestPlanner) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.post("")
    def send_now() -> Response[str]:
        summary = planner.start(clock.now(), uuid.uuid4().hex)
        admin = router.context.get("admin_subject")
        logger.info("digest requested", admin=admin, week_id=summary.week_id, run_id=summary.run_id)
        # 202: the roster is planned and sent in the background; the answer says what is known now.
        return json_response(202, summary.as_json())

    @router.get("")
    def week() -> Response[str]:
        week_id = router.current_event.get_query_string_value("week", "") or None
        if week_id is not None and not _WEEK_ID.match(week_id):
            raise InvalidInput("bad week", [FieldProblem("week", "an ISO week such as 2026-W48")])
        return json_response(200, planner.week(clock.now(), week_id).as_json())

    return router
