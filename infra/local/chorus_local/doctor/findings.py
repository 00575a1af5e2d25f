"""What the doctor reports: one finding per check, PASS / WARN / FAIL, what is wrong and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a check's outcome, not a password
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    """``check`` is a stable id (``ses.dkim``); ``detail`` says what is so; ``fix`` what to do, or ""."""

    check: str
    status: Status
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status.value, "detail": self.detail, "fix": self.fix}


def passed(check: str, detail: str) -> Finding:
    return Finding(check, Status.PASS, detail)


def warned(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, Status.WARN, detail, fix)


def failed(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, Status.FAIL, detail, fix)


@dataclass(frozen=True)
class Report:
    stack: str
    region: str
    checked_at: datetime
    findings: tuple[Finding, ...]

    def count(self, status: Status) -> int:
        return sum(1 for finding in self.findings if finding.status is status)

    @property
    def exit_code(self) -> int:
        """1 when any check failed: a WARN is worth reading, not worth stopping a pipeline for."""
        return 1 if self.count(Status.FAIL) else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "checked_at": self.checked_at.isoformat(),
            "summary": {status.value: self.count(status) for status in Status},
            "checks": [finding.as_json() for finding in self.findings],
        }
