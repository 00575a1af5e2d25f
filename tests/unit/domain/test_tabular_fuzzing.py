"""Fuzzing the readers: whatever the bytes, reading ends in rows, refused rows and file-level
reasons, never in an exception; and what comes out stays within the limits.

The reader runs here with small limits, so random and structured inputs of a few kilobytes
reach every bound (rows, columns, cells, lists, lines, nesting) that production limits put
megabytes away. Settings: tests/support/upload_strategies.py (FUZZ).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.content import CONTENT_REQUIRED_COLUMNS, content_columns
from chorus.domain.employee import EMPLOYEE_COLUMNS, EMPLOYEE_REQUIRED_COLUMNS
from chorus.domain.tabular import ReadLimits, RowRejected, SourceRow, TabularReader, UploadFormat
from tests.support.upload_strategies import (
    FUZZ,
    chunked,
    csv_files,
    deeply_nested_files,
    json_array_files,
    json_lines_files,
    printable,
)

SMALL = ReadLimits(
    max_bytes=64 * 1024,
    max_rows=8,
    max_columns=12,
    max_cell_chars=60,
    max_line_bytes=400,
    max_nesting=4,
    max_list_items=5,
)
KINDS = st.sampled_from([(content_columns(), CONTENT_REQUIRED_COLUMNS), (EMPLOYEE_COLUMNS, EMPLOYEE_REQUIRED_COLUMNS)])
# Small chunks make lines (and CRLF pairs) straddle chunk borders; S3 hands over 1 MiB at a time.
CHUNK_SIZES = st.sampled_from([3, 64, 4096, 1024 * 1024])


def read_all(data: bytes, fmt: UploadFormat, kind, chunk: int, limits: ReadLimits = SMALL):
    known, required = kind
    reader = TabularReader(chunked(data, chunk), fmt, known_columns=known, required_columns=required, limits=limits)
    rows = list(reader)
    return rows, reader.outcome, known


def assert_well_formed(rows, outcome, known, limits: ReadLimits = SMALL) -> None:
    assert len(rows) <= limits.max_rows
    for row in rows:
        assert isinstance(row, SourceRow | RowRejected)
        assert row.line >= 1
        if isinstance(row, SourceRow):
            assert set(row.values) <= known
            for value in row.values.values():
                elements = value if isinstance(value, list) else [value]
                assert len(elements) <= limits.max_list_items
                assert all(len(element) <= limits.max_cell_chars for element in elements if isinstance(element, str))
        else:
            assert row.reason and printable(row.reason), row.reason
            assert row.field is None or row.field in known
    # What reaches the report is printable and valid UTF-8, whatever the file held.
    for message in outcome.file_errors + outcome.warnings:
        assert printable(message), message
        message.encode("utf-8")


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(list(UploadFormat)), KINDS, st.sampled_from([1, 2, 64, 4096]))
def test_fuzz_random_bytes_in_every_format(data, fmt, kind, chunk):
    assert_well_formed(*read_all(data, fmt, kind, chunk))


@FUZZ
@given(csv_files(), KINDS, CHUNK_SIZES)
def test_fuzz_spreadsheet_shaped_csv(data, kind, chunk):
    assert_well_formed(*read_all(data, UploadFormat.CSV, kind, chunk))


@FUZZ
@given(json_array_files(), KINDS, CHUNK_SIZES)
def test_fuzz_json_arrays(data, kind, chunk):
    assert_well_formed(*read_all(data, UploadFormat.JSON, kind, chunk))


@FUZZ
@given(json_lines_files(), KINDS, CHUNK_SIZES)
def test_fuzz_json_lines(data, kind, chunk):
    assert_well_formed(*read_all(data, UploadFormat.JSONL, kind, chunk))


@FUZZ
@given(deeply_nested_files(), st.sampled_from([UploadFormat.JSON, UploadFormat.JSONL]), KINDS)
def test_fuzz_nesting_far_past_the_recursion_limit_with_production_limits(data, fmt, kind):
    production = ReadLimits(max_bytes=25 * 1024 * 1024)
    rows, outcome, known = read_all(data, fmt, kind, 64 * 1024, production)
    assert_well_formed(rows, outcome, known, production)
    assert rows or outcome.file_errors
