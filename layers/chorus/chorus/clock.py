"""The one clock: every function, page, store write and link expiry reads time through ``now()``.

In Lambda it is the system clock. The local cloud runs the same functions in its own process and
installs its virtual clock here (``install``), so ``chorus local tick`` moves pages, schedules,
link expiry and the sandbox feed together. Services take ``now`` as a parameter defaulting to
this module's ``now``, so tests inject a fixed clock without touching this one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_now() -> datetime:
    return datetime.now(UTC)


_source: Clock = system_now


def now() -> datetime:
    """The current time (aware, UTC) from the installed source."""
    return _source()


def timestamp() -> float:
    """``now()`` as Unix seconds, for adapters that read HTTP reset times."""
    return now().timestamp()


def install(source: Clock | None) -> None:
    """Makes ``source`` the clock of this process; ``None`` restores the system clock."""
    global _source  # noqa: PLW0603 - one clock per process is the point of this module
    _source = source or system_now
