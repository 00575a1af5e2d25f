"""Lambda SnapStart: work done once before the snapshot, uniqueness restored after each restore.

With SnapStart (template.yaml, the ``SnapStart`` parameter), Lambda initialises a function when a
version is published, runs its before-snapshot hooks, and snapshots the environment's memory;
every cold start then resumes that snapshot and runs the after-restore hooks before the first
event. The hooks come from ``snapshot_restore_py``, which exists only in Lambda's managed Python
runtime (3.12 and later; also on PyPI, but nothing here needs it installed): elsewhere
registering is a no-op. The runtime runs the hooks only when it initialises for a snapshot
(``AWS_LAMBDA_INITIALIZATION_TYPE`` is ``snap-start``; awslambdaric's bootstrap): without
SnapStart, or for ``$LATEST``, they are held and never run, and the cold start is what it was.

What a snapshot shares, and this module undoes after a restore: the state of ``random``'s global
generator, which every restored environment would otherwise continue identically (botocore's
retry jitter draws from it). Never made before a snapshot: secrets, ids, connections (the
priming in chorus.bootstrap makes clients but calls nothing). ``os.urandom``, ``secrets`` and
``uuid.uuid4`` read the kernel's generator, which AWS documents as staying unique across restores
("Handling uniqueness with Lambda SnapStart").

A SnapStart version not invoked for 14 days goes Inactive, and its next invocation fails while
Lambda snapshots it again. The functions no request or frequent schedule reaches get a daily
``KEEP_ACTIVE_EVENT`` through their alias (template.yaml, the ``KeepSnapshot`` schedules), which
their handler answers (``answers_keep_active``) before any work or AWS call.
"""

from __future__ import annotations

import functools
import importlib
import random
from collections.abc import Callable
from typing import Any, Final

# Lambda's runtime module; a name, so that mypy and the layer check look for no such package.
HOOKS_MODULE = "snapshot_restore_py"

# What a KeepSnapshot schedule sends (its Input in template.yaml): no trigger sends anything like it.
KEEP_ACTIVE_EVENT: Final[dict[str, str]] = {"chorus": "keep-snapshot"}
KEPT_ACTIVE: Final[dict[str, str]] = {"snapshot": "kept active"}


def register(prime: Callable[[], None]) -> bool:
    """Has ``prime`` run before the snapshot, and uniqueness restored after every restore.
    False where there is no snapshot to take (not in Lambda's managed runtime)."""
    try:
        hooks = importlib.import_module(HOOKS_MODULE)
    except ImportError:
        return False
    hooks.register_before_snapshot(prime)
    hooks.register_after_restore(restore_uniqueness)
    return True


def restore_uniqueness() -> None:
    # Seeded from os.urandom: each restored environment draws its own sequence.
    random.seed()


def answers_keep_active[C, R](
    handler: Callable[[dict[str, Any], C], R],
) -> Callable[[dict[str, Any], C], R | dict[str, str]]:
    """The handler, except that the keep-active event is answered at once: no work, no AWS call."""

    @functools.wraps(handler)
    def answer(event: dict[str, Any], context: C) -> R | dict[str, str]:
        if event == KEEP_ACTIVE_EVENT:
            return dict(KEPT_ACTIVE)
        return handler(event, context)

    return answer
