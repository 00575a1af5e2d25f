"""SQS digest batches -> one email per recipient per week; failed messages are retried alone."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import digest_batches, prime_digest_sender, snapstart
from chorus.observability import logger, traced
from chorus.snapstart import answers_keep_active

snapstart(prime_digest_sender)


@logger.inject_lambda_context(clear_state=True)
@traced
@answers_keep_active
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return digest_batches().handle(event, context)
