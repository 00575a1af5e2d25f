"""CPU cost of reading uploads (TabularReader only: no validation, no AWS), ordinary and hostile.

Prints CPU seconds (process time, steadier than wall time on a shared machine) to read N rows
as CSV, JSON Lines and a JSON array, then files built to hurt: one JSON row nested 5,000,000
deep, one nested with "[0," 2,000,000 times, and a CSV header of a million commas.

    .venv/bin/python -m bench.upload_reader --rows 100000
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator

from chorus.domain.content import CONTENT_REQUIRED_COLUMNS, content_columns
from chorus.domain.tabular import ReadLimits, RowRejected, TabularReader, UploadFormat

MAX_BYTES = 25 * 1024 * 1024
CHUNK = 1024 * 1024  # what S3 hands over at a time


def _row(i: int) -> dict[str, object]:
    return {
        "id": f"n-{i}",
        "title": f"Title {i}",
        "url": f"https://example.com/{i}",
        "text": f"Text {i}",
        "groups": ["sales"],
    }


def files(rows: int) -> Iterator[tuple[str, UploadFormat, bytes]]:
    header = "id,title,url,text,groups\n"
    yield (
        "CSV",
        UploadFormat.CSV,
        (header + "".join(f"n-{i},Title {i},https://example.com/{i},Text {i},sales\n" for i in range(rows))).encode(),
    )
    yield "JSON Lines", UploadFormat.JSONL, "".join(json.dumps(_row(i)) + "\n" for i in range(rows)).encode()
    yield "JSON array", UploadFormat.JSON, ("[" + ",\n".join(json.dumps(_row(i)) for i in range(rows)) + "]").encode()
    yield "JSON 5,000,000 deep", UploadFormat.JSON, b"[" + b"[" * 5_000_000 + b"]" * 5_000_000 + b"]"
    yield 'JSON "[0," x 2,000,000', UploadFormat.JSON, ("[" + "[0," * 2_000_000 + "0" + "]" * 2_000_000 + "]").encode()
    yield (
        "CSV header of 1M commas",
        UploadFormat.CSV,
        ("title,url,text" + "," * 1_000_000 + "\nA,https://a.example,t\n").encode(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{'file':26s} {'MB':>6s} {'CPU s':>7s}  outcome")
    for name, fmt, data in files(args.rows):
        reader = TabularReader(
            (data[i : i + CHUNK] for i in range(0, len(data), CHUNK)),
            fmt,
            known_columns=content_columns(),
            required_columns=CONTENT_REQUIRED_COLUMNS,
            limits=ReadLimits(max_bytes=MAX_BYTES),
        )
        started = time.process_time()
        rows = list(reader)
        spent = time.process_time() - started
        refused = sum(isinstance(row, RowRejected) for row in rows)
        outcome = f"{len(rows) - refused} rows read, {refused} refused, {len(reader.outcome.file_errors)} file error(s)"
        print(f"{name:26s} {len(data) / 1e6:6.1f} {spent:7.2f}  {outcome}")


if __name__ == "__main__":
    main()
