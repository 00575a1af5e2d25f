"""The consent ledger's search for the console: an employee's approvals (found by address or
id) or a content item's, one page at a time, exactly as recorded."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from chorus.domain.employee import Employee
from chorus.domain.ledger import LedgerEntry, LedgerSearch, SearchBy
from chorus.domain.listing import Page
from chorus.errors import FieldProblem, InvalidInput


class LedgerRecords(Protocol):
    def approvals_of_employee(
        self, employee_id: str, limit: int, start: dict[str, Any] | None
    ) -> Page[LedgerEntry]: ...
    def approvals_of_content(self, content_id: str, limit: int, start: dict[str, Any] | None) -> Page[LedgerEntry]: ...
    def approvals_decided_on(self, day: date, limit: int, start: dict[str, Any] | None) -> Page[LedgerEntry]: ...


class EmployeeDirectory(Protocol):
    def employee_by_email(self, email: str) -> Employee | None: ...


class ConsentLedger:
    def __init__(self, records: LedgerRecords, directory: EmployeeDirectory) -> None:
        self._records = records
        self._directory = directory

    def search(self, search: LedgerSearch, limit: int, start: dict[str, Any] | None = None) -> Page[LedgerEntry]:
        if search.by is SearchBy.CONTENT:
            return self._records.approvals_of_content(search.value, limit, start)
        employee_id = search.value
        if search.email is not None:
            # The employee the address names now (an erased one's tombstone until it is uploaded again).
            employee = self._directory.employee_by_email(search.email)
            if employee is None:
                return Page(items=[], next_token=None)
            employee_id = employee.employee_id
        return self._records.approvals_of_employee(employee_id, limit, start)

    def decided_on(self, day: date, limit: int, start: dict[str, Any] | None = None) -> Page[LedgerEntry]:
        """The approvals decided on one UTC day that the retention job has not pseudonymised yet."""
        return self._records.approvals_decided_on(day, limit, start)

    def pinned(self, search: LedgerSearch) -> LedgerSearch:
        """The search as an export keeps it: an address resolved now to the employee it names, so
        the export's record holds a pseudonymous id, never the address (it outlives no erasure)."""
        if search.email is None:
            return search
        employee = self._directory.employee_by_email(search.email)
        if employee is None:
            problem = FieldProblem("q", "no employee was ever uploaded with this address")
            raise InvalidInput("nobody to export", [problem])
        return LedgerSearch(by=SearchBy.EMPLOYEE, value=employee.employee_id)
