"""HTTP API /admin/* (behind the JWT authorizer) -> admin routers."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import admin_app, prime_admin, snapstart
from chorus.observability import logger, traced

snapstart(prime_admin)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return admin_app().resolve(event, context)
