"""Quarter-hour schedule (start the waves due) or a plan-queue message (plan one roster page)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import digest_pages, prime_digest_planner, snapstart
from chorus.observability import logger, traced

snapstart(prime_digest_planner)


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return digest_pages().handle(event, context)
