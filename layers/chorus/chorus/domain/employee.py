"""Employees as the roster upload describes them."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chorus.domain.fields import Flag, Line, Locale, NameList, TimeZoneName
from chorus.domain.report import echo
from chorus.domain.slack import LOOKUP_RETRY_AFTER, DigestChannel
from chorus.errors import FieldProblem

DEFAULT_TIMEZONE = "UTC"
DEFAULT_LOCALE = "en"
# Decisions recorded before the profile was bounded: one attribute per decided content item,
# "decided#<content id>" = version. Still read; no longer written.
DECIDED_PREFIX = "decided#"
# The profile's decisions, bounded: one string set per month in which the decided content ends,
# "decided_<YYYYMM>" = {"<content id>:<version>", ...}. Every decision removes the sets of the
# months before its own: their content has ended, and the digest never offers ended content.
# Content without an end is filed OPEN_ENDED_MONTHS after the decision: if it is still active
# then, the employee is asked again.
#
# Size bound (DynamoDB item size: attribute names plus values), worst case:
#   uploaded fields and bookkeeping    <= 2,000 B  (email 254, name 200, ten 30-character groups,
#                                                   time zone, locale, fingerprint, flags, times,
#                                                   Slack user id, lookup time and digest channel)
#   per live decision                      27 B  (content id 22, ":", version up to 3 digits, set)
#   per monthly set name                   14 B  (at most OPEN_ENDED_MONTHS + 3 sets)
# A live decision is one on content that ends this month or later (UTC months), or on
# open-ended content decided within OPEN_ENDED_MONTHS months. PROFILE_SIZE_BOUND holds for 70
# live decisions: 10 decisions a week on content shown for up to two weeks stays under 60 (a
# month and a half of them) with room for 10 open-ended ones; a year of it is tested
# (tests/integration/store/test_profile_bound.py). More content or longer windows raise it by
# 27 B a decision. Impact (points and visits per week) is not on the profile: weekly items
# under TTL beside it.
DECIDED_SET_PREFIX = "decided_"
OPEN_ENDED_MONTHS = 6
PROFILE_SIZE_BOUND = 2_050 + 70 * 27 + (OPEN_ENDED_MONTHS + 3) * 14  # 4,066 B
# A digest slot: weekday and local quarter hour, "MON0900" (chorus.domain.digest.DigestTime).
DIGEST_SLOT_PATTERN = r"^(MON|TUE|WED|THU|FRI|SAT|SUN)([01][0-9]|2[0-3])(00|15|30|45)$"
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
    # The weekday and local time the employee chose on /me for their digest (a DigestTime.slot,
    # "MON0900"); None: the company's (DigestSchedule). Theirs: an upload never changes it.
    digest_slot: str | None = Field(default=None, pattern=DIGEST_SLOT_PATTERN)
    # When the address bounced for good (SES feedback): nothing is emailed to it any more.
    undeliverable_at: datetime | None = None
    # When the employee's data was erased (an admin's erasure): a tombstone, never a person again.
    erased_at: datetime | None = None
    # Slack: the employee's Slack user id found by their address, when we last looked (found or
    # not), and where they want the digest (their own choice on /me).
    slack_user_id: str | None = None
    slack_checked_at: datetime | None = None
    digest_channel: DigestChannel = DigestChannel.EMAIL

    @model_validator(mode="before")
    @classmethod
    def _collect_decisions(cls, data: Any) -> Any:
        """The table keeps decisions in monthly sets decided_<YYYYMM> of "<content id>:<version>"
        (and, from before, decided#<content id> = version): the highest version per content."""
        if isinstance(data, dict) and "decided_versions" not in data:
            versions: dict[str, int] = {}
            for name, value in data.items():
                if not isinstance(name, str):
                    continue
                if name.startswith(DECIDED_PREFIX):
                    pairs = [(name.removeprefix(DECIDED_PREFIX), int(value))]
                elif name.startswith(DECIDED_SET_PREFIX) and name.removeprefix(DECIDED_SET_PREFIX).isdigit():
                    pairs = [_decision_entry(entry) for entry in value]
                else:
                    continue
                for content_id, version in pairs:
                    versions[content_id] = max(version, versions.get(content_id, version))
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

    def slack_lookup_due(self, now: datetime) -> bool:
        """Whether to look the employee up in Slack: never looked, or not found a while ago."""
        if self.slack_user_id is not None:
            return False
        return self.slack_checked_at is None or now - self.slack_checked_at >= LOOKUP_RETRY_AFTER

    def wants_digest(self) -> bool:
        return self.active and self.digest_opt_in and self.can_be_emailed()


# Fields the employee, the approval flow, scoring or email feedback own: an upload never sets
# them, and they are not part of what tells an uploaded row changed.
NOT_UPLOADED = frozenset(
    {
        "digest_opt_in",
        "digest_slot",
        "decided",
        "decided_versions",
        "impact",
        "undeliverable_at",
        "erased_at",
        "slack_user_id",
        "slack_checked_at",
        "digest_channel",
    }
)


def _decision_entry(entry: str) -> tuple[str, int]:
    content_id, _, version = entry.rpartition(":")
    return content_id, int(version)


def decision_entry(content_id: str, version: int) -> str:
    return f"{content_id}:{version}"


def _month(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


def _month_name(ordinal: int) -> str:
    return f"{DECIDED_SET_PREFIX}{ordinal // 12:04d}{ordinal % 12 + 1:02d}"


def decision_set(content_ends_at: datetime | None, decided_at: datetime) -> str:
    """The monthly set a decision goes in: the month the content ends (UTC), or for content
    without an end, OPEN_ENDED_MONTHS after the decision."""
    if content_ends_at is None:
        return _month_name(_month(decided_at.astimezone(UTC)) + OPEN_ENDED_MONTHS)
    return _month_name(_month(content_ends_at.astimezone(UTC)))


# The first month a decision set can name: the sets a decision removes start here.
FIRST_DECISION_MONTH = datetime(2026, 1, 1, tzinfo=UTC)


def ended_decision_sets(decided_at: datetime) -> list[str]:
    """The sets a decision at ``decided_at`` removes: every month before its own (their content
    has ended). The names grow by twelve a year, all in one REMOVE."""
    first_kept = _month(decided_at.astimezone(UTC))
    return [_month_name(month) for month in range(_month(FIRST_DECISION_MONTH), first_kept)]
