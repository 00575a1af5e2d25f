from __future__ import annotations

from collections.abc import Iterator

import pytest

from chorus import bootstrap


@pytest.fixture(autouse=True)
def fresh_runtime(function_env) -> Iterator[None]:
    """Each test gets runtimes wired to its own moto backend (warm containers cache them)."""
    bootstrap.ingest_runtime.cache_clear()
    bootstrap.admin_app.cache_clear()
    yield
    bootstrap.ingest_runtime.cache_clear()
    bootstrap.admin_app.cache_clear()
