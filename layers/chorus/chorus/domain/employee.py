"""Employees as the roster upload describes them."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chorus.domain.fields import Flag, Line, Locale, NameList, TimeZoneName
from chorus.domain.report import echo
from chorus.errors import FieldProblem

DEFAULT_TIMEZONE = "UTC"
DEFAULT_LOCALE = "en"
# The profile keeps one flat attribute per decided content item, "decided#<content id>", holding
# the content version decided: deciding a newer version overwrites it, so the item grows by one
# attribute per content item (as the old set did), not per version.
DECIDED_PREFIX = "decided#"
_EMAIL = re.compile(r"^[^@\s\"'<>(),;:\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def employee_id_for(email: str, generation: int = 0) -> str:
    """Stable id derived from the normalised email, so re-uploading a roster finds the same people.

    An erased employee's id is never given again: the same address on a later roster becomes the
    next generation, a new employee (see chorus.store.catalog). Generation 0 is the id as it
    always was."""
    address = normalise_email(email)
    source = address if generation == 0 else f"{address}\x00{generation}"
    return "e-" + hashlib.sha256(source.encode()).hexdigest()[:20]


class EmployeeRow(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    email: Line = None
    name: Line = None
    groups: NameList = Field(default_factory=list)
    timezone: TimeZoneName = None
    locale: Locale = None
    active: Flag = None

    def problems(self) -> list[FieldProblem]:
        found: list[FieldProblem] = []
        if not self.email:
            found.append(FieldProblem("email", "is required"))
        elif len(self.email) > 254 or not _EMAIL.match(normalise_email(self.email)):
            found.append(FieldProblem("email", f"{echo(self.email)} is not a valid address"))
        if not self.name:
            found.append(FieldProblem("name", "is required"))
        elif len(self.name) > 200:
            found.append(FieldProblem("name", "is longer than 200 characters"))
        return found

    def to_entity(self) -> Employee:
        if self.problems() or not (self.email and self.name):
            raise ValueError("to_entity() on a row that has problems")
        email = normalise_email(self.email)
        return Employee(
            employee_id=employee_id_for(email),
            email=email,
            name=self.name,
            groups=self.groups,
            timezone=self.timezone or DEFAULT_TIMEZONE,
            locale=self.locale or DEFAULT_LOCALE,
            active=True if self.active is None else self.active,
        )


EMPLOYEE_COLUMNS = frozenset(EmployeeRow.model_fields)
EMPLOYEE_REQUIRED_COLUMNS = frozenset({"email", "name"})


class Employee(BaseModel):
    """An employee as stored. ``digest_opt_in`` is the employee's own choice: uploads never change it.

    Once erased, only the pseudonymous id, ``active`` (false) and ``erased_at`` remain: email and
    name read as empty."""

    model_config = ConfigDict(frozen=True)

    employee_id: str
    email: str = ""
    name: str = ""
    groups: list[str] = Field(default_factory=list)
    timezone: str = DEFAULT_TIMEZONE
    locale: str = DEFAULT_LOCALE
    active: bool = True
    digest_opt_in: bool = True
    # Content the employee approved or declined, and the version they decided on: the digest
    # leaves it out until a newer version comes. Owned by the approval flow, never by an upload.
    decided_versions: dict[str, int] = Field(default_factory=dict)
    # Decisions recorded before versions were kept (a string set of content ids).
    decided: frozenset[str] = frozenset()
    # Points and visits per ISO week ("2026W48"), kept by the scoring function.
    impact: dict[str, dict[str, int]] = Field(default_factory=dict)
    # When the address bounced for good (SES feedback): nothing is emailed to it any more.
    undeliverable_at: datetime | None = None
    # When the employee's data was erased (an admin's erasure): a tombstone, never a person again.
    erased_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _collect_flat_attributes(cls, data: Any) -> Any:
        """The table keeps impact as flat attributes impact_<week>_<points|clicks>, and decisions
        as decided#<content id> = version."""
        if isinstance(data, dict) and "impact" not in data:
            impact: dict[str, dict[str, int]] = {}
            for name, value in data.items():
                if isinstance(name, str) and name.startswith("impact_") and name.count("_") == 2:
                    _, week, measure = name.split("_")
                    impact.setdefault(week, {})[measure] = int(value)
            if impact:
                data = {**data, "impact": impact}
        if isinstance(data, dict) and "decided_versions" not in data:
            versions = {
                name.removeprefix(DECIDED_PREFIX): int(value)
                for name, value in data.items()
                if isinstance(name, str) and name.startswith(DECIDED_PREFIX)
            }
            if versions:
                data = {**data, "decided_versions": versions}
        return data

    def has_decided(self, content_id: str, version: int) -> bool:
        """True if the employee decided on this version of the content (or a later one).

        A decision recorded before versions were kept still counts, whatever the version: the
        employee is told by a notice if an approval of theirs cannot go out because the content
        changed since.
        """
        decided = self.decided_versions.get(content_id)
        if decided is not None:
            return decided >= version
        return content_id in self.decided

    def fingerprint(self) -> str:
        uploaded = self.model_dump(mode="json", exclude=set(NOT_UPLOADED))
        canonical = json.dumps(uploaded, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def can_be_emailed(self) -> bool:
        return self.undeliverable_at is None and self.erased_at is None

    def wants_digest(self) -> bool:
        return self.active and self.digest_opt_in and self.can_be_emailed()


# Fields the employee, the approval flow, scoring or email feedback own: an upload never sets
# them, and they are not part of what tells an uploaded row changed.
NOT_UPLOADED = frozenset({"digest_opt_in", "decided", "decided_versions", "impact", "undeliverable_at", "erased_at"})
