"""S3 ObjectCreated (uploads/content/, uploads/employees/) -> ingest, one report per upload."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import ingest_events
from chorus.observability import logger, traced


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    return ingest_events().handle(event, context)
