"""Every 10 minutes: publish overdue approved posts, remind and expire social connections."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import sweeper
from chorus.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return asdict(sweeper().sweep())
