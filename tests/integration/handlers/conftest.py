from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus import bootstrap


@pytest.fixture(autouse=True)
def fresh_runtime(function_env) -> Iterator[None]:
    """Each test gets runtimes wired to its own moto backend (warm containers cache them)."""
    runtimes = (
        bootstrap.ingest_runtime,
        bootstrap.admin_app,
        bootstrap.web_app,
        bootstrap.digest_planner,
        bootstrap.digest_sender_runtime,
        bootstrap.publish_service,
        bootstrap.scoring_runtime,
        bootstrap.report_runtime,
        bootstrap.email_feedback_runtime,
    )
    for runtime in runtimes:
        runtime.cache_clear()
    yield
    for runtime in runtimes:
        runtime.cache_clear()
