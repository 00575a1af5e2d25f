"""The consent ledger for an auditor: every approval of one search (an employee's, found by
address or id, or a content item's), or every approval decided in a range of UTC days, as CSV and
JSON Lines (domain/exports.py says what a row holds and why).

A range is read day by day from the ledger's day pointers (one Query page and one BatchGetItem
per 100 approvals; never a Scan). The retention job drops a day's pointers as it pseudonymises
the records, so a range covers the approvals still whole (LEDGER_RETENTION_DAYS); older ones,
whose text is gone anyway, are found by employee or content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import IO, Any

from chorus.domain.exports import LEDGER_COLUMNS, LedgerCriteria, RowWriter, export_targets, ledger_row
from chorus.domain.ledger import LedgerEntry
from chorus.domain.listing import Page
from chorus.domain.points_report import Export, ExportKind
from chorus.services.ledger import ConsentLedger

# Approvals per page: BatchGetItem takes 100 keys a call.
PAGE = 100


class LedgerExport:
    def __init__(self, ledger: ConsentLedger) -> None:
        self._ledger = ledger

    def targets(self, export: Export) -> dict[str, tuple[str, str, str]]:
        criteria = LedgerCriteria.model_validate(export.criteria)
        if criteria.first_day is not None:
            stem = f"{criteria.first_day}-to-{criteria.last_day}"
        else:
            stem = f"{criteria.by}-{export.requested_at:%Y-%m-%d}"
        return export_targets(ExportKind.LEDGER, export.export_id, stem)

    def write(self, export: Export, csv_out: IO[str], json_out: IO[str]) -> int:
        writer = RowWriter(LEDGER_COLUMNS, csv_out, json_out)
        for entry in self.entries(LedgerCriteria.model_validate(export.criteria)):
            writer.row(ledger_row(entry))
        return writer.rows

    def entries(self, criteria: LedgerCriteria) -> Iterator[LedgerEntry]:
        search = criteria.search
        if search is not None:
            yield from _all_pages(partial(self._ledger.search, search, PAGE))
            return
        for day in criteria.days():
            yield from _all_pages(partial(self._ledger.decided_on, day, PAGE))


def _all_pages(read: Callable[[dict[str, Any] | None], Page[LedgerEntry]]) -> Iterator[LedgerEntry]:
    start: dict[str, Any] | None = None
    while True:
        page = read(start)
        yield from page.items
        if not page.next_token:
            return
        start = page.next_token
