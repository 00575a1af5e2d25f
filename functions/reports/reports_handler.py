"""SQS report requests -> report files in S3 (one export each); the daily schedule -> the census."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import prime_reports, report_requests, snapstart
from chorus.observability import logger, traced

snapstart(prime_reports)


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return report_requests().handle(event, context)
