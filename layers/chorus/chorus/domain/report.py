"""The report every upload produces: what was kept, what was refused and why."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

# A report lists at most this many row errors; the counts stay exact beyond it.
MAX_LISTED_ERRORS = 1000
# A value quoted back in a reason is cut to this many characters.
MAX_ECHOED_CHARS = 40
# Characters shown as \uXXXX when a value is quoted back: controls, separators, bidirectional
# and invisible format characters, lone surrogates. A report is read in terminals (`chorus report`),
# browsers and spreadsheets; none of them should act on what an upload carried.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]")


def echo(value: str) -> str:
    """An uploaded value quoted in a reason: short, single-quoted, every unprintable character escaped."""
    shown = value if len(value) <= MAX_ECHOED_CHARS else value[:MAX_ECHOED_CHARS] + "…"
    return "'" + _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04X}", shown) + "'"


class UploadKind(StrEnum):
    CONTENT = "content"
    EMPLOYEES = "employees"


class ReportStatus(StrEnum):
    COMPLETED = "completed"  # every row kept
    PARTIAL = "partial"  # some rows kept, some refused
    REJECTED = "rejected"  # nothing kept


class RowError(BaseModel):
    line: int
    field: str | None = None
    reason: str


class Note(BaseModel):
    reason: str


class Counts(BaseModel):
    rows: int = 0
    accepted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class Limits(BaseModel):
    """What the reader accepted from this file; passing any of them is a reason in the report."""

    max_bytes: int
    max_rows: int
    max_columns: int
    max_cell_chars: int
    max_line_bytes: int
    max_nesting: int
    max_list_items: int
    max_listed_errors: int = MAX_LISTED_ERRORS


class IngestReport(BaseModel):
    key: str
    report_key: str
    kind: UploadKind
    format: str | None
    status: ReportStatus
    counts: Counts
    errors: list[RowError] = Field(default_factory=list)
    errors_truncated: bool = False
    file_errors: list[Note] = Field(default_factory=list)
    warnings: list[Note] = Field(default_factory=list)
    limits: Limits
    started_at: datetime
    finished_at: datetime


def report_key_for(upload_key: str) -> str:
    return f"reports/{upload_key}.json"
