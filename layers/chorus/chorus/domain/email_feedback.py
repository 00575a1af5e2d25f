"""What a mailbox provider told SES about our email, and what Chorus does about it.

Bulk senders are held to a spam-complaint rate under 0.3% (Gmail, Yahoo) and SES reviews an
account past 5% bounces or 0.1% complaints: an address that bounces for good is never written to
again, and someone who marks the digest as spam is unsubscribed from it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class FeedbackKind(StrEnum):
    # The receiving server refused the address for good (no such mailbox, domain gone...).
    HARD_BOUNCE = "hard_bounce"
    # A refusal that may pass (mailbox full, message too large) or whose cause SES could not tell.
    SOFT_BOUNCE = "soft_bounce"
    # The recipient marked the message as spam.
    COMPLAINT = "complaint"


class Suppression(StrEnum):
    """What feedback changes for the employee."""

    # No email of any kind goes to the address any more.
    UNDELIVERABLE = "undeliverable"
    # The weekly digest stops, as if the employee had pressed unsubscribe.
    UNSUBSCRIBED = "unsubscribed"


class Recorded(StrEnum):
    """What recording a suppression did."""

    NOW = "now"
    ALREADY = "already"  # a redelivered event, or a second feedback about the same address
    NO_EMPLOYEE = "no_employee"


class EmailFeedback(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FeedbackKind
    # SES's id of this feedback: recorded with the suppression, the same on a redelivered event.
    feedback_id: str
    occurred_at: datetime
    addresses: tuple[str, ...]
    # The provider's own classification, e.g. "Permanent/General" or "abuse", for the record.
    reason: str

    @property
    def suppression(self) -> Suppression | None:
        if self.kind is FeedbackKind.HARD_BOUNCE:
            return Suppression.UNDELIVERABLE
        if self.kind is FeedbackKind.COMPLAINT:
            return Suppression.UNSUBSCRIBED
        return None
