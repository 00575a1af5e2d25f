"""Access: "Download my data" on /me, one JSON document with everything held on the employee.

Every item of the employee's partition is in it, by kind, with every attribute as stored except
keys, index copies, internal counters and the sealed social tokens (``NOT_DOWNLOADED``); an item
kind this module has never heard of is still included, under its own name. Plus the tracked
links of their posts. Nothing of anyone else: the visitors of their links appear only as counts.
docs/privacy.md says what each field is, why it is kept and for how long.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from chorus import clock
from chorus.domain.privacy import NOT_DOWNLOADED
from chorus.errors import NotFound
from chorus.observability import logger
from chorus.store.privacy import PersonalRecords

FORMAT = "chorus-personal-data/1"
ABOUT = (
    "Everything Chorus holds about you for your employer, as stored. What each field is, why it is "
    "kept and for how long: the data map (docs/privacy.md) your company's administrator can share."
)
# Where each kind of item goes in the document (an unknown kind goes under its own name).
SECTIONS = {
    "approval": "approvals",
    "decline": "declines",
    "connection": "connections",
    "points": "points",
    "balance": "balance",
    "score": "scores",
    "redemption": "redemptions",
    "redemption_key": "redemption_keys",
    "digest": "digests",
    "day_count": "daily_counts",
}


class Records(Protocol):
    def records(self, employee_id: str) -> PersonalRecords: ...


class DataExport:
    def __init__(self, records: Records, *, now: Callable[[], datetime] = clock.now) -> None:
        self._records = records
        self._now = now

    def document(self, employee_id: str) -> dict[str, Any]:
        """Everything held on the employee (NotFound once they are erased, or never were)."""
        found = self._records.records(employee_id)
        if found.profile is None or "erased_at" in found.profile:
            raise NotFound("no data is held on this employee")
        document: dict[str, Any] = {
            "format": FORMAT,
            "about": ABOUT,
            "employee_id": employee_id,
            "generated_at": self._now().isoformat(timespec="seconds"),
            "profile": _shown(found.profile),
            **{section: [] for section in SECTIONS.values()},
            "tracked_links": [_shown(link) for link in found.links],
        }
        for entity, items in sorted(found.items.items()):
            section = SECTIONS.get(entity, entity or "other")
            document.setdefault(section, []).extend(_shown(item) for item in items)
        logger.info("personal data downloaded", employee_id=employee_id)
        return document


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(value) for name, value in sorted(item.items()) if name not in NOT_DOWNLOADED}


def _plain(value: Any) -> Any:
    """JSON-ready: sets as sorted lists, bytes as base64 (none is expected outside the tokens)."""
    if isinstance(value, set | frozenset):
        return sorted(_plain(element) for element in value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, dict):
        return {str(name): _plain(element) for name, element in value.items()}
    return value
