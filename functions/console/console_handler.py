"""HTTP API /console and /console/* (no JWT authorizer: the console signs in itself) -> console routers."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import console_app, prime_console, snapstart
from chorus.observability import logger, traced

snapstart(prime_console)


# No correlation path and no event logging: the callback's query carries the issuer's code and
# the cookies carry the session.
@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return console_app().resolve(event, context)
