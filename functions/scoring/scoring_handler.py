"""DynamoDB stream (approvals and clicks only) -> points, exactly once per source event."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import prime_scoring, score_stream, snapstart
from chorus.observability import logger, traced
from chorus.snapstart import answers_keep_active

snapstart(prime_scoring)


@logger.inject_lambda_context(clear_state=True)
@traced
@answers_keep_active
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return score_stream().handle(event, context)
