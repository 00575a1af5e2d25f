"""The demo's data: sample dates moved to the current week, the mistakes file checked only."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from chorus_local.demo import check_without_importing, rebase_dates

SAMPLES = Path(__file__).resolve().parents[3] / "events" / "samples"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_sample_dates_move_to_this_week_keeping_their_gaps() -> None:
    original = (SAMPLES / "content.csv").read_text(encoding="utf-8")
    today = date(2027, 3, 4)  # a Thursday, long after the samples' dates
    moved = _rows(rebase_dates(original, today))
    before = _rows(original)
    starts = [date.fromisoformat(row["starts_at"]) for row in moved]
    assert min(starts) == date(2027, 3, 1)  # the Monday of that week
    shift = starts[0] - date.fromisoformat(before[0]["starts_at"])
    assert shift.days % 7 == 0
    for old, new in zip(before, moved, strict=True):
        for column in ("starts_at", "ends_at"):
            assert date.fromisoformat(new[column]) - date.fromisoformat(old[column]) == shift
        assert {k: v for k, v in new.items() if k not in {"starts_at", "ends_at"}} == {
            k: v for k, v in old.items() if k not in {"starts_at", "ends_at"}
        }
    # Every item is still running on that day
    assert all(date.fromisoformat(row["ends_at"]) > today - timedelta(days=1) for row in moved)


def test_a_file_without_dates_is_left_alone() -> None:
    text = "email,name\nada@example.com,Ada\n"
    assert rebase_dates(text, date(2027, 1, 1)) == text


def test_the_mistakes_file_is_reported_not_imported() -> None:
    report = check_without_importing("content", SAMPLES / "content-with-mistakes.csv", max_bytes=1024 * 1024)
    assert (report.counts.rows, report.counts.accepted, report.counts.rejected) == (5, 1, 4)
    assert {error.line for error in report.errors} == {3, 4, 5, 6}
    assert report.warnings  # the misspelt "titel" column
