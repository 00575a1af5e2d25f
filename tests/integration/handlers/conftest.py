from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus import bootstrap


@pytest.fixture(autouse=True)
def fresh_runtime(function_env) -> Iterator[None]:
    """Each test gets runtimes wired to its own moto backend (warm containers cache them)."""
    runtimes = (
        bootstrap.ingest_events,
        bootstrap.admin_app,
        bootstrap.web_app,
        bootstrap.digest_pages,
        bootstrap.digest_batches,
        bootstrap.publish_service,
        bootstrap.sweeper,
        bootstrap.score_stream,
        bootstrap.report_requests,
        bootstrap.deactivations,
        bootstrap.email_feedback,
        bootstrap.ledger_retention,
        bootstrap.slack_clicks,
        bootstrap.console_app,
    )
    for runtime in runtimes:
        runtime.cache_clear()
    yield
    for runtime in runtimes:
        runtime.cache_clear()
