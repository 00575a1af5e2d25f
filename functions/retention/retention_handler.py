"""Every day: pseudonymise the consent records older than the ledger's retention (LedgerRetentionDays)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.bootstrap import ledger_retention, prime_retention, snapstart
from chorus.observability import logger, traced

snapstart(prime_retention)


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    return ledger_retention().run().to_dict()
