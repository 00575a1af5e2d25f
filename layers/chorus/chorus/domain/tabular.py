"""Reading uploaded files (CSV, JSON array, JSON Lines) into rows, one problem at a time.

The reader never raises on bad input: every problem becomes a ``RowRejected`` (that row is
skipped, the others go on) or a file-level problem (nothing more can be read), each with a
reason an admin can act on and a line number where there is one. CSV and JSON Lines are
streamed line by line so memory does not grow with the file; a JSON array is held whole,
which the upload size limit bounds.

Every size is bounded (``ReadLimits``): bytes, rows, columns, cell length, list length, line
length (CSV and JSON Lines), JSON nesting depth and number size. ``json`` recurses once per
level and gives up (RecursionError) near 10,000 levels: a row it decodes is measured without
recursion, a row it gives up on is refused, and in a JSON array a scan that does not recurse
finds where that row ends so the rows after it are read. A file nested 50,000 levels deep is
one refused row, not a crash. What a cell *means* (text, URL, date...) and which characters it
may hold is checked by the row models (``domain/fields.py``).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import json
import math
import re
from _csv import Reader as CsvReader
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from chorus.domain.report import echo

# Cells larger than this are refused: no field we store is longer (LinkedIn text is 3,000).
MAX_CELL_CHARS = 10_000
# Rows read from one file; the rest of a longer file is reported unread (the ingest function
# has five minutes, and a report lists what happened to every row).
MAX_ROWS = 100_000
# Columns in a CSV header, fields in a JSON object (a content row has 17).
MAX_COLUMNS = 100
# One physical line of CSV or JSON Lines (a JSON array may be written on a single line).
MAX_LINE_BYTES = 1024 * 1024
# Arrays and objects inside each other in one row, the row itself included: a row is an object
# whose values are texts, numbers or lists of texts (depth 2), or 3 inside a JSON array file.
MAX_NESTING = 8
# Elements of a list value (groups, tags).
MAX_LIST_ITEMS = 100
# Digits of a JSON integer; Python refuses to parse more than 4,300, DynamoDB stores 38.
MAX_NUMBER_DIGITS = 30
# Unknown columns named one by one in the warnings; the others are counted in one more warning.
MAX_NAMED_UNKNOWN_COLUMNS = 20


class UploadFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"

    @classmethod
    def for_name(cls, name: str) -> UploadFormat | None:
        lowered = name.lower()
        if lowered.endswith(".csv"):
            return cls.CSV
        if lowered.endswith((".jsonl", ".ndjson")):
            return cls.JSONL
        if lowered.endswith(".json"):
            return cls.JSON
        return None


@dataclass(frozen=True)
class ReadLimits:
    """How much of a file the reader accepts; each limit passed is reported with its value."""

    max_bytes: int
    max_rows: int = MAX_ROWS
    max_columns: int = MAX_COLUMNS
    max_cell_chars: int = MAX_CELL_CHARS
    max_line_bytes: int = MAX_LINE_BYTES
    max_nesting: int = MAX_NESTING
    max_list_items: int = MAX_LIST_ITEMS


@dataclass(frozen=True)
class SourceRow:
    """A row as read from the file: its first line number and its values by column."""

    line: int
    values: dict[str, Any]


@dataclass(frozen=True)
class RowRejected:
    line: int
    field: str | None
    reason: str


@dataclass
class ReadOutcome:
    """What the reader learned about the file as a whole (filled while iterating)."""

    file_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bytes_read: int = 0


def normalise_column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


class TabularReader:
    """Iterates rows of one uploaded file.

    ``known_columns`` are the columns the target model understands; others are reported once
    as warnings (with a "did you mean" hint) and ignored. ``required_columns`` missing from a
    CSV header stop the read with one clear file error instead of one error per row.
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        fmt: UploadFormat,
        *,
        known_columns: frozenset[str],
        required_columns: frozenset[str],
        limits: ReadLimits,
    ) -> None:
        self._chunks = chunks
        self._format = fmt
        self._known = known_columns
        self._required = required_columns
        self._limits = limits
        self.outcome = ReadOutcome()
        # Line number -> why that line cannot be read (not UTF-8, too long); its row is refused.
        self._line_problems: dict[int, str] = {}
        # Lines longer than the limit, dropped unread.
        self._dropped_lines: set[int] = set()
        self._unknown_columns: set[str] = set()
        self._unnamed_unknown_columns = 0

    # ------------------------------------------------------------------ public
    def __iter__(self) -> Iterator[SourceRow | RowRejected]:
        lines = self._decoded_lines()
        if self._format is UploadFormat.CSV:
            rows = self._csv_rows(lines)
        elif self._format is UploadFormat.JSONL:
            rows = self._jsonl_rows(lines)
        else:
            rows = self._json_array_rows(lines)
        for count, row in enumerate(rows, start=1):
            if count > self._limits.max_rows:
                self.outcome.file_errors.append(
                    f"the file has more than {self._limits.max_rows:,} rows; rows from line {row.line} on "
                    "were not read: split it into smaller files"
                )
                break
            yield row
        if self._unnamed_unknown_columns:
            self.outcome.warnings.append(
                f"{self._unnamed_unknown_columns} more unknown column(s) were ignored (not listed)"
            )

    # ------------------------------------------------------------------ bytes -> text
    def _raw_lines(self) -> Iterator[bytes | None]:
        """Physical lines with their ending (LF, CRLF or a lone CR, as spreadsheets count them).

        A CSV or JSON Lines line longer than the line limit is dropped as it streams past and
        stands as None: its bytes are never held whole.
        """
        limit = None if self._format is UploadFormat.JSON else self._limits.max_line_bytes
        buffer = bytearray()
        dropping = False  # inside a line already reported as too long: discard up to its end
        for chunk in self._chunks:
            self.outcome.bytes_read += len(chunk)
            if self.outcome.bytes_read > self._limits.max_bytes:
                raise _FileTooLarge
            search_from = max(len(buffer) - 1, 0)  # what is already buffered holds no line end but a final CR
            buffer += chunk
            start = 0
            while (end := _LINE_END.search(buffer, max(start, search_from))) is not None:
                if end.group() == b"\r" and end.end() == len(buffer):
                    break  # maybe the first half of a CRLF split between two chunks
                line, start = bytes(buffer[start : end.end()]), end.end()
                if dropping:
                    dropping = False
                elif limit is not None and len(line) > limit:
                    yield None
                else:
                    yield line
            del buffer[:start]
            if limit is not None and len(buffer) > limit:
                if not dropping:
                    yield None
                dropping = True
                trailing_cr = buffer.endswith(b"\r")
                buffer.clear()
                if trailing_cr:
                    buffer += b"\r"
        if buffer and not dropping:
            yield bytes(buffer)

    def _decoded_lines(self) -> Iterator[str]:
        """Yields text lines; a line that cannot be read is remembered so its row is refused."""
        raw = self._raw_lines()
        try:
            first = next(raw)
        except StopIteration:
            self.outcome.file_errors.append("the file is empty")
            return
        except _FileTooLarge:
            self._too_large()
            return
        if first is not None and (
            first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
            or (b"\x00" in first[:64] and not first.startswith(codecs.BOM_UTF8))
        ):
            self.outcome.file_errors.append(
                "the file is UTF-16 (or binary), not UTF-8 text; export it as 'CSV UTF-8' or UTF-8 JSON"
            )
            return
        if first is not None and first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8) :]
            self.outcome.warnings.append("the file starts with a UTF-8 byte order mark (BOM); it was ignored")
        line_number = 0
        try:
            for line in _chain(first, raw):
                line_number += 1
                if line is None:
                    self._dropped_lines.add(line_number)
                    self._line_problems[line_number] = (
                        f"line {line_number} is longer than {self._limits.max_line_bytes:,} bytes; "
                        "no row needs that much (is the file really CSV or JSON Lines?)"
                    )
                    yield "\n"
                    continue
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad = line[exc.start : exc.start + 1].hex().upper()
                    self._line_problems[line_number] = (
                        f"line {line_number} is not valid UTF-8 (byte 0x{bad} at position {exc.start + 1}); "
                        "export the file as UTF-8"
                    )
                    yield line.decode("utf-8", errors="replace")
        except _FileTooLarge:
            self._too_large()
            return
        if line_number == 1 and first is not None and not first.strip():
            self.outcome.file_errors.append("the file is empty")

    def _too_large(self) -> None:
        self.outcome.file_errors.append(
            f"the file is larger than the {self._limits.max_bytes // (1024 * 1024)} MiB limit; "
            "rows after the limit were not read: split it into smaller files"
        )

    def _line_problem(self, first_line: int, last_line: int) -> str | None:
        for number in range(first_line, last_line + 1):
            if number in self._line_problems:
                return self._line_problems[number]
        return None

    # ------------------------------------------------------------------ columns and values
    def _accept_columns(self, names: Iterable[str]) -> None:
        for name in names:
            if name in self._known or name in self._unknown_columns:
                continue
            if len(self._unknown_columns) >= MAX_NAMED_UNKNOWN_COLUMNS:
                self._unnamed_unknown_columns += 1
                continue
            self._unknown_columns.add(name)
            hint = difflib.get_close_matches(name[:64], sorted(self._known), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            self.outcome.warnings.append(
                f"column {echo(name)} is not a known column; its values were ignored{suggestion}"
            )

    def _value_problem(self, line: int, values: dict[str, Any]) -> RowRejected | None:
        """Sizes of the values of known columns (what they mean is the row model's business)."""
        limits = self._limits
        for name, value in values.items():
            if isinstance(value, str) and len(value) <= limits.max_cell_chars:
                continue  # every CSV cell, most JSON values: nothing more to look at
            if name not in self._known:
                continue
            elements = value if isinstance(value, list) else [value]
            if len(elements) > limits.max_list_items:
                return RowRejected(line, name, f"holds more than {limits.max_list_items} items")
            for element in elements:
                if isinstance(element, str) and len(element) > limits.max_cell_chars:
                    return RowRejected(line, name, f"is longer than {limits.max_cell_chars:,} characters")
                if isinstance(element, _RefusedNumber):
                    return RowRejected(line, name, element.reason)
        return None

    def _known_values(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in values.items() if name in self._known}

    # ------------------------------------------------------------------ CSV
    def _csv_header(self, reader: CsvReader) -> list[str] | None:
        """Reads the header (skipping leading blank lines); None, with a file error, if unusable."""
        try:
            header = next(reader)
            while not any(cell.strip() for cell in header):
                header = next(reader)
        except StopIteration:
            if not self.outcome.file_errors:
                self.outcome.file_errors.append("the file is empty")
            return None
        except csv.Error as exc:
            self.outcome.file_errors.append(f"the header line is not valid CSV: {exc}")
            return None
        problem = self._line_problem(1, reader.line_num)
        if problem:
            self.outcome.file_errors.append(f"the header cannot be read: {problem}")
            return None
        if len(header) > self._limits.max_columns:
            self.outcome.file_errors.append(
                f"the header has {len(header):,} columns; at most {self._limits.max_columns} are read"
            )
            return None
        columns = [normalise_column(name) for name in header]
        duplicated = sorted(name for name, count in Counter(filter(None, columns)).items() if count > 1)
        if duplicated:
            self.outcome.file_errors.append(
                f"the header repeats column(s): {', '.join(echo(name) for name in duplicated)}"
            )
            return None
        missing = sorted(self._required - set(columns))
        if missing:
            self.outcome.file_errors.append(f"the header lacks required column(s): {', '.join(missing)}")
            return None
        return columns

    def _csv_rows(self, lines: Iterator[str]) -> Iterator[SourceRow | RowRejected]:
        # A quoted cell may span lines; one that never closes stops at this size, not at the end of the file.
        csv.field_size_limit(max(self._limits.max_line_bytes, self._limits.max_cell_chars + 1))
        reader = csv.reader(lines, strict=True)
        columns = self._csv_header(reader)
        if columns is None:
            return
        self._accept_columns(name for name in columns if name)
        last_line = reader.line_num
        saw_row = False
        while True:
            first_line = last_line + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.outcome.file_errors.append(
                    f"line {reader.line_num} is not valid CSV ({exc}); rows from there on were not read"
                )
                return
            last_line = reader.line_num
            problem = self._line_problem(first_line, last_line)
            if problem and not self._dropped_lines.isdisjoint(range(first_line, last_line + 1)):
                # Whether a dropped line opened a quote is unknown: nothing after it can be trusted.
                self.outcome.file_errors.append(f"{problem}; rows from there on were not read")
                return
            if not any(cell.strip() for cell in cells):
                continue  # blank line: no data to lose
            saw_row = True
            if problem:
                yield RowRejected(first_line, None, problem)
                continue
            if len(cells) != len(columns):
                yield RowRejected(
                    first_line,
                    None,
                    f"has {len(cells)} cells but the header has {len(columns)} columns "
                    "(a missing quote or an unquoted comma?)",
                )
                continue
            values = dict(zip(columns, cells, strict=True))
            rejected = self._value_problem(first_line, values)
            if rejected:
                yield rejected
                continue
            yield SourceRow(first_line, self._known_values(values))
        if not saw_row and not self.outcome.file_errors:
            self.outcome.file_errors.append("the file has a header but no rows")

    # ------------------------------------------------------------------ JSON Lines
    def _jsonl_rows(self, lines: Iterator[str]) -> Iterator[SourceRow | RowRejected]:
        saw_row = False
        for number, line in enumerate(lines, start=1):
            problem = self._line_problem(number, number)
            if not line.strip() and not problem:
                continue
            saw_row = True
            if problem:
                yield RowRejected(number, None, problem)
                continue
            start = len(line) - len(line.lstrip())
            try:
                item = _DECODER.decode(line.strip())
            except RecursionError:  # json gave up thousands of levels down
                yield RowRejected(number, None, self._too_deep())
                continue
            except json.JSONDecodeError as exc:
                yield RowRejected(number, None, f"is not valid JSON ({exc.msg} at column {start + exc.colno})")
                continue
            yield from self._json_item(number, item)
        if not saw_row and not self.outcome.file_errors:
            self.outcome.file_errors.append("the file is empty")

    # ------------------------------------------------------------------ JSON array
    def _json_array_rows(self, lines: Iterator[str]) -> Iterator[SourceRow | RowRejected]:
        text = "".join(lines)
        if self.outcome.file_errors:
            return
        if self._line_problems:
            first_bad = min(self._line_problems)
            self.outcome.file_errors.append(self._line_problems[first_bad])
            return
        position = _skip_space(text, 0)
        if position >= len(text):
            self.outcome.file_errors.append("the file is empty")
            return
        if text[position] != "[":
            self.outcome.file_errors.append(
                "a .json upload must be an array of objects: [{...}, {...}] (use .jsonl for one object per line)"
            )
            return
        position = _skip_space(text, position + 1)
        line = text.count("\n", 0, position) + 1
        counted_to = position
        saw_row = False
        if position < len(text) and text[position] == "]":
            self.outcome.file_errors.append("the file holds an empty array: no rows")
            return
        while position < len(text):
            line += text.count("\n", counted_to, position)
            counted_to = position
            saw_row = True
            try:
                item, end = _DECODER.raw_decode(text, position)
            except RecursionError:  # json gave up thousands of levels down: find the row's end without it
                yield RowRejected(line, None, self._too_deep())
                closed_at = _closing_position(text, position)
                if closed_at is None:
                    self.outcome.file_errors.append(
                        f"the row at line {line} is never closed; rows from there on were not read"
                    )
                    return
                end = closed_at
            except json.JSONDecodeError as exc:
                self.outcome.file_errors.append(
                    f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
                    "rows from there on were not read"
                )
                return
            else:
                yield from self._json_item(line, item)
            position = _skip_space(text, end)
            if position < len(text) and text[position] == ",":
                position = _skip_space(text, position + 1)
                continue
            if position < len(text) and text[position] == "]":
                if _skip_space(text, position + 1) < len(text):
                    self.outcome.file_errors.append("unexpected text after the closing ']' was ignored")
                break
            where = text.count("\n", 0, position) + 1
            self.outcome.file_errors.append(
                f"invalid JSON at line {where}: expected ',' or ']' after an item; rows from there on were not read"
            )
            return
        else:
            if saw_row:
                self.outcome.file_errors.append("the JSON array is not closed with ']'")
        if not saw_row and not self.outcome.file_errors:
            self.outcome.file_errors.append("the file holds no rows")

    def _too_deep(self) -> str:
        return (
            f"nests arrays or objects more than {self._limits.max_nesting} levels deep; "
            "a row is an object of texts, numbers and lists of texts"
        )

    def _json_item(self, line: int, item: object) -> Iterator[SourceRow | RowRejected]:
        if _depth(item) > self._limits.max_nesting:
            yield RowRejected(line, None, self._too_deep())
            return
        if not isinstance(item, dict):
            yield RowRejected(line, None, f"must be a JSON object, not {type(item).__name__}")
            return
        if len(item) > self._limits.max_columns:
            yield RowRejected(line, None, f"has {len(item):,} fields; at most {self._limits.max_columns} are read")
            return
        values: dict[str, Any] = {}
        repeated = list(item.repeated) if isinstance(item, _JsonObject) else []
        for key, value in item.items():
            name = normalise_column(key)
            if name in values:
                repeated.append(key)  # "Title" and "title" name one column
            values[name] = value
        known_repeated = next((key for key in repeated if normalise_column(key) in self._known), None)
        if known_repeated is not None:
            field_name = normalise_column(known_repeated)
            yield RowRejected(line, field_name, f"is given twice ({echo(known_repeated)}); keep one")
            return
        self._accept_columns(values)
        rejected = self._value_problem(line, values)
        if rejected:
            yield rejected
            return
        yield SourceRow(line, self._known_values(values))


class _FileTooLarge(Exception):
    """Internal signal: the byte limit was passed while streaming."""


@dataclass(frozen=True)
class _RefusedNumber:
    """Stands in the decoded JSON for a number that cannot be stored; its row is refused."""

    reason: str


class _JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers the keys it was given twice (json keeps the last)."""

    repeated: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    decoded = dict(pairs)
    if len(decoded) == len(pairs):
        return decoded
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _ in pairs:
        if key in seen:
            repeated.append(key)
        seen.add(key)
    remembered = _JsonObject(decoded)
    remembered.repeated = tuple(repeated)
    return remembered


def _json_int(digits: str) -> int | _RefusedNumber:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        return _RefusedNumber(f"is a number with more than {MAX_NUMBER_DIGITS} digits")
    return int(digits)


def _json_float(text: str) -> float | _RefusedNumber:
    number = float(text)
    return number if math.isfinite(number) else _RefusedNumber("is a number too large to store")


def _json_constant(name: str) -> _RefusedNumber:
    return _RefusedNumber(f"is {name}, which is not a number JSON allows")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_json_object, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant
)
_LINE_END = re.compile(rb"\r\n|\r|\n")
# Runs of brackets, or the opening quote of a string.
_JSON_STRUCTURE = re.compile(r'"|[\[\]{}]+')
# The rest of a JSON string after its opening quote. Possessive: no backtracking state is kept,
# so a string of millions of escapes is one linear match.
_JSON_STRING_REST = re.compile(r'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)


def _depth(value: object) -> int:
    """How many arrays and objects are nested in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        current, level = pending.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _closing_position(text: str, start: int) -> int | None:
    """Where the array or object opening at ``start`` closes (None: never), by counting brackets
    outside strings: linear, and a run of brackets costs one step, not one per bracket."""
    depth = 0
    position = start
    while (match := _JSON_STRUCTURE.search(text, position)) is not None:
        position = match.end()
        run = match.group()
        if run == '"':
            string = _JSON_STRING_REST.match(text, position)
            if string is None:
                return None
            position = string.end()
            continue
        openers = run.count("[") + run.count("{")
        if openers == len(run):
            depth += openers
        elif openers == 0 and depth > len(run):
            depth -= len(run)
        else:
            for offset, char in enumerate(run):
                depth += 1 if char in "[{" else -1
                if depth == 0:
                    return match.start() + offset + 1
    return None


def _chain(first: bytes | None, rest: Iterator[bytes | None]) -> Iterator[bytes | None]:
    yield first
    yield from rest


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position
