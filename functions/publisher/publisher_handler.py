"""A network's publish queue (or a schedule, directly) -> publish each due post once."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import prime_publisher, scheduled_posts, snapstart
from chorus.observability import logger, traced
from chorus.snapstart import answers_keep_active

snapstart(prime_publisher)


@logger.inject_lambda_context(clear_state=True)
@traced
@answers_keep_active
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return scheduled_posts().handle(event, context)
