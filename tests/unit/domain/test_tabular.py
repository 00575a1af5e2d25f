"""Reading uploaded files: every bad input gets a reason, valid rows survive the bad ones."""

from __future__ import annotations

import json

import pytest

from chorus.domain.content import CONTENT_COLUMNS, CONTENT_REQUIRED_COLUMNS
from chorus.domain.tabular import RowRejected, SourceRow, TabularReader, UploadFormat, formula_problem

MAX = 1024 * 1024


def read(data: bytes, fmt: UploadFormat = UploadFormat.CSV, *, chunk: int = 7, max_bytes: int = MAX):
    """Feeds the reader in small chunks so line splitting across chunk borders is exercised."""
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    reader = TabularReader(
        chunks,
        fmt,
        known_columns=CONTENT_COLUMNS,
        required_columns=CONTENT_REQUIRED_COLUMNS,
        max_bytes=max_bytes,
    )
    rows = list(reader)
    return rows, reader.outcome


def accepted(rows):
    return [row for row in rows if isinstance(row, SourceRow)]


def rejected(rows):
    return [row for row in rows if isinstance(row, RowRejected)]


class TestCsv:
    def test_rows_carry_spreadsheet_line_numbers(self):
        # Given a header and two rows
        data = b"title,url,text\nA,https://a.example/x,one\nB,https://b.example/y,two\n"
        # When read
        rows, outcome = read(data)
        # Then line numbers match the spreadsheet (header = line 1)
        assert [(row.line, row.values["title"]) for row in accepted(rows)] == [(2, "A"), (3, "B")]
        assert outcome.file_errors == [] and outcome.warnings == []

    def test_quoted_newline_keeps_the_first_line_of_the_record(self):
        data = b'title,url,text\n"Multi\nline",https://a.example/x,one\nB,https://b.example/y,two\n'
        rows, _ = read(data)
        assert [row.line for row in accepted(rows)] == [2, 4]
        assert accepted(rows)[0].values["title"] == "Multi\nline"

    def test_utf8_bom_is_stripped_and_mentioned(self):
        rows, outcome = read(b"\xef\xbb\xbftitle,url,text\nA,https://a.example/x,one\n")
        assert accepted(rows)[0].values["title"] == "A"
        assert any("byte order mark" in warning for warning in outcome.warnings)

    def test_utf16_file_is_refused_with_a_reason(self):
        data = "title,url,text\nA,https://a.example/x,one\n".encode("utf-16")
        rows, outcome = read(data)
        assert rows == []
        assert "UTF-16" in outcome.file_errors[0]

    def test_latin1_line_is_rejected_and_others_are_kept(self):
        data = "title,url,text\nCafé,https://a.example/x,one\nB,https://b.example/y,two\n".encode("latin-1")
        rows, outcome = read(data)
        assert [row.values["title"] for row in accepted(rows)] == ["B"]
        [bad] = rejected(rows)
        assert bad.line == 2
        assert "not valid UTF-8" in bad.reason and "0xE9" in bad.reason
        assert outcome.file_errors == []

    @pytest.mark.parametrize("data", [b"", b"\n\n  \n"])
    def test_empty_file(self, data):
        rows, outcome = read(data)
        assert rows == []
        assert outcome.file_errors == ["the file is empty"]

    def test_header_without_rows(self):
        rows, outcome = read(b"title,url,text\n")
        assert rows == []
        assert outcome.file_errors == ["the file has a header but no rows"]

    def test_missing_required_column_is_one_clear_file_error(self):
        rows, outcome = read(b"title,text\nA,one\nB,two\n")
        assert rows == []
        assert outcome.file_errors == ["the header lacks required column(s): url"]

    def test_unknown_column_is_reported_with_a_suggestion_and_ignored(self):
        rows, outcome = read(b"title,url,text,pionts\nA,https://a.example/x,one,5\n")
        assert "pionts" not in accepted(rows)[0].values
        assert outcome.warnings == [
            "column 'pionts' is not a known column; its values were ignored (did you mean 'points'?)"
        ]

    def test_header_names_are_normalised(self):
        rows, _ = read(b"Title, URL ,Text,Image URL\nA,https://a.example/x,one,https://a.example/i.png\n")
        assert accepted(rows)[0].values["image_url"] == "https://a.example/i.png"

    def test_duplicated_header_column(self):
        _, outcome = read(b"title,url,title\nA,https://a.example/x,B\n")
        assert outcome.file_errors == ["the header repeats column(s): title"]

    def test_wrong_cell_count_rejects_only_that_row(self):
        rows, _ = read(b"title,url,text\nA,https://a.example/x,one,extra\nB,https://b.example/y,two\n")
        assert [row.line for row in rejected(rows)] == [2]
        assert "4 cells but the header has 3 columns" in rejected(rows)[0].reason
        assert [row.values["title"] for row in accepted(rows)] == ["B"]

    @pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "@SUM(A1:A2)", '+HYPERLINK("x")', "-2+3*A1", "\tX"])
    def test_formula_injection_is_rejected_with_field(self, cell):
        quoted = cell.replace('"', '""')
        data = f'title,url,text\n"{quoted}",https://a.example/x,one\nB,https://b.example/y,two\n'.encode()
        rows, _ = read(data)
        [bad] = rejected(rows)
        assert bad.field == "title" and "formula" in bad.reason
        assert len(accepted(rows)) == 1

    @pytest.mark.parametrize(
        "cell", ["- our new office", "+33 1 23 45 67 89", "Hello = world", "-10% off", "- see room B12"]
    )
    def test_ordinary_text_starting_with_signs_is_kept(self, cell):
        assert formula_problem(cell) is None

    def test_unclosed_quote_stops_with_a_line_number_and_keeps_rows_before(self):
        rows, outcome = read(b'title,url,text\nA,https://a.example/x,one\n"B,https://b.example/y,two\n', chunk=1000)
        assert [row.values["title"] for row in accepted(rows)] == ["A"]
        assert outcome.file_errors and "not valid CSV" in outcome.file_errors[0]

    def test_file_over_the_limit_stops_with_the_limit_named(self):
        data = b"title,url,text\n" + b"A,https://a.example/x,one\n" * 100
        rows, outcome = read(data, max_bytes=1024 * 1024 // 1024 * 1)
        assert "limit" in outcome.file_errors[0]
        assert len(rows) < 100

    def test_blank_lines_are_skipped(self):
        rows, _ = read(b"title,url,text\n\nA,https://a.example/x,one\n,,\n")
        assert [row.line for row in rows] == [3]


class TestJsonLines:
    def test_bad_line_is_rejected_others_kept(self):
        data = b'{"title":"A","url":"https://a.example/x","text":"one"}\n{"title": oops}\n[1,2]\n'
        rows, outcome = read(data, UploadFormat.JSONL)
        assert [row.line for row in accepted(rows)] == [1]
        assert [(row.line, row.reason.split(" (")[0]) for row in rejected(rows)] == [
            (2, "is not valid JSON"),
            (3, "must be a JSON object, not list"),
        ]
        assert outcome.file_errors == []

    def test_formula_in_a_list_value(self):
        data = json.dumps({"title": "A", "url": "https://a.example/x", "text": "t", "tags": ["ok", "=x()"]}).encode()
        rows, _ = read(data, UploadFormat.JSONL)
        assert rejected(rows)[0].field == "tags"


class TestJsonArray:
    def test_items_get_their_starting_line(self):
        data = (
            b'[\n  {"title": "A", "url": "https://a.example/x", "text": "one"},\n'
            b'  {"title": "B",\n   "url": "https://b.example/y", "text": "two"}\n]\n'
        )
        rows, outcome = read(data, UploadFormat.JSON)
        assert [(row.line, row.values["title"]) for row in accepted(rows)] == [(2, "A"), (3, "B")]
        assert outcome.file_errors == []

    def test_object_instead_of_array(self):
        _, outcome = read(b'{"title": "A"}', UploadFormat.JSON)
        assert "must be an array of objects" in outcome.file_errors[0]

    def test_syntax_error_keeps_earlier_items(self):
        data = b'[{"title": "A", "url": "https://a.example/x", "text": "one"},\n {"title": "B" "url": 1}]'
        rows, outcome = read(data, UploadFormat.JSON)
        assert len(accepted(rows)) == 1
        assert "invalid JSON at line 2" in outcome.file_errors[0]

    def test_empty_array(self):
        _, outcome = read(b"[ ]", UploadFormat.JSON)
        assert outcome.file_errors == ["the file holds an empty array: no rows"]

    def test_unclosed_array(self):
        rows, outcome = read(b'[{"title": "A", "url": "https://a.example/x", "text": "one"}', UploadFormat.JSON)
        assert len(accepted(rows)) == 1
        assert outcome.file_errors == [
            "invalid JSON at line 1: expected ',' or ']' after an item; rows from there on were not read"
        ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", UploadFormat.CSV),
        ("A.JSON", UploadFormat.JSON),
        ("x.jsonl", UploadFormat.JSONL),
        ("x.ndjson", UploadFormat.JSONL),
        ("x.xlsx", None),
        ("csv", None),
    ],
)
def test_format_from_name(name, expected):
    assert UploadFormat.for_name(name) is expected
