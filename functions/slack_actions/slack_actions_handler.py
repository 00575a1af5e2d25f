"""SQS Slack clicks -> the one-click approval and the message replaced; failed messages retried alone."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import slack_clicks
from chorus.observability import logger, traced


# No event logging: a click carries its token and Slack's response URL.
@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return slack_clicks().handle(event, context)
