"""Hypothesis strategies for uploaded files: random bytes and the shapes admins (and attackers)
really send: spreadsheet exports with odd encodings, BOMs, NULs, mixed line endings, broken
quoting, huge cells, JSON nested far too deep, numbers JSON cannot hold, repeated keys.

How many examples each property runs: ``FUZZ_EXAMPLES`` (200 by default, what `make test` runs).
A deeper run: ``CHORUS_FUZZ_EXAMPLES=20000 make pytest PYTEST_ARGS="-k fuzz"``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import unicodedata
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from chorus.domain.content import content_columns
from chorus.domain.employee import EMPLOYEE_COLUMNS

FUZZ_EXAMPLES = int(os.environ.get("CHORUS_FUZZ_EXAMPLES", "200"))
# No deadline: a few examples are megabytes on purpose. Large and filtered data is the point here.
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# Characters that break naive readers and writers, each one way or another.
AWKWARD = "\",;\t\r\n\x00\x1b\x7f\x85\u00a0\u200b\u2028\u2029\u202e\u2066\ufeff=@+-'\\[]{}:é漢🎉"
KNOWN_COLUMNS = sorted(content_columns() | EMPLOYEE_COLUMNS)
COLUMN_NAMES = st.one_of(
    st.sampled_from(KNOWN_COLUMNS),
    st.sampled_from([" Title ", "URL", "Image URL", "text-x", "e-mail", "", "title"]),
    st.text(alphabet=st.sampled_from(AWKWARD + "abcxyz_ "), max_size=12),
)
CELLS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(AWKWARD + "ab1 "), max_size=40),
    st.sampled_from(
        [
            "https://example.com/x",
            "javascript:alert(1)",
            "ada@example.com",
            "Ada\r\nBcc: eve@example.com",
            " =1+2",
            "\n=cmd|' /C calc'!A0",
            "@SUM(A1)",
            "2026-12-01",
            "0001-01-01T00:00:00+05:00",
            "Europe/Paris",
            "fr_FR",
            "no",
            "9" * 50,
            "sales;paris",
        ]
    ),
    # around the cell and line limits of the fuzzed readers and of production
    st.sampled_from([59, 60, 61, 399, 401, 9_999, 10_000, 10_001]).map(lambda n: "x" * n),
)
LINE_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV as spreadsheets and scripts write it, then encoded (or mis-encoded) and maybe damaged."""
    columns = draw(st.lists(COLUMN_NAMES, min_size=0, max_size=8))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(columns) + 2), max_size=12))
    if draw(st.booleans()):  # a header we know, rows valid but for what is fuzzed
        content = draw(st.booleans())
        columns = ["title", "url", "text", *columns] if content else ["email", "name", *columns]
        rows = [
            ([draw(CELLS), f"https://example.com/{i}", draw(CELLS)] if content else [f"u{i}@example.com", draw(CELLS)])
            + row
            for i, row in enumerate(rows)
        ]
    buffer = io.StringIO()
    if draw(st.booleans()):
        writer = csv.writer(
            buffer,
            quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
            lineterminator=draw(LINE_ENDINGS),
        )
        writer.writerow(columns)
        writer.writerows(rows)
    else:  # hand-made: no quoting at all, endings mixed line by line
        for record in [columns, *rows]:
            buffer.write(",".join(record) + draw(LINE_ENDINGS))
    return draw(_encoded(buffer.getvalue()))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | CELLS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=6,
)
# Text json.dumps never writes, spliced anywhere into a row.
SPLICES = st.sampled_from(
    [
        "",
        "NaN",
        "-Infinity",
        "1e999",
        "9" * 5000,
        '"\\ud800"',
        '{"title": "a", "title": "b"}',
        '"unterminated',
        "]",
        "}",
        ",",
        "[" * 3000 + "1" + "]" * 3000,
        "[" * 3000,
    ]
)


@st.composite
def json_rows(draw: st.DrawFn) -> Any:
    """One row: an object of plausible and implausible values, or something that is not a row."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(JSON_VALUES)
    row = draw(st.dictionaries(COLUMN_NAMES, JSON_VALUES, max_size=6))
    # Mostly rows valid but for what is fuzzed, so the row models see the awkward values too.
    if draw(st.booleans()):
        row = {
            "title": draw(CELLS),
            "url": f"https://example.com/{draw(st.integers(0, 99))}",
            "text": draw(CELLS),
        } | row
    if draw(st.booleans()):
        row = {"email": f"u{draw(st.integers(0, 99))}@example.com", "name": draw(CELLS)} | row
    return row


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    """A JSON value as text, sometimes spliced with what json.dumps never writes."""
    text = _dump(draw(json_rows()))
    splice = draw(SPLICES)
    if not splice:
        return text
    at = draw(st.integers(min_value=0, max_value=len(text)))
    return text[:at] + splice + text[at:]


def deep_nesting(depth: int, *, closed: bool, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + ("1" + closer * depth if closed else "")


@st.composite
def json_array_files(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(json_texts(), max_size=6))
    separator = draw(st.sampled_from([",", ",\n", ",\r\n  ", "\n", ",,"]))
    text = "[" + separator.join(items) + draw(st.sampled_from(["]", "", "]\n", "] trailing"]))
    return draw(_encoded(text))


@st.composite
def json_lines_files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(json_texts(), max_size=8))
    text = "".join(line + draw(LINE_ENDINGS) for line in lines)
    return draw(_encoded(text))


@st.composite
def deeply_nested_files(draw: st.DrawFn) -> bytes:
    """JSON nested far past any recursion limit, in every position a row can hide it."""
    depth = draw(st.integers(min_value=1, max_value=60_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    nested = deep_nesting(depth, closed=draw(st.booleans()), opener=opener, closer=closer)
    shape = draw(
        st.sampled_from(
            ["{nested}", "[{nested}]", '[{{"title": {nested}}}]', '{{"title": {nested}}}\n{{"title": "A"}}']
        )
    )
    return shape.format(nested=nested).encode()


@st.composite
def _encoded(draw: st.DrawFn, text: str) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"]))
    data = text.encode(encoding, errors="replace" if encoding in {"latin-1", "cp1252"} else "surrogatepass")
    if draw(st.booleans()):  # damage: bytes no UTF-8 decoder accepts, NULs, stray BOMs, truncation
        junk = draw(
            st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x00", codecs.BOM_UTF8, b"\xe2\x82", b"\r"])
        )
        at = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:at] + junk + data[at:]
        if draw(st.booleans()):
            data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    return data


def chunked(data: bytes, size: int) -> list[bytes]:
    """How S3 hands the body over (1 MiB in production; small here so lines straddle chunks)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def printable(message: str) -> bool:
    """What a report says is safe for a terminal, a browser and a spreadsheet: no controls, line
    separators, bidi controls or lone surrogates, whatever the upload held."""
    return not any(
        unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"}
        or "\u202a" <= char <= "\u202e"
        or "\u2066" <= char <= "\u2069"
        for char in message
    )
