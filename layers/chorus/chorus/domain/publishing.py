"""What the publisher sends to a network, and what a network answers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chorus.domain.content import Network


@dataclass(frozen=True)
class PostRequest:
    """Exactly the approved text, plus the link it shares. The key makes a retry a no-op."""

    network: Network
    idempotency_key: str
    employee_id: str
    text: str
    link: str
    title: str


@dataclass(frozen=True)
class Published:
    external_id: str
    url: str | None


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
    def __init__(self, kind: FailureKind, reason: str, retry_after_seconds: int | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds
