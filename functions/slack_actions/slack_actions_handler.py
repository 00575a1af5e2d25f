"""SQS Slack clicks -> the one-click approval and the message replaced; failed messages retried alone."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import prime_slack_actions, slack_clicks, snapstart
from chorus.observability import logger, traced
from chorus.snapstart import answers_keep_active

snapstart(prime_slack_actions)


# No event logging: a click carries its token and Slack's response URL.
@logger.inject_lambda_context(clear_state=True)
@traced
@answers_keep_active
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return slack_clicks().handle(event, context)
