"""SES bounce and complaint events (EventBridge) -> the employee is suppressed, once."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import email_feedback, prime_email_feedback, snapstart
from chorus.observability import logger, traced
from chorus.snapstart import answers_keep_active

snapstart(prime_email_feedback)


@logger.inject_lambda_context(clear_state=True)
@traced
@answers_keep_active
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return email_feedback().handle(event)
