"""Weekly schedule (or POST /admin/digests) -> plan this week's digests and queue them."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus import clock
from chorus.bootstrap import digest_planner
from chorus.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return digest_planner().plan(clock.now()).as_json()
