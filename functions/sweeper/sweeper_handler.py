"""Every 10 minutes: hand overdue and stalled posts back to the publisher, remind and expire
social connections."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import prime_sweeper, snapstart, sweeper
from chorus.observability import logger, traced

snapstart(prime_sweeper)


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asdict(sweeper().sweep(lambda: context.get_remaining_time_in_millis() / 1000))
