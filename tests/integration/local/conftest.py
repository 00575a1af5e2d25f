"""A local cloud per test module, in-process, on ephemeral ports.

Module-scoped: a module may move its cloud's clock weeks ahead without touching another's, and
each cloud is stopped (threads joined, moto reset) as soon as its tests are done, so its pollers
never run on into other tests' moto state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chorus_local.cloud import CloudConfig, LocalCloud
from tests.support.local_cloud import clear_runtime_caches

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    config = CloudConfig(
        root=ROOT,
        state_dir=tmp_path_factory.mktemp("chorus-local"),
        api_port=0,
        aws_port=0,
        poll_interval=0.2,
        retry_delay=0.0,
    )
    clear_runtime_caches()
    local = LocalCloud(config)
    local.start()
    try:
        yield local
    finally:
        local.stop()
        clear_runtime_caches()


@pytest.fixture
def local_cloud(cloud: LocalCloud) -> Iterator[LocalCloud]:
    """The module's cloud, with handler overrides removed after each test."""
    yield cloud
    cloud.invoker.wait_idle(30)
    for logical_id in cloud.functions:
        cloud.override_handler(logical_id, None)
