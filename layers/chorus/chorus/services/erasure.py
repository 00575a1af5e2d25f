"""Erasure: an admin's answer to an employee's request to be forgotten, in one idempotent operation.

In this order, each step safe to repeat, so a run that stops half-way is finished by the next:

1. withdraw: the employee becomes inactive, every scheduled post is cancelled and its schedule
   deleted, every social token deleted (``LifecycleService.deactivate``, the one place that does
   it; the publisher's PUBLISHING transition is conditioned on an active employee, so a post due
   that minute is not published);
2. the raw roster uploads that mention the employee (their address or full name), and those
   uploads' reports, are deleted with every stored version (this needs the address and name,
   so it runs before the tombstone; a run stopped before the tombstone repeats it);
3. the profile becomes a tombstone (id, inactive, erased_at): name, email, groups, time zone,
   locale and every preference are gone, and the address's first profile records which
   generation comes next, so a later roster upload of the same address creates a new employee;
   nothing can be approved, connected or scored for the tombstone;
4. withdraw again (what was approved between 1 and 3), then the records the company keeps to
   prove consent are pseudonymised (each approval keeps its hashes, the snapshot of the
   company's content, its times and where it was published, under the pseudonymous id; the
   words go); everything else about the person is deleted (declines, scores and with them the
   leaderboards, digest markers, daily counts, the demo feed's posts) or loses what names them
   (an admin's reason for reversing points, the open redemptions list).

A post already being published when the erasure runs is left to finish (its consent was given
by an active employee); it is counted as in flight and pseudonymised by the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from chorus import clock
from chorus.domain.employee import Employee, employee_id_for
from chorus.domain.privacy import Mentions
from chorus.errors import NotFound
from chorus.observability import logger
from chorus.store.privacy import ErasureConflict, PersonalRecords

# Where roster files and their reports are kept (S3 uploads, admin API posts): content uploads
# hold no personal data and are never read here.
ROSTER_PREFIXES = (
    "uploads/employees/",
    "uploads/api/employees/",
    "reports/uploads/employees/",
    "reports/uploads/api/employees/",
)
# Items of the employee's partition that serve nobody once they are gone (entity names).
DELETED_ENTITIES = (
    "decline",
    "digest",
    "slack_digest",
    "day_count",
    "score",
    "connection",
    "impact",
    "week_activity",
    "opened",
)
TOMBSTONE_ATTEMPTS = 3


class Records(Protocol):
    def records(self, employee_id: str) -> PersonalRecords: ...
    def profile(self, employee_id: str) -> dict[str, Any] | None: ...
    def pseudonymise_approval(
        self, pk: str, sk: str, now: datetime, *, decided_before: str | None = None, skip_in_flight: bool = False
    ) -> bool: ...
    def forget_reason(self, pk: str, sk: str) -> bool: ...
    def leave_listing(self, pk: str, sk: str) -> bool: ...
    def delete_personal(self, records: PersonalRecords, entities: tuple[str, ...]) -> int: ...
    def erase_profile(self, profile: dict[str, Any], now: datetime, *, root: tuple[str, int] | None) -> None: ...


class WithdrawalResult(Protocol):
    @property
    def posts_cancelled(self) -> int: ...
    @property
    def connections_deleted(self) -> int: ...


class Withdrawals(Protocol):
    def deactivate(self, employee_id: str) -> WithdrawalResult: ...
    def withdraw(self, employee_id: str) -> WithdrawalResult: ...


class Profiles(Protocol):
    def employee_by_email(self, email: str) -> Employee | None: ...


class _Opened(Protocol):
    @property
    def chunks(self) -> Iterator[bytes]: ...


class _Version(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def version_id(self) -> str: ...


class UploadArchive(Protocol):
    def versions(self, prefix: str) -> Iterator[_Version]: ...
    def open(self, key: str, version_id: str | None = None) -> _Opened: ...
    def delete_version(self, key: str, version_id: str) -> None: ...


@dataclass(frozen=True)
class Erasure:
    """What one run did (a second run answers zeros, and ``erased_now`` false)."""

    employee_id: str
    erased_now: bool
    posts_cancelled: int
    connections_deleted: int
    uploads_deleted: int
    records_pseudonymised: int
    items_deleted: int
    posts_in_flight: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Found:
    """Who an address is now: the employee a roster upload of it would update, or their tombstone."""

    employee_id: str
    active: bool
    erased: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class ErasureService:
    def __init__(
        self,
        records: Records,
        withdrawals: Withdrawals,
        profiles: Profiles,
        uploads: UploadArchive,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._records = records
        self._withdrawals = withdrawals
        self._profiles = profiles
        self._uploads = uploads
        self._now = now

    def find(self, email: str) -> Found:
        employee = self._profiles.employee_by_email(email)
        if employee is None:
            raise NotFound("no employee has this address")
        return Found(employee.employee_id, employee.active, employee.erased_at is not None)

    def erase(self, employee_id: str) -> Erasure:
        before = self._records.records(employee_id)
        if before.profile is None:
            raise NotFound(f"employee {employee_id} does not exist")
        withdrawn = self._withdrawals.deactivate(employee_id)
        uploads = 0
        profile = before.profile
        if "erased_at" not in profile:
            uploads = self._purge_uploads(Mentions.of(str(profile.get("email", "")), str(profile.get("name", ""))))
        erased_now = self._tombstone(employee_id)
        # The tombstone ends every write on the employee's behalf (approving, connecting and
        # scoring are conditioned on an active, unerased profile): what slipped in between the
        # first withdrawal and it is withdrawn now, and only then are the records scrubbed.
        late = self._withdrawals.withdraw(employee_id)
        pseudonymised, deleted, in_flight = self._scrub(self._records.records(employee_id))
        erasure = Erasure(
            employee_id=employee_id,
            erased_now=erased_now,
            posts_cancelled=withdrawn.posts_cancelled + late.posts_cancelled,
            connections_deleted=withdrawn.connections_deleted + late.connections_deleted,
            uploads_deleted=uploads,
            records_pseudonymised=pseudonymised,
            items_deleted=deleted,
            posts_in_flight=in_flight,
        )
        logger.info(
            "employee erased",
            employee_id=employee_id,
            erased_now=erased_now,
            posts_cancelled=erasure.posts_cancelled,
            connections_deleted=erasure.connections_deleted,
            uploads_deleted=uploads,
            records_pseudonymised=pseudonymised,
            items_deleted=deleted,
            posts_in_flight=in_flight,
        )
        return erasure

    # ------------------------------------------------------------------ steps
    def _purge_uploads(self, mentions: Mentions) -> int:
        deleted = 0
        for prefix in ROSTER_PREFIXES:
            for version in list(self._uploads.versions(prefix)):
                try:
                    found = mentions.found_in(self._uploads.open(version.key, version.version_id).chunks)
                except NotFound:
                    continue  # expired (lifecycle) or deleted since it was listed
                if found:
                    self._uploads.delete_version(version.key, version.version_id)
                    deleted += 1
        return deleted

    def _scrub(self, records: PersonalRecords) -> tuple[int, int, int]:
        now = self._now()
        pseudonymised = in_flight = 0
        for approval in records.of("approval"):
            if "pseudonymised_at" in approval:
                continue
            if self._records.pseudonymise_approval(approval["PK"], approval["SK"], now, skip_in_flight=True):
                pseudonymised += 1
            else:
                in_flight += 1
        for entry in records.of("points"):
            self._records.forget_reason(entry["PK"], entry["SK"])
        for redemption in records.of("redemption"):
            if "GSI2PK" in redemption:
                self._records.leave_listing(redemption["PK"], redemption["SK"])
        deleted = self._records.delete_personal(records, DELETED_ENTITIES)
        return pseudonymised, deleted, in_flight

    def _tombstone(self, employee_id: str) -> bool:
        """True if this run erased the profile; False if it was erased already."""
        for _ in range(TOMBSTONE_ATTEMPTS):
            profile = self._records.profile(employee_id)
            if profile is None or "erased_at" in profile:
                return False
            first_id = employee_id_for(str(profile.get("email", "")))
            root: tuple[str, int] | None = None
            if first_id != employee_id:
                first = self._records.profile(first_id)
                root = (first_id, int((first or {}).get("generation", 1)))
            try:
                self._records.erase_profile(profile, self._now(), root=root)
            except ErasureConflict:
                continue  # an upload or another erasure wrote meanwhile: read again
            return True
        raise ErasureConflict("the profile kept changing while it was erased; run the erasure again")
