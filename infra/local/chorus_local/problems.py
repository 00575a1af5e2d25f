"""What went wrong in the local cloud's own machinery, for ``/_local/health`` and ``chorus local status``.

Pollers and the clock run in background threads: an exception there reaches no caller, so each
one is recorded here (and logged) instead of vanishing. A function's own errors are not
problems of the cloud: they follow AWS's rules (retries, then the OnFailure destination). Only a
batch given up on after those retries is recorded, because its records are lost to the function.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from chorus import clock

KEEP = 50


@dataclass(frozen=True)
class Problem:
    at: str
    source: str
    error: str
    function: str | None = None


class Problems:
    def __init__(self, keep: int = KEEP) -> None:
        self._recent: deque[Problem] = deque(maxlen=keep)
        self._total = 0
        self._lock = threading.Lock()

    def record(self, source: str, error: str, function: str | None = None) -> None:
        problem = Problem(at=clock.now().isoformat(timespec="seconds"), source=source, error=error, function=function)
        with self._lock:
            self._recent.append(problem)
            self._total += 1

    @property
    def total(self) -> int:
        return self._total

    def recent(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(problem) for problem in self._recent]
