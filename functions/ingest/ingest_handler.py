"""S3 ObjectCreated (uploads/content/, uploads/employees/) -> ingest, one report per upload."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import ingest_events, prime_ingest, snapstart
from chorus.observability import logger, traced
from chorus.snapstart import answers_keep_active

snapstart(prime_ingest)


@logger.inject_lambda_context(clear_state=True)
@traced
@answers_keep_active
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    return ingest_events().handle(event, context)
