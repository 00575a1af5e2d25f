"""Exports other than the points report: the consent ledger for an auditor, and the redemptions to
hand over. Each is produced by the report function, like the points report (domain/points_report.py
``Export``): a record, a queue message naming it, and two files in S3 fetched by presigned links.

Both files hold the same rows. The CSV has one header line, UTF-8 without a byte order mark (as
the points report and the upload reports), and every text cell that a spreadsheet would run as a
formula (starting with = + - @, tab or carriage return) is prefixed with an apostrophe. The JSON
file is JSON Lines (one object a line, ``.jsonl``): it is streamed row by row like the CSV, a line
is a record an auditor's tool reads alone, and it holds every text exactly as recorded, so its
SHA-256 can be checked against the hash the ledger kept; the CSV shows the same text except that
neutralising apostrophe.

Personal data: a ledger row names the employee by their pseudonymous id only. An auditor checks
that each post was approved, as published, by its approver at that time: the id ties the rows of
one person together and to the roster, and the admin who must answer for one person looks them up
on the People page; names and addresses in a file that leaves the system would add nothing to that
proof. The redemptions export carries the name and address, because handing over a reward needs
them (the rewards page shows them too).
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from chorus.domain.ledger import LedgerEntry, LedgerSearch, SearchBy
from chorus.domain.points_report import EXPORT_PREFIX, ExportKind, spreadsheet_cell
from chorus.domain.rewards import RedemptionForAdmin
from chorus.errors import FieldProblem, InvalidInput

# A whole-ledger export reads its range day by day: a month at most per request, so that at a
# million employees its files fit the report function's temporary storage (README "Exports").
MAX_RANGE_DAYS = 31
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LedgerCriteria(BaseModel):
    """What a ledger export holds: one search (an employee's or a content item's approvals), or
    every approval decided in a range of UTC days (both ends included)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: SearchBy | None = None
    q: str | None = None
    first_day: date | None = None
    last_day: date | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        searched = self.by is not None and self.q is not None
        ranged = self.first_day is not None and self.last_day is not None
        if searched == ranged:
            raise ValueError("a ledger export is of a search or of a range of days")
        return self

    @classmethod
    def of_search(cls, search: LedgerSearch) -> LedgerCriteria:
        return cls(by=search.by, q=search.value)

    @classmethod
    def of_days(cls, first: str, last: str, today: date) -> LedgerCriteria:
        problems: list[FieldProblem] = []
        days: dict[str, date] = {}
        for field, raw in (("from", first.strip()), ("to", last.strip())):
            try:
                if not DAY.match(raw):
                    raise ValueError(raw)
                days[field] = date.fromisoformat(raw)
            except ValueError:
                problems.append(FieldProblem(field, "must be a day as YYYY-MM-DD"))
        if problems:
            raise InvalidInput("bad range", problems)
        start, end = days["from"], days["to"]
        if end < start:
            raise InvalidInput("bad range", [FieldProblem("to", "must not be before the first day")])
        if end > today:
            raise InvalidInput("bad range", [FieldProblem("to", "must not be after today (UTC)")])
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            reason = f"must be at most {MAX_RANGE_DAYS} days after the first"
            raise InvalidInput("bad range", [FieldProblem("to", reason)])
        return cls(first_day=start, last_day=end)

    @property
    def search(self) -> LedgerSearch | None:
        if self.by is None or self.q is None:
            return None
        return LedgerSearch(by=self.by, value=self.q)

    def days(self) -> list[date]:
        assert self.first_day is not None and self.last_day is not None
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]

    def describe(self) -> str:
        if self.search is not None:
            whose = "content" if self.by is SearchBy.CONTENT else "employee"
            return f"approvals of {whose} {self.q}"
        return f"approvals decided {self.first_day} to {self.last_day} (UTC)"

    def as_record(self) -> dict[str, str]:
        return {name: str(value) for name, value in self.model_dump(mode="json").items() if value is not None}


LEDGER_COLUMNS = (
    "approval_id",
    "employee_id",
    "content_id",
    "network",
    "revision",
    "text",
    "text_sha256",
    "snapshot_sha256",
    "link_url",
    "title",
    "approved_at_utc",
    "employee_timezone",
    "approved_at_local",
    "channel",
    "outcome",
    "publish_at_utc",
    "post_url",
    "cancelled_at_utc",
    "cancel_reason",
    "reviewed_at_utc",
    "reviewer",
    "review_outcome",
    "review_note",
    "pseudonymised_at_utc",
)

REDEMPTION_COLUMNS = (
    "redemption_id",
    "employee_id",
    "name",
    "email",
    "reward_id",
    "reward",
    "points",
    "status",
    "requested_at_utc",
    "fulfilled_at_utc",
)


def utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def ledger_row(entry: LedgerEntry) -> dict[str, Any]:
    """One approval as recorded: nothing is computed again from the text (the hashes are the
    ledger's), and what retention or erasure took is empty, with when it was taken."""
    approval = entry.approval
    local = entry.local_time
    return {
        "approval_id": approval.approval_id,
        "employee_id": approval.employee_id,
        "content_id": approval.content_id,
        "network": approval.network.value,
        "revision": approval.revision,
        "text": None if entry.pseudonymised_at else approval.text,
        "text_sha256": approval.text_sha256,
        "snapshot_sha256": approval.snapshot_sha256,
        "link_url": approval.link_url,
        "title": approval.title,
        "approved_at_utc": utc(approval.approved_at),
        "employee_timezone": None if entry.pseudonymised_at else approval.timezone,
        "approved_at_local": local.isoformat(timespec="seconds") if local else None,
        "channel": "slack" if approval.channel == "slack" else "page",
        "outcome": entry.outcome.value,
        "publish_at_utc": utc(approval.publish_at),
        "post_url": approval.external_post_url,
        "cancelled_at_utc": utc(approval.cancelled_at),
        "cancel_reason": approval.cancel_reason,
        "reviewed_at_utc": utc(approval.reviewed_at),
        "reviewer": approval.reviewer_name or approval.reviewer_subject,
        "review_outcome": approval.review_outcome,
        "review_note": approval.review_note,
        "pseudonymised_at_utc": utc(entry.pseudonymised_at),
    }


def redemption_row(item: RedemptionForAdmin) -> dict[str, Any]:
    redemption = item.redemption
    return {
        "redemption_id": redemption.redemption_id,
        "employee_id": redemption.employee_id,
        "name": item.contact.name,
        "email": item.contact.email,
        "reward_id": redemption.reward_id,
        "reward": redemption.reward_name,
        "points": redemption.cost,
        "status": redemption.status.value,
        "requested_at_utc": utc(redemption.requested_at),
        "fulfilled_at_utc": utc(redemption.fulfilled_at),
    }


# JSON leaves these raw in strings, but many line readers (Python's splitlines among them) end a
# line there: escaped, every record is one line for any reader, and decodes to the same text.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class RowWriter:
    """Writes the same rows as CSV and JSON Lines at once, a row at a time, so memory holds one
    page of rows whatever the export's size."""

    def __init__(self, columns: tuple[str, ...], csv_out: IO[str], json_out: IO[str]) -> None:
        self._columns = columns
        self._csv = csv.writer(csv_out)
        self._json = json_out
        self._rows = 0
        self._csv.writerow(columns)

    @property
    def rows(self) -> int:
        return self._rows

    def row(self, row: dict[str, Any]) -> None:
        self._csv.writerow([spreadsheet_cell(row.get(column)) for column in self._columns])
        line = json.dumps({column: row.get(column) for column in self._columns}, ensure_ascii=False)
        self._json.write(line.translate(_LINE_BREAKS) + "\n")
        self._rows += 1


def export_targets(kind: ExportKind, export_id: str, stem: str) -> dict[str, tuple[str, str, str]]:
    """format -> (S3 key, content type, download file name)."""
    name = f"chorus-{kind.value}-{stem}"
    return {
        "csv": (f"{EXPORT_PREFIX}{export_id}/{name}.csv", "text/csv; charset=utf-8", f"{name}.csv"),
        "json": (f"{EXPORT_PREFIX}{export_id}/{name}.jsonl", "application/jsonl; charset=utf-8", f"{name}.jsonl"),
    }
