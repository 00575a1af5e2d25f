"""Ingestion: one use case for S3 uploads and admin API posts of content and roster files.

Rows are read as a stream, validated one by one, and upserted in groups, so a file of any
size within the limit uses bounded memory. A bad row is reported and skipped; the rest are
kept. The uploaded object is only ever read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol, cast

from pydantic import BaseModel, ValidationError

from chorus import clock
from chorus.domain.content import CONTENT_REQUIRED_COLUMNS, Content, ContentRow, content_columns
from chorus.domain.employee import EMPLOYEE_COLUMNS, EMPLOYEE_REQUIRED_COLUMNS, Employee, EmployeeRow
from chorus.domain.problems import field_problems
from chorus.domain.report import (
    MAX_LISTED_ERRORS,
    Counts,
    IngestReport,
    Limits,
    Note,
    ReportStatus,
    RowError,
    UploadKind,
    report_key_for,
)
from chorus.domain.tabular import ReadLimits, RowRejected, SourceRow, TabularReader, UploadFormat
from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger

# Rows validated before they are written as one group (a BatchGetItem reads 100 keys).
WRITE_GROUP_ROWS = 100

UPLOAD_PREFIXES = {
    "uploads/content/": UploadKind.CONTENT,
    "uploads/employees/": UploadKind.EMPLOYEES,
}


class UpsertBatch(Protocol):
    def add_contents(self, contents: Sequence[Content]) -> Sequence[str]: ...
    def add_employees(self, employees: Sequence[Employee]) -> Sequence[str]: ...


class Catalog(Protocol):
    def upsert_batch(self) -> AbstractContextManager[UpsertBatch]: ...


class Objects(Protocol):
    def open(self, key: str, version_id: str | None = None) -> _Opened: ...
    def put(self, key: str, data: bytes, content_type: str) -> None: ...


class _Opened(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def chunks(self) -> Iterator[bytes]: ...


class _UploadRow(Protocol):
    def problems(self) -> list[FieldProblem]: ...
    def to_entity(self) -> Content | Employee: ...


@dataclass(frozen=True)
class _Kind:
    row_model: type[BaseModel]
    # Read when a file is: the content columns follow the registered networks.
    columns: Callable[[], frozenset[str]]
    required: frozenset[str]
    identity_field: str
    identity_label: str


def kind_for_key(key: str) -> UploadKind | None:
    for prefix, kind in UPLOAD_PREFIXES.items():
        if key.startswith(prefix):
            return kind
    return None


class IngestService:
    def __init__(
        self, catalog: Catalog, objects: Objects, *, max_bytes: int, now: Callable[[], datetime] = clock.now
    ) -> None:
        self._now = now
        self._catalog = catalog
        self._objects = objects
        self._limits = ReadLimits(max_bytes=max_bytes)

    def ingest_object(self, key: str, version_id: str | None = None) -> IngestReport:
        """Ingests an object uploaded under uploads/content/ or uploads/employees/."""
        started = self._now()
        kind = kind_for_key(key)
        if kind is None:
            raise InvalidInput(f"{key} is not under {' or '.join(UPLOAD_PREFIXES)}")
        fmt = UploadFormat.for_name(key)
        if fmt is None:
            report = self._refused(key, kind, None, started, _UNKNOWN_FORMAT)
        else:
            stored = self._objects.open(key, version_id)
            if stored.size > self._limits.max_bytes:
                report = self._refused(key, kind, fmt, started, self._too_large(stored.size))
            else:
                report = self._ingest(key, kind, fmt, stored.chunks, started)
        self._save(report)
        return report

    def ingest_payload(self, kind: UploadKind, fmt: UploadFormat, body: bytes, key: str) -> IngestReport:
        """Ingests a body posted to the admin API; the body is kept at ``key`` for the record."""
        started = self._now()
        if len(body) > self._limits.max_bytes:
            report = self._refused(key, kind, fmt, started, self._too_large(len(body)))
        else:
            self._objects.put(key, body, _CONTENT_TYPES[fmt])
            report = self._ingest(key, kind, fmt, iter([body]), started)
        self._save(report)
        return report

    # ------------------------------------------------------------------ internals
    def _ingest(
        self, key: str, kind: UploadKind, fmt: UploadFormat, chunks: Iterable[bytes], started: datetime
    ) -> IngestReport:
        spec = _KINDS[kind]
        reader = TabularReader(
            chunks,
            fmt,
            known_columns=spec.columns(),
            required_columns=spec.required,
            limits=self._limits,
        )
        counts = Counts()
        errors: list[RowError] = []
        first_line_of: dict[str, int] = {}
        group: list[Content | Employee] = []

        def reject(line: int, problems: Iterable[tuple[str | None, str]]) -> None:
            counts.rejected += 1
            for field, reason in problems:
                if len(errors) > MAX_LISTED_ERRORS:
                    break  # one past the cap is kept, to mark the report truncated
                errors.append(RowError(line=line, field=field, reason=reason))

        def flush(batch: UpsertBatch) -> None:
            if not group:
                return
            if kind is UploadKind.CONTENT:
                results = batch.add_contents([item for item in group if isinstance(item, Content)])
            else:
                results = batch.add_employees([item for item in group if isinstance(item, Employee)])
            for result in results:
                setattr(counts, str(result), getattr(counts, str(result)) + 1)
            group.clear()

        with self._catalog.upsert_batch() as batch:
            for row in reader:
                counts.rows += 1
                if isinstance(row, RowRejected):
                    reject(row.line, [(row.field, row.reason)])
                    continue
                entity = _entity(spec, row)
                if isinstance(entity, list):
                    reject(row.line, [(problem.field, problem.reason) for problem in entity])
                    continue
                identity = entity.content_id if isinstance(entity, Content) else entity.employee_id
                if identity in first_line_of:
                    duplicate = (
                        f"duplicate of line {first_line_of[identity]} (same {spec.identity_label}); not imported"
                    )
                    reject(row.line, [(spec.identity_field, duplicate)])
                    continue
                first_line_of[identity] = row.line
                counts.accepted += 1
                group.append(entity)
                if len(group) >= WRITE_GROUP_ROWS:
                    flush(batch)
            flush(batch)
        outcome = reader.outcome
        status = _status(counts, has_file_errors=bool(outcome.file_errors))
        report = IngestReport(
            key=key,
            report_key=report_key_for(key),
            kind=kind,
            format=fmt.value,
            status=status,
            counts=counts,
            errors=errors[:MAX_LISTED_ERRORS],
            errors_truncated=len(errors) > MAX_LISTED_ERRORS,
            file_errors=[Note(reason=reason) for reason in outcome.file_errors],
            warnings=[Note(reason=reason) for reason in outcome.warnings],
            limits=self._report_limits(),
            started_at=started,
            finished_at=self._now(),
        )
        logger.info(
            "upload ingested",
            upload_key=key,
            kind=kind.value,
            status=status.value,
            counts=counts.model_dump(),
            file_errors=len(outcome.file_errors),
        )
        return report

    def _refused(
        self, key: str, kind: UploadKind, fmt: UploadFormat | None, started: datetime, reason: str
    ) -> IngestReport:
        logger.warning("upload refused", upload_key=key, kind=kind.value, reason=reason)
        return IngestReport(
            key=key,
            report_key=report_key_for(key),
            kind=kind,
            format=fmt.value if fmt else None,
            status=ReportStatus.REJECTED,
            counts=Counts(),
            file_errors=[Note(reason=reason)],
            limits=self._report_limits(),
            started_at=started,
            finished_at=self._now(),
        )

    def _report_limits(self) -> Limits:
        return Limits(**asdict(self._limits))

    def _too_large(self, size: int) -> str:
        return (
            f"the file is {size / (1024 * 1024):.1f} MiB; "
            f"the limit is {self._limits.max_bytes / (1024 * 1024):.1f} MiB: split it into smaller files"
        )

    def _save(self, report: IngestReport) -> None:
        self._objects.put(report.report_key, report.model_dump_json(indent=2).encode(), "application/json")


_UNKNOWN_FORMAT = "the file name must end in .csv, .json, .jsonl or .ndjson so its format is known"

_CONTENT_TYPES = {
    UploadFormat.CSV: "text/csv; charset=utf-8",
    UploadFormat.JSON: "application/json",
    UploadFormat.JSONL: "application/x-ndjson",
}

_KINDS: dict[UploadKind, _Kind] = {
    UploadKind.CONTENT: _Kind(
        row_model=ContentRow,
        columns=content_columns,
        required=CONTENT_REQUIRED_COLUMNS,
        identity_field="id",
        identity_label="id, or url and campaign",
    ),
    UploadKind.EMPLOYEES: _Kind(
        row_model=EmployeeRow,
        columns=lambda: EMPLOYEE_COLUMNS,
        required=EMPLOYEE_REQUIRED_COLUMNS,
        identity_field="email",
        identity_label="email",
    ),
}


def _entity(spec: _Kind, row: SourceRow) -> Content | Employee | list[FieldProblem]:
    """The row as a domain entity, or every reason it is refused."""
    try:
        parsed = cast(_UploadRow, spec.row_model.model_validate(row.values))
    except ValidationError as exc:
        return field_problems(exc)
    return parsed.problems() or parsed.to_entity()


def _status(counts: Counts, *, has_file_errors: bool) -> ReportStatus:
    if counts.accepted == 0:
        return ReportStatus.REJECTED
    if counts.rejected or has_file_errors:
        return ReportStatus.PARTIAL
    return ReportStatus.COMPLETED
