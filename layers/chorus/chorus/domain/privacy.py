"""Employees' rights over their data (access, erasure) and how long consent records stay whole.

Pure rules: what a download leaves out, what an erased or aged consent record keeps, how an
upload is recognised as mentioning someone. docs/privacy.md is the data map these follow.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# The consent ledger (approvals, with the texts approved) and declines are kept whole this long
# by default, then pseudonymised (template parameter LedgerRetentionDays).
DEFAULT_LEDGER_RETENTION = timedelta(days=1096)

# Attributes a download never contains: keys and index copies of other attributes, a hash of the
# profile's uploaded fields, write counters, and the sealed social tokens (secrets).
NOT_DOWNLOADED = frozenset(
    {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "fingerprint", "version", "tokens"}
)

# What an approval keeps once pseudonymised (erasure, or older than the ledger retention): the
# proof of consent (who by pseudonymous id, what by hash and snapshot, when, where it went), not
# the words. Attributes set to a neutral value (the record model needs them), then removed.
APPROVAL_NEUTRAL_VALUES = {"text": "", "user_agent": "", "timezone": "UTC"}
# A network's error text may echo the post or the member's handle: those go too.
# A reviewer's note may quote the employee's words.
APPROVAL_REMOVED = ("external_post_url", "failure_reason", "last_failure", "cancel_reason", "review_note")


@dataclass(frozen=True)
class Mentions:
    """Whether a file mentions someone: their address or their full name, in any letter case,
    as written in a CSV or JSON file (JSON may escape non-ASCII letters as \\uXXXX)."""

    needles: tuple[str, ...]

    @classmethod
    def of(cls, *values: str) -> Mentions:
        forms: set[str] = set()
        for value in values:
            text = value.strip()
            if len(text) < 3:  # a one- or two-letter name would match nearly any file
                continue
            forms.add(text.casefold())
            forms.add(json.dumps(text)[1:-1].casefold())  # \u escapes, as json.dumps writes them
        return cls(tuple(sorted(forms)))

    @property
    def longest(self) -> int:
        return max((len(needle) for needle in self.needles), default=0)

    def found_in(self, chunks: Iterable[bytes]) -> bool:
        """Reads the chunks in order (a file streamed from S3); True as soon as a needle is seen,
        even across a chunk boundary."""
        if not self.needles:
            return False
        # Incremental: a chunk may end in the middle of a letter's bytes (S3 cuts anywhere).
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        carry = ""
        for chunk in chunks:
            text = carry + decoder.decode(chunk).casefold()
            if any(needle in text for needle in self.needles):
                return True
            carry = text[-self.longest :]
        return False


def ledger_days(after: date, cutoff: date, limit: int) -> list[date]:
    """The ledger days a run of the retention job goes through: from the day after the last one
    done up to the day before ``cutoff``, at most ``limit`` of them."""
    days: list[date] = []
    day = after + timedelta(days=1)
    while day < cutoff and len(days) < limit:
        days.append(day)
        day += timedelta(days=1)
    return days
