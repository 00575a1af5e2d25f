"""Count AWS API calls per operation, through botocore's event hooks.

    with count_aws_calls() as calls:          # boto3's default session
        service.do_something()
    calls.total()                             # 42
    calls.by_operation()                      # Counter({"dynamodb.BatchWriteItem": 40, ...})
    calls.total("dynamodb")                   # only DynamoDB calls

A handler on ``before-call.*.*`` fires once per API call (not per HTTP retry), for plain clients,
paginators, waiters and boto3 resources alike, and also under moto's ``mock_aws`` (moto answers
at ``before-send``, which comes later).

botocore copies a session's event hooks into each client *when the client is created*, so:

* pass the ``boto3.Session`` / botocore session the code under test will create clients from
  (``count_aws_calls(session)``); with no argument boto3's default session is used;
* for clients that already exist, pass them too (``count_aws_calls(client)``) or call
  ``calls.watch(client)`` inside the block.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import boto3
import botocore.session

EVENT = "before-call.*.*"
PARAMS_EVENT = "provide-client-params.*.*"
_ids = itertools.count()


class _Emitter(Protocol):
    def register(self, event_name: str, handler: Any, unique_id: Any = ...) -> None: ...
    def unregister(self, event_name: str, handler: Any = ..., unique_id: Any = ...) -> Any: ...


class AwsCalls:
    """API calls seen while the counter was active, keyed ``"<service>.<Operation>"``."""

    def __init__(self, *, keep_requests: bool = False) -> None:
        self._calls: Counter[str] = Counter()
        self._keep_requests = keep_requests
        # (operation, API parameters) of every call, when keep_requests is set.
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._unique_id = f"bench-aws-calls-{next(_ids)}"
        self._emitters: list[_Emitter] = []

    # ------------------------------------------------------------------ reading
    def total(self, service: str | None = None) -> int:
        """All calls, or those of one service (``"dynamodb"``, ``"s3"``...)."""
        with self._lock:
            if service is None:
                return sum(self._calls.values())
            return sum(n for op, n in self._calls.items() if op.partition(".")[0] == service)

    def by_operation(self, service: str | None = None) -> Counter[str]:
        """``Counter({"dynamodb.BatchWriteItem": 3, ...})``, optionally for one service."""
        with self._lock:
            return Counter(
                {op: n for op, n in self._calls.items() if service is None or op.partition(".")[0] == service}
            )

    def by_service(self) -> Counter[str]:
        result: Counter[str] = Counter()
        for op, n in self.by_operation().items():
            result[op.partition(".")[0]] += n
        return result

    def count(self, operation: str) -> int:
        """Calls of one operation, e.g. ``count("dynamodb.BatchWriteItem")``."""
        with self._lock:
            return self._calls[operation]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self.requests.clear()

    def snapshot(self) -> Counter[str]:
        return self.by_operation()

    def format(self, indent: str = "  ", service: str | None = None) -> str:
        """A small table, one operation per line, most frequent first."""
        return format_counts(self.by_operation(service), indent)

    # ------------------------------------------------------------------ hooking
    def _on_call(self, model: Any, **_: Any) -> None:
        operation = f"{model.service_model.service_name}.{model.name}"
        with self._lock:
            self._calls[operation] += 1

    def _on_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = f"{model.service_model.service_name}.{model.name}"
        with self._lock:
            self.requests.append((operation, dict(params)))

    def watch(self, target: Any) -> None:
        """Count calls made through ``target``: a boto3/botocore session, client or resource."""
        emitter = _emitter_of(target)
        if any(e is emitter for e in self._emitters):
            return
        emitter.register(EVENT, self._on_call, unique_id=self._unique_id)
        if self._keep_requests:
            emitter.register(PARAMS_EVENT, self._on_params, unique_id=self._unique_id + "-params")
        self._emitters.append(emitter)

    def close(self) -> None:
        for emitter in self._emitters:
            emitter.unregister(EVENT, self._on_call, unique_id=self._unique_id)
            if self._keep_requests:
                emitter.unregister(PARAMS_EVENT, self._on_params, unique_id=self._unique_id + "-params")
        self._emitters.clear()


def format_counts(ops: Mapping[str, int], indent: str = "  ") -> str:
    """``{"dynamodb.GetItem": 3}`` as aligned lines plus a total, most frequent first."""
    if not ops:
        return f"{indent}(none)"
    width = max(len("total"), *(len(op) for op in ops))
    ordered = sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))
    lines = [f"{indent}{op:<{width}}  {n:>7,}" for op, n in ordered]
    lines.append(f"{indent}{'total':<{width}}  {sum(ops.values()):>7,}")
    return "\n".join(lines)


def _emitter_of(target: Any) -> _Emitter:
    if isinstance(target, boto3.Session):
        emitter: _Emitter = target._session.get_component("event_emitter")  # botocore session
        return emitter
    if isinstance(target, botocore.session.Session):
        emitter = target.get_component("event_emitter")
        return emitter
    meta = getattr(target, "meta", None)
    client = getattr(meta, "client", None)  # a boto3 resource (or a table/bucket object)
    if client is not None:
        return _emitter_of(client)
    events = getattr(meta, "events", None)  # a botocore client
    if events is not None:
        return events  # type: ignore[no-any-return]
    raise TypeError(f"cannot count AWS calls of {type(target).__name__}: pass a session, client or resource")


def default_session() -> boto3.Session:
    """boto3's default session (what ``boto3.client()`` uses), created if needed."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION


@contextmanager
def count_aws_calls(*targets: Any, keep_requests: bool = False) -> Iterator[AwsCalls]:
    """Count the AWS API calls made through ``targets`` (default: boto3's default session).

    With ``keep_requests=True`` the parameters of every call are kept in ``calls.requests``.
    """
    calls = AwsCalls(keep_requests=keep_requests)
    for target in targets or (default_session(),):
        calls.watch(target)
    try:
        yield calls
    finally:
        calls.close()
