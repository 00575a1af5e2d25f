"""The consent ledger's retention (daily): approvals and declines older than the retention period
are pseudonymised, as an erasure would (the proof of consent stays, the words go).

Each approval or decline leaves a pointer under the day it was decided; the job goes through the
days older than the retention period that it has not done yet (a cursor records the last one),
pseudonymises what each pointer names and drops the pointer. Records decided before pointers
existed get theirs from a one-off Scan, page by page across runs (its position is saved after
each page), before any day is gone through. Safe to run twice or at once: each record is
pseudonymised on condition it was not already and was decided before the cutoff, and the cursor
only moves forward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from chorus import clock
from chorus.domain.privacy import ledger_days
from chorus.observability import logger
from chorus.store.privacy import Backfill

# Days one run goes through at most (the first run after a shorter retention was deployed may
# face years of them; the next runs carry on).
MAX_DAYS_PER_RUN = 400
# Scan pages (up to 1 MB each) the one-off backfill reads per run; the next run carries on.
MAX_BACKFILL_PAGES = 300


class LedgerRecords(Protocol):
    def backfill_position(self) -> Backfill: ...
    def save_backfill_position(self, backfill: Backfill, now: datetime) -> None: ...
    def decided_records(
        self, start: dict[str, Any] | None
    ) -> tuple[list[tuple[date, str, str]], dict[str, Any] | None]: ...
    def add_pointers(self, records: list[tuple[date, str, str]]) -> None: ...
    def ledger_cursor(self) -> date | None: ...
    def advance_ledger_cursor(self, day: date, now: datetime) -> None: ...
    def ledger_pointers(self, day: date) -> list[tuple[str, str, str]]: ...
    def pseudonymise_record(self, pk: str, sk: str, now: datetime, *, decided_before: str) -> bool: ...
    def drop_pointer(self, day: date, pointer: str) -> None: ...


@dataclass(frozen=True)
class RetentionRun:
    backfilled: int
    backfill_done: bool
    days: int
    pseudonymised: int
    last_day: str | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class LedgerRetention:
    def __init__(
        self,
        records: LedgerRecords,
        *,
        retention: timedelta,
        now: Callable[[], datetime] = clock.now,
        max_days: int = MAX_DAYS_PER_RUN,
        max_backfill_pages: int = MAX_BACKFILL_PAGES,
    ) -> None:
        self._records = records
        self._retention = retention
        self._now = now
        self._max_days = max_days
        self._max_backfill_pages = max_backfill_pages

    def run(self) -> RetentionRun:
        now = self._now()
        cutoff = (now - self._retention).date()
        backfilled, backfill = self._backfill(cutoff, now)
        days: list[date] = []
        pseudonymised = 0
        if backfill.done:
            cursor = self._records.ledger_cursor()
            days = ledger_days(cursor, cutoff, self._max_days) if cursor else []
            before = cutoff.isoformat()
            for day in days:
                for pointer, pk, sk in self._records.ledger_pointers(day):
                    if self._records.pseudonymise_record(pk, sk, now, decided_before=before):
                        pseudonymised += 1
                    self._records.drop_pointer(day, pointer)
                self._records.advance_ledger_cursor(day, now)
        run = RetentionRun(backfilled, backfill.done, len(days), pseudonymised, days[-1].isoformat() if days else None)
        logger.info(
            "ledger retention",
            backfilled=backfilled,
            backfill_done=backfill.done,
            days=run.days,
            pseudonymised=pseudonymised,
            last_day=run.last_day,
        )
        return run

    def _backfill(self, cutoff: date, now: datetime) -> tuple[int, Backfill]:
        """Pointers for the records from before pointers existed; once done, the cursor starts the
        day before the earliest of them (or before the cutoff, if there were none)."""
        backfill = self._records.backfill_position()
        added = 0
        for _ in range(self._max_backfill_pages):
            if backfill.done:
                break
            found, following = self._records.decided_records(backfill.start)
            self._records.add_pointers(found)
            added += len(found)
            seen = [day for day, _, _ in found] + ([backfill.earliest] if backfill.earliest else [])
            earliest = min(seen, default=None)
            backfill = Backfill(done=following is None, start=following, earliest=earliest)
            if backfill.done:
                first = min(earliest, cutoff) if earliest else cutoff
                self._records.advance_ledger_cursor(first - timedelta(days=1), now)
            self._records.save_backfill_position(backfill, now)
        return added, backfill
