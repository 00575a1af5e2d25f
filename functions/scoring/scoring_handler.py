"""DynamoDB stream (approvals and clicks only) -> points, exactly once per source event."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import score_stream
from chorus.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return score_stream().handle(event, context)
