"""A snapshot of moto's in-process backends, restored before each integration test.

Creating the tables, bucket, queue, secrets, key and identities the tests need takes about a
second through the API; copying them back from a snapshot takes about a millisecond. A restore
first empties every backend (whatever the previous test created, in any service or region, is
gone), then puts back copies of the snapshot, so each test starts from the same fresh account.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from moto.core.base_backend import BackendDict


def _copy_backend(backend: Any) -> Any:
    # An SQS queue guards its messages with a Condition, which cannot be copied: each copy
    # gets a new one. Every other backend the tests use copies as plain data.
    memo: dict[int, Any] = {id(queue._messages_lock): threading.Condition() for queue in _queues(backend)}
    return copy.deepcopy(backend, memo)


def _queues(backend: Any) -> list[Any]:
    queues = getattr(backend, "queues", None)
    return list(queues.values()) if isinstance(queues, dict) else []


@dataclass(frozen=True)
class _Saved:
    backends: BackendDict[Any]
    account_id: str
    region: str
    backend: Any


class MotoSnapshot:
    """Every backend moto holds at the time of ``take()``."""

    def __init__(self, saved: list[_Saved]) -> None:
        self._saved = saved

    @classmethod
    def take(cls) -> MotoSnapshot:
        saved = [
            _Saved(backends, account_id, region, _copy_backend(backend))
            for backends in list(BackendDict._instances)  # type: ignore[misc]
            for account_id, region, backend in backends.iter_backends()
        ]
        return cls(saved)

    def restore(self) -> None:
        BackendDict.reset()
        for item in self._saved:
            item.backends[item.account_id][item.region] = _copy_backend(item.backend)
