"""Export rows and files: a ledger row is the approval as recorded (the hash is never computed
again), a spreadsheet never runs a cell as a formula while the JSON Lines keep every text exactly,
and a ledger export is of one search or of a bounded range of UTC days."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.approval import Approval, ApprovalStatus
from chorus.domain.content import Network
from chorus.domain.exports import (
    LEDGER_COLUMNS,
    REDEMPTION_COLUMNS,
    LedgerCriteria,
    RowWriter,
    ledger_row,
    redemption_row,
)
from chorus.domain.ledger import LedgerEntry, LedgerSearch, SearchBy
from chorus.domain.rewards import Contact, Redemption, RedemptionForAdmin, RedemptionStatus
from chorus.errors import InvalidInput

APPROVED_AT = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
TODAY = date(2026, 11, 30)
# Not the hash of any text below: the row must carry what the ledger recorded, not recompute it.
RECORDED_HASH = "ab" * 32


def entry(text: str = "Hello Lyon", **extra: object) -> LedgerEntry:
    approval = Approval(
        approval_id="ap-1",
        employee_id="e-" + "a" * 20,
        content_id="c-" + "b" * 20,
        network=Network.SANDBOX,
        text=text,
        text_sha256=RECORDED_HASH,
        snapshot_sha256="cd" * 32,
        link_url="https://example.com/lyon",
        title="Lyon",
        publish_at=APPROVED_AT,
        timezone="Europe/Paris",
        when="now",
        status=ApprovalStatus.PUBLISHED,
        schedule_name="s-1",
        approved_at=APPROVED_AT,
        channel="slack",
        external_post_url="https://sandbox.example/p/1",
    )
    return LedgerEntry(approval=approval, **extra)  # type: ignore[arg-type]


def written(columns: tuple[str, ...], rows: list[dict[str, object]]) -> tuple[list[list[str]], list[dict[str, object]]]:
    csv_out, json_out = io.StringIO(newline=""), io.StringIO()
    writer = RowWriter(columns, csv_out, json_out)
    for row in rows:
        writer.row(row)
    assert writer.rows == len(rows)
    return list(csv.reader(io.StringIO(csv_out.getvalue()))), [
        json.loads(line) for line in json_out.getvalue().splitlines()
    ]


def test_a_ledger_row_keeps_the_hash_as_recorded_and_both_clocks() -> None:
    row = ledger_row(entry())

    assert row["text_sha256"] == RECORDED_HASH and row["snapshot_sha256"] == "cd" * 32
    assert row["text"] == "Hello Lyon" and row["title"] == "Lyon" and row["link_url"] == "https://example.com/lyon"
    assert row["approved_at_utc"] == "2026-11-02T08:30:00+00:00"
    assert row["employee_timezone"] == "Europe/Paris" and row["approved_at_local"] == "2026-11-02T09:30:00+01:00"
    assert (
        row["channel"] == "slack" and row["outcome"] == "published" and row["post_url"] == "https://sandbox.example/p/1"
    )
    assert set(row) == set(LEDGER_COLUMNS)


def test_a_pseudonymised_row_has_the_proof_and_not_the_words() -> None:
    row = ledger_row(entry(pseudonymised_at=datetime(2027, 11, 3, tzinfo=UTC)))

    assert row["text"] is None and row["employee_timezone"] is None and row["approved_at_local"] is None
    assert row["text_sha256"] == RECORDED_HASH and row["pseudonymised_at_utc"] == "2027-11-03T00:00:00+00:00"


@pytest.mark.parametrize("text", ["=1+1", "+33 6 12", "-2 points", "@here Lyon", "\tTab", "\rCR"])
def test_a_text_a_spreadsheet_would_run_is_neutralised_in_the_csv_and_exact_in_the_json(text: str) -> None:
    rows, lines = written(LEDGER_COLUMNS, [ledger_row(entry(text))])

    header, row = rows
    assert row[header.index("text")] == "'" + text
    assert lines[0]["text"] == text and lines[0]["text_sha256"] == RECORDED_HASH


@given(st.text(min_size=1, max_size=300))
def test_every_text_survives_both_files(text: str) -> None:
    rows, lines = written(LEDGER_COLUMNS, [ledger_row(entry(text))])

    cell = rows[1][rows[0].index("text")]
    assert len(lines) == 1 and lines[0]["text"] == text
    assert cell in {text, "'" + text}
    assert cell[:1] not in {"=", "+", "@", "\t", "\r"} and not (cell.startswith("-") and not cell.lstrip("-").isdigit())


def test_a_redemption_row_names_the_employee_and_the_times() -> None:
    redemption = Redemption(
        redemption_id="r-1",
        employee_id="e-" + "c" * 20,
        reward_id="w-1",
        reward_name="Mug",
        cost=120,
        status=RedemptionStatus.FULFILLED,
        requested_at=APPROVED_AT,
        fulfilled_at=datetime(2026, 11, 3, tzinfo=UTC),
    )
    item = RedemptionForAdmin(redemption=redemption, contact=Contact(name="@Zoé", email="zoe@example.com"))

    rows, lines = written(REDEMPTION_COLUMNS, [redemption_row(item)])

    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["name"] == "'@Zoé" and row["email"] == "zoe@example.com" and row["points"] == "120"
    assert (
        row["requested_at_utc"] == "2026-11-02T08:30:00+00:00"
        and row["fulfilled_at_utc"] == "2026-11-03T00:00:00+00:00"
    )
    assert lines[0]["name"] == "@Zoé" and lines[0]["points"] == 120


def test_a_ledger_export_is_of_a_search_or_of_days_and_reads_back_from_its_record() -> None:
    search = LedgerCriteria.of_search(LedgerSearch.parse("employee", " Ada@Example.com "))
    days = LedgerCriteria.of_days("2026-11-01", "2026-11-30", TODAY)

    assert (search.by, search.q) == (SearchBy.EMPLOYEE, "ada@example.com")
    assert LedgerCriteria.model_validate(search.as_record()) == search
    assert LedgerCriteria.model_validate(days.as_record()) == days
    assert days.days()[0] == date(2026, 11, 1) and len(days.days()) == 30
    with pytest.raises(ValueError, match="a search or of a range of days"):
        LedgerCriteria.model_validate(
            {"by": "employee", "q": "x@example.com", "first_day": "2026-11-01", "last_day": "2026-11-02"}
        )


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("2026-11-30", "2026-11-01", "to"),
        ("2026-10-30", "2026-11-30", "to"),  # 32 days
        ("2026-12-01", "2026-12-01", "to"),  # after today
        ("30/11/2026", "2026-11-30", "from"),
        ("2026-02-30", "2026-03-01", "from"),
    ],
)
def test_a_range_of_days_out_of_bounds_is_refused_naming_the_field(first: str, last: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        LedgerCriteria.of_days(first, last, TODAY)

    assert [problem.field for problem in refused.value.problems] == [field]
