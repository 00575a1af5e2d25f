"""HTTP API employee pages (/a/{token}, /me, /unsubscribe, /assets) -> employee routers."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import prime_web, snapstart, web_app
from chorus.observability import logger, traced

snapstart(prime_web)


# No correlation path and no event logging: the path and query carry magic-link tokens.
@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web_app().resolve(event, context)
