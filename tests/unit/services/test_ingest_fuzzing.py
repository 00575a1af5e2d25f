"""Fuzzing ingestion end to end (reader, row models, service) on in-memory fakes of the Catalog
and Objects protocols: every upload, whatever it holds, ends in a stored report whose counts add
up, never in an exception; and what reaches the catalog obeys the field rules.

Settings: tests/support/upload_strategies.py (FUZZ).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chorus.adapters.s3_objects import StoredObject
from chorus.domain.content import Content
from chorus.domain.employee import Employee
from chorus.domain.fields import formula_problem
from chorus.domain.report import MAX_LISTED_ERRORS, IngestReport, ReportStatus, UploadKind
from chorus.domain.tabular import UploadFormat
from chorus.services.ingest import IngestService
from chorus.store.catalog import UpsertResult
from tests.support.upload_strategies import (
    FUZZ,
    chunked,
    csv_files,
    deeply_nested_files,
    json_array_files,
    json_lines_files,
    printable,
)

MAX_BYTES = 256 * 1024
_SINGLE_LINE_REFUSED = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]")
_POST_TEXT_REFUSED = re.compile(
    "[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]"
)


@dataclass
class MemoryCatalog:
    """The Catalog protocol over two dicts; an item is unchanged when its fingerprint is."""

    contents: dict[str, Content] = field(default_factory=dict)
    employees: dict[str, Employee] = field(default_factory=dict)

    @contextmanager
    def upsert_batch(self) -> Iterator[MemoryCatalog]:
        yield self

    def add_contents(self, contents: Sequence[Content]) -> list[UpsertResult]:
        return [self._upsert(self.contents, item.content_id, item) for item in contents]

    def add_employees(self, employees: Sequence[Employee]) -> list[UpsertResult]:
        return [self._upsert(self.employees, item.employee_id, item) for item in employees]

    @staticmethod
    def _upsert(items, key, item) -> UpsertResult:
        before = items.get(key)
        items[key] = item
        if before is None:
            return UpsertResult.CREATED
        return UpsertResult.UNCHANGED if before.fingerprint() == item.fingerprint() else UpsertResult.UPDATED


@dataclass
class MemoryObjects:
    """The Objects protocol over a dict, handing bodies over in small chunks as S3 streams them."""

    objects: dict[str, bytes] = field(default_factory=dict)
    chunk: int = 4096

    def open(self, key: str, version_id: str | None = None) -> StoredObject:
        data = self.objects[key]
        return StoredObject(key=key, size=len(data), chunks=iter(chunked(data, self.chunk)))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = data


def service() -> tuple[IngestService, MemoryCatalog, MemoryObjects]:
    catalog, objects = MemoryCatalog(), MemoryObjects()
    return (
        IngestService(catalog, objects, max_bytes=MAX_BYTES, now=lambda: datetime(2026, 11, 29, tzinfo=UTC)),
        catalog,
        objects,
    )


def assert_reported(report: IngestReport, objects: MemoryObjects, catalog: MemoryCatalog) -> None:
    # The report was stored, as the service returned it, and reads back.
    assert IngestReport.model_validate_json(objects.objects[report.report_key]) == report
    counts = report.counts
    assert counts.rows == counts.accepted + counts.rejected
    assert counts.accepted == counts.created + counts.updated + counts.unchanged
    assert len(report.errors) <= MAX_LISTED_ERRORS
    assert report.status is (
        ReportStatus.REJECTED
        if counts.accepted == 0
        else ReportStatus.PARTIAL
        if counts.rejected or report.file_errors
        else ReportStatus.COMPLETED
    )
    if counts.rejected:
        assert report.errors, "every refused row has a reason"
    for message in [error.reason for error in report.errors] + [
        note.reason for note in report.file_errors + report.warnings
    ]:
        assert message and printable(message), message
    # What reaches the catalog obeys the field rules, whatever the file held.
    for content in catalog.contents.values():
        for line in (content.title, content.campaign, content.external_id or "", *content.tags, *content.groups):
            assert not _SINGLE_LINE_REFUSED.search(line) and formula_problem(line) is None, line
        for text in (content.text, *content.texts.values()):
            assert not _POST_TEXT_REFUSED.search(text) and formula_problem(text) is None, text
            assert text == text.strip()
    for employee in catalog.employees.values():
        for line in (employee.name, employee.email, employee.timezone, employee.locale, *employee.groups):
            assert not _SINGLE_LINE_REFUSED.search(line) and formula_problem(line) is None, line


FILES = {
    UploadFormat.CSV: csv_files(),
    UploadFormat.JSON: json_array_files(),
    UploadFormat.JSONL: json_lines_files(),
}
ANY_FILE = st.sampled_from(list(UploadFormat)).flatmap(lambda fmt: st.tuples(st.just(fmt), FILES[fmt]))
KINDS = st.sampled_from(list(UploadKind))
SUFFIXES = {UploadFormat.CSV: "csv", UploadFormat.JSON: "json", UploadFormat.JSONL: "jsonl"}


@FUZZ
@given(ANY_FILE, KINDS)
def test_fuzz_admin_api_payloads_always_end_in_a_report(file, kind):
    fmt, body = file
    ingest, catalog, objects = service()
    report = ingest.ingest_payload(kind, fmt, body, f"uploads/{kind.value}/api/upload.{SUFFIXES[fmt]}")
    assert_reported(report, objects, catalog)


@FUZZ
@given(
    st.one_of(ANY_FILE, st.tuples(st.sampled_from(list(UploadFormat)), st.binary(max_size=2000))),
    KINDS,
    st.sampled_from([3, 64, 4096]),
)
def test_fuzz_s3_uploads_always_end_in_a_report(file, kind, chunk):
    fmt, body = file
    ingest, catalog, objects = service()
    objects.chunk = chunk
    key = f"uploads/{kind.value}/2026/11/29/upload.{SUFFIXES[fmt]}"
    objects.put(key, body, "application/octet-stream")
    assert_reported(ingest.ingest_object(key), objects, catalog)


@FUZZ
@given(deeply_nested_files(), st.sampled_from([UploadFormat.JSON, UploadFormat.JSONL]), KINDS)
def test_fuzz_nesting_far_past_the_recursion_limit_ends_in_a_report(body, fmt, kind):
    ingest, catalog, objects = service()
    report = ingest.ingest_payload(kind, fmt, body, f"uploads/{kind.value}/api/deep.{SUFFIXES[fmt]}")
    assert_reported(report, objects, catalog)
    assert report.errors or report.file_errors
