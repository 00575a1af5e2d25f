"""SQS digest batches -> one email per recipient per week; failed messages are retried alone."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import digest_batches
from chorus.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return digest_batches().handle(event, context)
