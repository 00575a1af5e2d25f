"""The one place that builds the logger, tracer and metrics every function shares.

Service name, log level, metrics namespace and whether tracing is on come from the standard
Powertools environment variables set in template.yaml (the Tracing parameter; the local cloud
never traces), read by Powertools' own functions, so nothing here parses settings itself.

- ``logger``: structured JSON logs.
- ``count``: CloudWatch metrics as EMF lines on stdout, which CloudWatch Logs turns into metrics
  (no API call, nothing to wait for); the dashboard in template.yaml shows them.
- ``traced``: X-Ray traces of each invocation and of its AWS and HTTP calls (Powertools patches
  botocore and requests), when tracing is on; when it is off, no Tracer is made at all (making
  one loads the X-Ray SDK, which builds its own botocore session and client: about a third of a
  cold start, bench/cold_start.py).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="chorus")

# requests-oauthlib and oauthlib log whole token responses (access and refresh tokens) at DEBUG:
# whatever level a function runs at (POWERTOOLS_LOG_LEVEL=DEBUG while investigating), they never do.
OAUTH_LOGGERS = ("requests_oauthlib", "oauthlib")
for _name in OAUTH_LOGGERS:
    logging.getLogger(_name).setLevel(logging.WARNING)

# The metrics Chorus records (CloudWatch namespace POWERTOOLS_METRICS_NAMESPACE, dimension
# "service" plus the ones named here). The dashboard and any alarm name them as written here.
DIGESTS_SENT = "DigestsSent"
DIGESTS_SKIPPED = "DigestsSkipped"  # the employee already had this week's digest
DIGESTS_FAILED = "DigestsFailed"
APPROVALS = "Approvals"  # dimension: network
PUBLICATIONS = "Publications"  # dimensions: network, outcome
PUBLISH_FAILURES = "PublishFailures"  # dimensions: network, kind


def count(counts: Mapping[str, int], **dimensions: str) -> None:
    """Counts that share their dimensions, written at once as one EMF line: counts of one
    invocation never carry dimensions that are not theirs (each approval its own network)."""
    metrics = EphemeralMetrics()
    if metrics.namespace is None:
        # Never in a deployed function (the template sets it, a test checks); a script or
        # benchmark running the services without it loses the metric, not the action.
        logger.warning("metrics not recorded: POWERTOOLS_METRICS_NAMESPACE is not set", metrics=sorted(counts))
        return
    for dimension, label in dimensions.items():
        metrics.add_dimension(name=dimension, value=label)
    for metric, value in counts.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics()


@functools.cache
def tracer() -> Tracer:
    """Made on first use, and only when tracing is on (``traced``)."""
    from aws_lambda_powertools import Tracer

    return Tracer()


def tracing_on() -> bool:
    """POWERTOOLS_TRACE_DISABLED, as Powertools' Tracer itself reads it."""
    import os

    from aws_lambda_powertools.shared import constants
    from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

    return not resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false"))


def traced[E, R](handler: Callable[[E, LambdaContext], R]) -> Callable[[E, LambdaContext], R]:
    """Powertools' ``capture_lambda_handler`` around a handler (made on the first invocation),
    without the handler's response in the trace: it may hold personal data."""
    captured: Callable[[E, LambdaContext], R] | None = None

    @functools.wraps(handler)
    def invoke(event: E, context: LambdaContext) -> R:
        nonlocal captured
        if captured is None:
            captured = tracer().capture_lambda_handler(handler, capture_response=False) if tracing_on() else handler
        return captured(event, context)

    return invoke
