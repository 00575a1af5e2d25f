"""Points reports for admins: what they hold, how large a synchronous answer may grow, the files.

A report lists participation, approvals, publications, visits and points per campaign, group and
employee. The per-employee part grows with the company (1.39 MB at 10,000 employees): it is
only ever written to files (CSV and JSON) by the report function and downloaded through a
presigned link. What the API answers directly (the summary, the team board) is bounded by
``MAX_ROWS`` rows per dimension, far under Lambda's 6 MB response limit.

Personal data: an employee row carries the pseudonymous employee id and the name (the admin
must recognise whom to thank or reward), never the email address; employees hidden from the
boards are counted in every total but not listed.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.scoring import Period

# Rows per dimension (campaigns, groups, teams) in a synchronous answer; files hold them all.
MAX_ROWS = 500
EXPORT_PREFIX = "exports/"
EXPORT_ID = re.compile(r"[0-9a-f]{32}")
CSV_COLUMNS = (
    "dimension",
    "name",
    "employee_id",
    "points",
    "approvals",
    "publications",
    "clicks",
    "participants",
    "members",
)
COUNTERS = ("points", "approvals", "publications", "clicks")


def report_period(period: Period) -> Period:
    """Counters are kept per month and all time: a quarter's report is its current month's."""
    return Period.ALL if period is Period.ALL else Period.MONTH


class ExportKind(StrEnum):
    """What an export holds: the points report, or (domain/exports.py) the consent ledger or the
    redemptions."""

    POINTS = "points"
    LEDGER = "ledger"
    REDEMPTIONS = "redemptions"


class ExportStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class ExportFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    bytes: int
    filename: str


class Export(BaseModel):
    """One requested report and, once produced, its files. A points report has its period; the
    other kinds have what they were asked for (``criteria``) instead. ``employees``: the rows
    written (employees in a points report)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    export_id: str
    kind: ExportKind = ExportKind.POINTS
    period: Period | None = None
    period_key: str | None = None
    criteria: dict[str, str] = Field(default_factory=dict)
    status: ExportStatus
    requested_at: datetime
    finished_at: datetime | None = None
    employees: int | None = None
    files: dict[str, ExportFile] = Field(default_factory=dict)


# The report queue delivers an export's message at most 3 times, each attempt given the queue's
# visibility timeout of 90 minutes (template.yaml ReportQueue; a test holds them together). An
# export still pending after all of them (and a margin for the queue's wait) was stopped without a
# word: a timeout or running out of memory raises nothing that could mark it failed.
ABANDONED_AFTER = timedelta(hours=5)


def as_seen(export: Export, now: datetime) -> Export:
    """The export as its status page tells it: one pending past every attempt has failed (the
    admin asks again), instead of "being produced" until its record expires a week later."""
    if export.status is ExportStatus.PENDING and now - export.requested_at > ABANDONED_AFTER:
        return export.model_copy(update={"status": ExportStatus.FAILED})
    return export


class ExportRequest(BaseModel):
    """The report function's queue message: the id (the record holds the rest) and which producer
    writes it; messages from before there were kinds are points reports."""

    model_config = ConfigDict(extra="forbid")

    export_id: str = Field(pattern=EXPORT_ID.pattern)
    kind: ExportKind = ExportKind.POINTS


class Census(BaseModel):
    """Active employees, overall and per group, counted from the roster by the report function
    (daily, and when a report needs one): the denominators of the team board and participation."""

    model_config = ConfigDict(frozen=True)

    counted_at: datetime
    active: int
    groups: dict[str, int]


def export_files(export_id: str, period_key: str) -> dict[str, tuple[str, str, str]]:
    """format -> (S3 key, content type, download file name)."""
    name = f"chorus-points-{period_key}"
    return {
        "csv": (f"{EXPORT_PREFIX}{export_id}/{name}.csv", "text/csv; charset=utf-8", f"{name}.csv"),
        "json": (f"{EXPORT_PREFIX}{export_id}/{name}.json", "application/json", f"{name}.json"),
    }


def spreadsheet_cell(value: object) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: such text is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} and not text.lstrip("-").isdigit() else text


def counter_row(name: str, row: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, **{counter: int(row.get(counter, 0)) for counter in COUNTERS}}


def rate(part: int, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


class ReportWriter:
    """Writes one report as CSV and JSON at the same time, an employee row at a time, so memory
    holds one page of the board whatever the company's size."""

    def __init__(self, csv_out: IO[str], json_out: IO[str]) -> None:
        self._csv = csv.writer(csv_out)
        self._json = json_out
        self._employees = 0

    @property
    def employees(self) -> int:
        return self._employees

    def begin(self, summary: dict[str, Any], campaigns: list[dict[str, Any]], groups: list[dict[str, Any]]) -> None:
        self._csv.writerow(CSV_COLUMNS)
        for row in campaigns:
            self._write_csv("campaign", row)
        for row in groups:
            self._write_csv("group", row)
        head = json.dumps({**summary, "campaigns": campaigns, "groups": groups}, ensure_ascii=False)
        self._json.write(head[:-1] + ', "employees": [')

    def employee(self, row: dict[str, Any]) -> None:
        self._write_csv("employee", row)
        self._json.write(("," if self._employees else "") + json.dumps(row, ensure_ascii=False))
        self._employees += 1

    def end(self) -> None:
        self._json.write("]}")

    def _write_csv(self, dimension: str, row: dict[str, Any]) -> None:
        self._csv.writerow([spreadsheet_cell(dimension), *(spreadsheet_cell(row.get(c)) for c in CSV_COLUMNS[1:])])


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
