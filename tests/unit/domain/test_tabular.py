"""Reading uploaded files: every bad input gets a reason, valid rows survive the bad ones."""

from __future__ import annotations

import json

import pytest

from chorus.domain.content import CONTENT_REQUIRED_COLUMNS, content_columns
from chorus.domain.tabular import (
    MAX_NAMED_UNKNOWN_COLUMNS,
    MAX_NESTING,
    MAX_NUMBER_DIGITS,
    ReadLimits,
    RowRejected,
    SourceRow,
    TabularReader,
    UploadFormat,
)

MAX = 1024 * 1024
GOOD = b'{"title": "A", "url": "https://a.example/x", "text": "one"}'
GOOD_CSV_ROW = b"A,https://a.example/x,one"
DEEP = 50_000


def read(data: bytes, fmt: UploadFormat = UploadFormat.CSV, *, chunk: int = 7, max_bytes: int = MAX, **limits):
    """Feeds the reader in small chunks so line splitting across chunk borders is exercised."""
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    reader = TabularReader(
        chunks,
        fmt,
        known_columns=content_columns(),
        required_columns=CONTENT_REQUIRED_COLUMNS,
        limits=ReadLimits(max_bytes=max_bytes, **limits),
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
        assert outcome.file_errors == ["the header repeats column(s): 'title'"]

    def test_wrong_cell_count_rejects_only_that_row(self):
        rows, _ = read(b"title,url,text\nA,https://a.example/x,one,extra\nB,https://b.example/y,two\n")
        assert [row.line for row in rejected(rows)] == [2]
        assert "4 cells but the header has 3 columns" in rejected(rows)[0].reason
        assert [row.values["title"] for row in accepted(rows)] == ["B"]

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


class TestNesting:
    """json recurses once per level: a 50,000-deep row must be a refused row, not a RecursionError."""

    TOO_DEEP = f"nests arrays or objects more than {MAX_NESTING} levels deep"

    def test_deep_item_in_a_json_array_is_refused_and_the_others_kept(self):
        data = b"[" + GOOD + b",\n" + b"[" * DEEP + b"]" * DEEP + b",\n" + GOOD + b"]"
        rows, outcome = read(data, UploadFormat.JSON, chunk=4096)
        assert [row.line for row in accepted(rows)] == [1, 3]
        [bad] = rejected(rows)
        assert (bad.line, bad.field) == (2, None) and self.TOO_DEEP in bad.reason
        assert outcome.file_errors == []

    def test_deep_value_inside_a_row_is_refused(self):
        deep = b'{"title": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}"
        rows, _ = read(b"[" + deep + b",\n" + GOOD + b"]", UploadFormat.JSON, chunk=4096)
        assert [(row.line, type(row).__name__) for row in rows] == [(1, "RowRejected"), (2, "SourceRow")]

    def test_brackets_inside_strings_do_not_count(self):
        text = json.dumps({"title": "[" * 100 + "{" * 100, "url": "https://a.example/x", "text": '\\"[[['})
        rows, _ = read(f"[{text}]".encode(), UploadFormat.JSON)
        assert len(accepted(rows)) == 1

    def test_the_end_of_a_deep_row_is_found_past_strings_and_mixed_brackets(self):
        # Given a row json gives up on, with brackets and escaped quotes inside its strings
        level = '["x]\\"}{", 0, '
        deep = level * 20_000 + "1" + "]" * 20_000
        data = f"[{GOOD.decode()},\n{deep},\n{GOOD.decode()}]".encode()
        # When read, Then it is one refused row and the row after it is read
        rows, outcome = read(data, UploadFormat.JSON, chunk=65536)
        assert [(row.line, type(row).__name__) for row in rows] == [
            (1, "SourceRow"),
            (2, "RowRejected"),
            (3, "SourceRow"),
        ]
        assert outcome.file_errors == []

    @pytest.mark.parametrize("depth", [MAX_NESTING + 1, 500, 9_000])
    def test_rows_json_can_decode_are_measured_too(self, depth):
        deep = "[" * (depth - 1) + "]" * (depth - 1)
        data = f'{{"title": "A", "url": "https://a.example/x", "text": "t", "tags": {deep}}}\n'.encode() + GOOD
        rows, _ = read(data, UploadFormat.JSONL, chunk=65536)
        assert [(row.line, type(row).__name__) for row in rows] == [(1, "RowRejected"), (2, "SourceRow")]

    def test_an_unclosed_deep_array_ends_the_file_with_a_reason(self):
        rows, outcome = read(b"[" + GOOD + b",\n" + b"[" * DEEP, UploadFormat.JSON, chunk=4096)
        assert len(accepted(rows)) == 1 and len(rejected(rows)) == 1
        assert outcome.file_errors == ["the row at line 2 is never closed; rows from there on were not read"]

    def test_the_whole_file_nested_is_one_refused_row(self):
        rows, outcome = read(b"[" * DEEP, UploadFormat.JSON, chunk=4096)
        assert [(row.line, row.reason.split(";")[0]) for row in rows] == [(1, self.TOO_DEEP)]
        assert outcome.file_errors

    def test_deep_json_line_is_refused_and_the_others_kept(self):
        data = GOOD + b"\n" + b"[" * DEEP + b"]" * DEEP + b"\n" + b'{"title": ' + b"[" * DEEP + b"\n" + GOOD
        rows, outcome = read(data, UploadFormat.JSONL, chunk=4096)
        assert [(row.line, type(row).__name__) for row in rows] == [
            (1, "SourceRow"),
            (2, "RowRejected"),
            (3, "RowRejected"),
            (4, "SourceRow"),
        ]
        assert all(self.TOO_DEEP in row.reason for row in rejected(rows))
        assert outcome.file_errors == []

    def test_nesting_up_to_the_limit_is_read(self):
        inner = "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1)
        rows, _ = read(
            f'{{"title": "A", "url": "https://a.example/x", "text": "t", "tags": {inner}}}'.encode(), UploadFormat.JSONL
        )
        assert len(accepted(rows)) == 1


class TestSizes:
    def test_rows_beyond_the_limit_are_reported_unread(self):
        data = b"title,url,text\n" + b"\n".join([GOOD_CSV_ROW] * 5) + b"\n"
        rows, outcome = read(data, max_rows=3)
        assert [row.line for row in accepted(rows)] == [2, 3, 4]
        assert outcome.file_errors == [
            "the file has more than 3 rows; rows from line 5 on were not read: split it into smaller files"
        ]

    def test_too_many_columns_in_a_csv_header(self):
        header = b",".join([b"title", b"url", b"text"] + [b"c%d" % i for i in range(200)])
        rows, outcome = read(header + b"\n" + GOOD_CSV_ROW + b"\n", max_columns=100)
        assert rows == [] and outcome.file_errors == ["the header has 203 columns; at most 100 are read"]

    def test_a_header_of_a_million_commas_is_refused_quickly(self):
        rows, outcome = read(b"title,url,text" + b"," * 1_000_000 + b"\n" + GOOD_CSV_ROW + b"\n", chunk=65536)
        assert rows == [] and "columns; at most 100 are read" in outcome.file_errors[0]

    def test_trailing_empty_header_columns_are_not_duplicates(self):
        rows, outcome = read(b"title,url,text,,\n" + GOOD_CSV_ROW + b",,\n")
        assert len(accepted(rows)) == 1 and outcome.file_errors == []

    def test_too_many_fields_in_a_json_object(self):
        item = {"title": "A", "url": "https://a.example/x", "text": "t"} | {f"x{i}": i for i in range(200)}
        rows, _ = read(json.dumps(item).encode() + b"\n" + GOOD, UploadFormat.JSONL)
        assert [row.reason for row in rejected(rows)] == ["has 203 fields; at most 100 are read"]
        assert len(accepted(rows)) == 1

    @pytest.mark.parametrize("fmt", [UploadFormat.CSV, UploadFormat.JSONL])
    def test_a_long_cell_is_refused_with_its_field(self, fmt):
        long = "x" * 10_001
        if fmt is UploadFormat.CSV:
            data = f"title,url,text\nA,https://a.example/x,{long}\n".encode() + GOOD_CSV_ROW
        else:
            data = json.dumps({"title": "A", "url": "https://a.example/x", "text": long}).encode() + b"\n" + GOOD
        rows, _ = read(data, fmt, chunk=4096)
        assert [(row.line, row.field, row.reason) for row in rejected(rows)] == [
            (2 if fmt is UploadFormat.CSV else 1, "text", "is longer than 10,000 characters")
        ]
        assert len(accepted(rows)) == 1

    def test_long_lists_and_long_list_items_are_refused(self):
        many = {"title": "A", "url": "https://a.example/x", "text": "t", "tags": ["t"] * 101}
        long = {"title": "A", "url": "https://a.example/x", "text": "t", "groups": ["g" * 10_001]}
        rows, _ = read(f"{json.dumps(many)}\n{json.dumps(long)}".encode(), UploadFormat.JSONL, chunk=4096)
        assert [(row.field, row.reason) for row in rows] == [
            ("tags", "holds more than 100 items"),
            ("groups", "is longer than 10,000 characters"),
        ]

    def test_unknown_columns_are_named_up_to_a_bound(self):
        lines = [
            json.dumps({"title": "A", "url": f"https://a.example/{i}", "text": "t", f"extra{i}": 1}) for i in range(60)
        ]
        rows, outcome = read("\n".join(lines).encode(), UploadFormat.JSONL, chunk=4096)
        assert len(accepted(rows)) == 60
        assert len(outcome.warnings) == MAX_NAMED_UNKNOWN_COLUMNS + 1
        assert outcome.warnings[-1] == "40 more unknown column(s) were ignored (not listed)"


class TestLines:
    def test_overlong_json_line_is_refused_while_streaming_and_the_others_kept(self):
        data = GOOD + b"\n" + b'{"title": "' + b"x" * 300_000 + b'"}\n' + GOOD
        rows, outcome = read(data, UploadFormat.JSONL, chunk=1000, max_line_bytes=100_000)
        assert [(row.line, type(row).__name__) for row in rows] == [
            (1, "SourceRow"),
            (2, "RowRejected"),
            (3, "SourceRow"),
        ]
        assert rejected(rows)[0].reason.startswith("line 2 is longer than 100,000 bytes")
        assert outcome.file_errors == []

    def test_overlong_csv_line_stops_the_file_after_the_rows_before(self):
        data = (
            b"title,url,text\n"
            + GOOD_CSV_ROW
            + b"\n"
            + b"B,https://b.example/y,"
            + b"x" * 300_000
            + b"\n"
            + GOOD_CSV_ROW
        )
        rows, outcome = read(data, chunk=1000, max_line_bytes=100_000)
        assert [row.line for row in rows] == [2]
        assert outcome.file_errors == [
            "line 3 is longer than 100,000 bytes; no row needs that much (is the file really CSV or JSON Lines?); "
            "rows from there on were not read"
        ]

    def test_a_json_array_may_be_one_long_line(self):
        items = ",".join([GOOD.decode()] * 3000)
        rows, _ = read(f"[{items}]".encode(), UploadFormat.JSON, chunk=1000, max_line_bytes=1000)
        assert len(accepted(rows)) == 3000

    @pytest.mark.parametrize("chunk", [1, 2, 7, 4096])
    def test_lf_crlf_and_lone_cr_line_endings_count_as_spreadsheets_count_them(self, chunk):
        data = (
            b"title,url,text\r\nA,https://a.example/x,one\rB,https://b.example/y,two\nC,https://c.example/z,three\r\n"
        )
        rows, outcome = read(data, chunk=chunk)
        assert [(row.line, row.values["title"], row.values["text"]) for row in rows] == [
            (2, "A", "one"),
            (3, "B", "two"),
            (4, "C", "three"),
        ]
        assert outcome.file_errors == []

    def test_crlf_inside_a_quoted_cell_is_kept(self):
        rows, _ = read(b'title,url,text\r\nA,https://a.example/x,"one\r\ntwo"\r\nB,https://b.example/y,t\r\n', chunk=1)
        assert [(row.line, row.values["text"]) for row in rows] == [(2, "one\r\ntwo"), (4, "t")]


class TestJsonValues:
    def test_numbers_json_cannot_store_are_refused_with_their_field(self):
        lines = [
            b'{"title": "A", "url": "https://a.example/x", "text": "t", "points": ' + b"9" * 5000 + b"}",
            b'{"title": "A", "url": "https://a.example/x", "text": "t", "points": 1e999}',
            b'{"title": "A", "url": "https://a.example/x", "text": "t", "points": NaN}',
            b'{"title": "A", "url": "https://a.example/x", "text": "t", "points": -Infinity}',
        ]
        rows, _ = read(b"\n".join(lines), UploadFormat.JSONL, chunk=4096)
        assert [(row.field, row.reason) for row in rows] == [
            ("points", f"is a number with more than {MAX_NUMBER_DIGITS} digits"),
            ("points", "is a number too large to store"),
            ("points", "is NaN, which is not a number JSON allows"),
            ("points", "is -Infinity, which is not a number JSON allows"),
        ]

    def test_a_field_given_twice_is_refused(self):
        data = (
            b'{"title": "A", "url": "https://a.example/x", "text": "t", "Title": "B"}\n'
            b'{"x": 1, "x": 2, "title": "A", "url": "https://a.example/x", "text": "t", "text": "u"}\n'
            b'{"x": 1, "x": 2, "title": "A", "url": "https://a.example/x", "text": "t"}'
        )
        rows, _ = read(data, UploadFormat.JSONL)
        assert [(row.line, row.field, row.reason) for row in rejected(rows)] == [
            (1, "title", "is given twice ('Title'); keep one"),
            (2, "text", "is given twice ('text'); keep one"),
        ]
        # an unknown field given twice is ignored like any unknown field
        assert [row.line for row in accepted(rows)] == [3]

    def test_control_characters_in_unknown_column_names_are_escaped_in_warnings(self):
        rows, outcome = read(
            b'{"title": "A", "url": "https://a.example/x", "text": "t", "\\u001b[31mred": 1}', UploadFormat.JSONL
        )
        assert len(accepted(rows)) == 1
        assert outcome.warnings == ["column '\\u001B[31mred' is not a known column; its values were ignored"]


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
