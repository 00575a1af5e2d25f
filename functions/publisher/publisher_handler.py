"""EventBridge Scheduler (one-time, per approved post) -> publish that approval once."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import publish_service
from chorus.observability import logger
from chorus.services.publish import PublishTarget


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    outcome = publish_service().publish(PublishTarget.model_validate(event["approval"]))
    return {"outcome": outcome.value}
