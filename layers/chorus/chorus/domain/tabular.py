"""Reading uploaded files (CSV, JSON array, JSON Lines) into rows, one problem at a time.

The reader never raises on bad input: every problem becomes a ``RowRejected`` (that row is
skipped, the others go on) or a file-level problem (nothing more can be read), each with a
reason an admin can act on. CSV and JSON Lines are streamed line by line so memory does not
grow with the file; a JSON array is held whole, which the upload size limit bounds.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Cells larger than this are refused: no field we store is longer (LinkedIn text is 3,000).
MAX_CELL_CHARS = 10_000

# Spreadsheets run cells that start with these as formulas (CSV/formula injection, OWASP).
_FORMULA_PREFIXES = ("=", "@", "\t", "\r")
# "+" and "-" start ordinary text ("- new office", "+33 1 23", "-10% off"), so they only count
# when glued to what follows and the cell holds a call, a sheet reference or a cell reference.
_SIGNED_FORMULA = re.compile(r"^[+-]\S.*(\(|!|\b\$?[A-Za-z]{1,3}\$?\d+\b)")


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


def formula_problem(value: str) -> str | None:
    if value.startswith(_FORMULA_PREFIXES) or _SIGNED_FORMULA.match(value):
        first = repr(value[:1])
        return (
            f"starts with {first}, which spreadsheets run as a formula; "
            "remove the leading character (or start the cell with an apostrophe)"
        )
    return None


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
        max_bytes: int,
    ) -> None:
        self._chunks = chunks
        self._format = fmt
        self._known = known_columns
        self._required = required_columns
        self._max_bytes = max_bytes
        self.outcome = ReadOutcome()
        self._undecodable_lines: dict[int, str] = {}
        self._warned_columns: set[str] = set()

    # ------------------------------------------------------------------ public
    def __iter__(self) -> Iterator[SourceRow | RowRejected]:
        lines = self._decoded_lines()
        if self._format is UploadFormat.CSV:
            yield from self._csv_rows(lines)
        elif self._format is UploadFormat.JSONL:
            yield from self._jsonl_rows(lines)
        else:
            yield from self._json_array_rows(lines)

    # ------------------------------------------------------------------ bytes -> text
    def _raw_lines(self) -> Iterator[bytes]:
        pending = b""
        for chunk in self._chunks:
            self.outcome.bytes_read += len(chunk)
            if self.outcome.bytes_read > self._max_bytes:
                raise _FileTooLarge
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line + b"\n"
        if pending:
            yield pending

    def _decoded_lines(self) -> Iterator[str]:
        """Yields text lines; a line that is not UTF-8 is remembered so its row is refused."""
        raw = self._raw_lines()
        try:
            first = next(raw)
        except StopIteration:
            self.outcome.file_errors.append("the file is empty")
            return
        except _FileTooLarge:
            self._too_large()
            return
        if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
            b"\x00" in first[:64] and not first.startswith(codecs.BOM_UTF8)
        ):
            self.outcome.file_errors.append(
                "the file is UTF-16 (or binary), not UTF-8 text; export it as 'CSV UTF-8' or UTF-8 JSON"
            )
            return
        if first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8) :]
            self.outcome.warnings.append("the file starts with a UTF-8 byte order mark (BOM); it was ignored")
        line_number = 0
        try:
            for line in _chain(first, raw):
                line_number += 1
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad = line[exc.start : exc.start + 1].hex().upper()
                    self._undecodable_lines[line_number] = (
                        f"line {line_number} is not valid UTF-8 (byte 0x{bad} at position {exc.start + 1}); "
                        "export the file as UTF-8"
                    )
                    yield line.decode("utf-8", errors="replace")
        except _FileTooLarge:
            self._too_large()
            return
        if line_number == 1 and not first.strip():
            self.outcome.file_errors.append("the file is empty")

    def _too_large(self) -> None:
        self.outcome.file_errors.append(
            f"the file is larger than the {self._max_bytes // (1024 * 1024)} MiB limit; "
            "rows after the limit were not read: split it into smaller files"
        )

    def _decode_problem(self, first_line: int, last_line: int) -> str | None:
        for number in range(first_line, last_line + 1):
            if number in self._undecodable_lines:
                return self._undecodable_lines[number]
        return None

    # ------------------------------------------------------------------ columns
    def _accept_columns(self, names: Iterable[str]) -> None:
        for name in names:
            if name in self._known or name in self._warned_columns:
                continue
            self._warned_columns.add(name)
            hint = difflib.get_close_matches(name, sorted(self._known), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            self.outcome.warnings.append(f"column '{name}' is not a known column; its values were ignored{suggestion}")

    def _cell_problems(self, line: int, values: dict[str, Any]) -> RowRejected | None:
        for name, value in values.items():
            if not isinstance(value, str):
                continue
            if len(value) > MAX_CELL_CHARS:
                return RowRejected(line, name, f"is longer than {MAX_CELL_CHARS} characters")
            problem = formula_problem(value)
            if problem:
                return RowRejected(line, name, problem)
        return None

    def _known_values(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in values.items() if name in self._known}

    # ------------------------------------------------------------------ CSV
    def _csv_header(self, reader: Iterator[list[str]]) -> list[str] | None:
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
        columns = [normalise_column(name) for name in header]
        duplicated = sorted({name for name in columns if columns.count(name) > 1})
        if duplicated:
            self.outcome.file_errors.append(f"the header repeats column(s): {', '.join(duplicated)}")
            return None
        missing = sorted(self._required - set(columns))
        if missing:
            self.outcome.file_errors.append(f"the header lacks required column(s): {', '.join(missing)}")
            return None
        return columns

    def _csv_rows(self, lines: Iterator[str]) -> Iterator[SourceRow | RowRejected]:
        csv.field_size_limit(max(self._max_bytes, MAX_CELL_CHARS + 1))
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
            if not any(cell.strip() for cell in cells):
                continue  # blank line: no data to lose
            saw_row = True
            decode_problem = self._decode_problem(first_line, last_line)
            if decode_problem:
                yield RowRejected(first_line, None, decode_problem)
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
            problem = self._cell_problems(first_line, values)
            if problem:
                yield problem
                continue
            yield SourceRow(first_line, self._known_values(values))
        if not saw_row and not self.outcome.file_errors:
            self.outcome.file_errors.append("the file has a header but no rows")

    # ------------------------------------------------------------------ JSON Lines
    def _jsonl_rows(self, lines: Iterator[str]) -> Iterator[SourceRow | RowRejected]:
        saw_row = False
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            saw_row = True
            decode_problem = self._decode_problem(number, number)
            if decode_problem:
                yield RowRejected(number, None, decode_problem)
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RowRejected(number, None, f"is not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            yield from self._json_item(number, item)
        if not saw_row and not self.outcome.file_errors:
            self.outcome.file_errors.append("the file is empty")

    # ------------------------------------------------------------------ JSON array
    def _json_array_rows(self, lines: Iterator[str]) -> Iterator[SourceRow | RowRejected]:
        text = "".join(lines)
        if self.outcome.file_errors:
            return
        if self._undecodable_lines:
            first_bad = min(self._undecodable_lines)
            self.outcome.file_errors.append(self._undecodable_lines[first_bad])
            return
        decoder = json.JSONDecoder()
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
            try:
                item, end = decoder.raw_decode(text, position)
            except json.JSONDecodeError as exc:
                self.outcome.file_errors.append(
                    f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
                    "rows from there on were not read"
                )
                return
            saw_row = True
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

    def _json_item(self, line: int, item: object) -> Iterator[SourceRow | RowRejected]:
        if not isinstance(item, dict):
            yield RowRejected(line, None, f"must be a JSON object, not {type(item).__name__}")
            return
        values = {normalise_column(str(key)): value for key, value in item.items()}
        self._accept_columns(values)
        problem = self._cell_problems(line, values)
        if problem:
            yield problem
            return
        for list_field, value in values.items():
            if isinstance(value, list):
                for element in value:
                    if isinstance(element, str) and formula_problem(element):
                        yield RowRejected(line, list_field, formula_problem(element) or "")
                        return
        yield SourceRow(line, self._known_values(values))


class _FileTooLarge(Exception):
    """Internal signal: the byte limit was passed while streaming."""


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position
