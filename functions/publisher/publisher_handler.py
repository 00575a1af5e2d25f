"""EventBridge Scheduler (one-time, per approved post) -> publish that approval once."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import scheduled_posts
from chorus.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return scheduled_posts().handle(event)
