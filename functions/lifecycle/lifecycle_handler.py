"""DynamoDB stream (employees whose ``active`` went true -> false) -> withdraw their posts and tokens."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import deactivations
from chorus.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deactivations().handle(event, context)
