"""What the publisher sends to a network, what a network answers, and which approval is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from chorus.domain.content import Network

if TYPE_CHECKING:
    from chorus.domain.approval import Approval


class PublishTarget(BaseModel):
    """Which approval is due, at which revision: what a schedule fires and a publish queue carries."""

    model_config = ConfigDict(frozen=True)

    employee_id: str
    content_id: str
    network: Network
    revision: int

    @classmethod
    def of(cls, approval: Approval) -> PublishTarget:
        return cls(
            employee_id=approval.employee_id,
            content_id=approval.content_id,
            network=approval.network,
            revision=approval.revision,
        )

    def message(self) -> dict[str, Any]:
        """The schedule's input and the queue message's body (``PublishMessage``)."""
        return {"approval": self.model_dump(mode="json")}


class PublishMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    approval: PublishTarget


@dataclass(frozen=True)
class PostRequest:
    """Exactly the approved text, plus the link it shares. The key makes a retry a no-op."""

    network: Network
    idempotency_key: str
    employee_id: str
    text: str
    link: str
    title: str
    # What some networks put in the post besides (Bluesky's card and record): the snapshot's
    # image, the card's description, the employee's locale, and when this attempt started.
    image_url: str | None = None
    description: str = ""
    locale: str | None = None
    created_at: datetime | None = None


class QuotaScope(StrEnum):
    APP = "app"  # every post the company's app makes on the network
    USER = "user"  # this employee's posts through the app


@dataclass(frozen=True)
class Quota:
    """A network's allowance as one of its answers stated it: what is left, and when it refills."""

    scope: QuotaScope
    remaining: int
    resets_at: datetime
    limit: int | None = None

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0


@dataclass(frozen=True)
class Published:
    external_id: str
    url: str | None
    quotas: tuple[Quota, ...] = ()


class FailureKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # retry after the reset time
    UNAUTHORIZED = "unauthorized"  # refresh once, then ask the employee to reconnect
    TRANSIENT = "transient"  # 5xx, timeouts: retry with backoff
    DUPLICATE = "duplicate"  # the network already has this exact post: never retried blindly
    REJECTED = "rejected"  # the network refused the content
    # The deployment must change (a retired API version): nothing the employee did or can do;
    # the post waits, retried later, and the operator is alerted.
    OPERATOR = "operator"


class PublishFailed(Exception):
    def __init__(
        self,
        kind: FailureKind,
        reason: str,
        retry_after_seconds: int | None = None,
        quotas: tuple[Quota, ...] = (),
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds
        self.quotas = quotas
