"""POST /slack/interactions: Slack's request URL for button clicks.

Slack must have an answer within three seconds, so this only authenticates the request (the
signature over the exact bytes received, the timestamp, not seen before), queues the click and
answers 200 with an empty body; the Slack actions function does the rest. Anything Slack did not
sign, stale, altered or replayed is answered 401 and nothing is queued.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.slack import SlackRequestRejected
from chorus.observability import logger
from chorus.web.pages import body_bytes

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from chorus.services.slack import SlackRequests

# A click's payload carries the whole message (up to 50 blocks of 3,000 characters, UTF-8 and
# percent-encoded): well under this, and a body beyond it is not Slack's.
MAX_BODY_BYTES = 1024 * 1024
PATH = "/slack/interactions"


def raw_body(event: APIGatewayProxyEventV2) -> bytes:
    """The body exactly as Slack sent it (the signature covers these bytes)."""
    return body_bytes(
        event,
        MAX_BODY_BYTES,
        too_large=SlackRequestRejected("request too large"),
        unreadable=SlackRequestRejected("unreadable body"),
    )


def slack_router(requests: SlackRequests) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.post(PATH)
    def interaction() -> Response[str]:
        event = router.current_event
        try:
            click = requests.accept(
                raw_body(event),
                event.headers.get("x-slack-request-timestamp") or "",
                event.headers.get("x-slack-signature") or "",
            )
        except SlackRequestRejected as error:
            logger.warning("Slack request refused", reason=error.message)
            return Response(status_code=401, content_type="text/plain", body="", headers={"Cache-Control": "no-store"})
        logger.info("Slack interaction accepted", queued=click is not None)
        return Response(status_code=200, content_type="text/plain", body="", headers={"Cache-Control": "no-store"})

    return router
