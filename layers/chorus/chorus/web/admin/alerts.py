"""/admin/alerts: what only the operator can fix (e.g. LinkedIn retired the pinned API version),
with how often and since when it happened. Posts held up by it wait and are retried meanwhile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools.event_handler import Response

from chorus import clock
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from datetime import datetime

    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.alerts import OperatorAlert


class OperatorAlerts(Protocol):
    def active_alerts(self, now: datetime) -> list[OperatorAlert]: ...


def alerts_router(alerts: OperatorAlerts) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.get("")
    def active() -> Response[str]:
        listed = alerts.active_alerts(clock.now())
        return json_response(200, {"alerts": [alert.model_dump(mode="json") for alert in listed]})

    return router
