"""DynamoDB stream (employees whose ``active`` went true -> false) -> withdraw their posts and tokens."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import deactivations, prime_lifecycle, snapstart
from chorus.observability import logger, traced
from chorus.snapstart import answers_keep_active

snapstart(prime_lifecycle)


@logger.inject_lambda_context(clear_state=True)
@traced
@answers_keep_active
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deactivations().handle(event, context)
