"""The one place that builds the logger, tracer and metrics every function shares.

Service name and log level come from the standard Powertools environment variables set in
template.yaml, so nothing here reads settings itself.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="chorus")
