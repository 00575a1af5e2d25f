"""The content funnel's "opened the approval page" step.

Counted on a POST the page's own script sends (navigator.sendBeacon) once it has loaded, never on
the GET: a GET changes nothing, and mail scanners that prefetch every link in a digest would
otherwise count as employees. An employee counts once per item, however often they open it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from chorus import clock
from chorus.observability import logger

# The once-per-employee marker outlives any approval window; then TTL removes it.
OPENED_MARKER_LIFETIME = timedelta(days=400)


class OpenedMarks(Protocol):
    def mark_opened(self, content_id: str, employee_id: str, expires_at: int) -> bool: ...


class PageOpenings:
    def __init__(self, marks: OpenedMarks, *, now: Callable[[], datetime] = clock.now) -> None:
        self._marks = marks
        self._now = now

    def record(self, employee_id: str, content_id: str) -> bool:
        """True if this is the employee's first opening of the item's page (and it was counted)."""
        expires_at = int((self._now() + OPENED_MARKER_LIFETIME).timestamp())
        first = self._marks.mark_opened(content_id, employee_id, expires_at)
        if first:
            logger.info("approval page opened", employee_id=employee_id, content_id=content_id)
        return first
