"""The consent ledger's search rules and how an entry reads: what the console accepts as a search,
the outcome each status means, and the employee's local time (none once pseudonymised)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.approval import Approval, ApprovalStatus
from chorus.domain.content import Network
from chorus.domain.ledger import LedgerEntry, LedgerSearch, Outcome, SearchBy
from chorus.errors import InvalidInput

APPROVED_AT = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
EMPLOYEE = "e-" + "a" * 20
CONTENT = "c-" + "b" * 20


def entry(status: ApprovalStatus = ApprovalStatus.PUBLISHED, timezone: str = "Europe/Paris", **extra) -> LedgerEntry:
    approval = Approval(
        approval_id="ap-1",
        employee_id=EMPLOYEE,
        content_id=CONTENT,
        network=Network.SANDBOX,
        text="Hello",
        text_sha256="0" * 64,
        publish_at=APPROVED_AT,
        timezone=timezone,
        when="now",
        status=status,
        schedule_name="s-1",
        approved_at=APPROVED_AT,
    )
    return LedgerEntry(approval=approval, **extra)


def test_an_address_is_searched_in_lower_case_and_an_id_as_given() -> None:
    assert LedgerSearch.parse("employee", "  Ada@Example.COM ").email == "ada@example.com"
    by_id = LedgerSearch.parse("employee", EMPLOYEE)
    assert (by_id.by, by_id.value, by_id.email) == (SearchBy.EMPLOYEE, EMPLOYEE, None)
    assert LedgerSearch.parse("content", CONTENT).value == CONTENT


@pytest.mark.parametrize(
    ("by", "raw", "field"),
    [
        ("content", "lyon", "q"),
        ("content", "ada@example.com", "q"),
        ("employee", "e-123", "q"),
        ("employee", "   ", "q"),
        ("everything", CONTENT, "by"),
        ("employee", "a@" + "x" * 400, "q"),
    ],
)
def test_a_search_the_ledger_cannot_answer_is_refused_naming_the_field(by: str, raw: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        LedgerSearch.parse(by, raw)
    assert [problem.field for problem in refused.value.problems] == [field]


@given(st.text(max_size=400))
def test_any_text_is_either_a_search_or_a_clear_refusal(raw: str) -> None:
    for by in ("employee", "content"):
        try:
            search = LedgerSearch.parse(by, raw)
        except InvalidInput:
            continue
        assert search.value == search.value.strip() and 0 < len(search.value) <= 320


def test_every_status_has_an_outcome_and_a_lost_connection_is_a_failure() -> None:
    assert {status: entry(status).outcome for status in ApprovalStatus}[
        ApprovalStatus.NEEDS_RECONNECT
    ] is Outcome.FAILED
    assert entry(ApprovalStatus.RETRACTED).outcome is Outcome.RETRACTED


def test_the_local_time_is_on_the_employees_recorded_clock_and_gone_once_pseudonymised() -> None:
    local = entry().local_time
    assert local is not None and (local.hour, local.minute, str(local.tzinfo)) == (9, 30, "Europe/Paris")
    assert entry(timezone="UTC", pseudonymised_at=APPROVED_AT).local_time is None
    assert entry(timezone="Not/AZone").local_time is None
