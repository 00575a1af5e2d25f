"""The publisher: at the scheduled time, re-check consent and publish the approved text once.

Exactly once: the SCHEDULED -> PUBLISHING transition is a conditional write, so of two
concurrent invocations (a Scheduler retry, a sweeper repair) only one publishes; the network
call carries an idempotency key where the network supports one. A post is PUBLISHED only when
the network confirmed it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from chorus.domain.approval import Approval, ApprovalStatus
from chorus.domain.content import Content, ContentStatus, Network
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed
from chorus.observability import logger


class PublishTarget(BaseModel):
    """The Scheduler input: which approval, at which revision."""

    model_config = ConfigDict(frozen=True)

    employee_id: str
    content_id: str
    network: Network
    revision: int


class Outcome(StrEnum):
    PUBLISHED = "published"
    SKIPPED = "skipped"
    RETRACTED = "retracted"
    FAILED = "failed"
    NEEDS_RECONNECT = "needs_reconnect"


class NetworkPublisher(Protocol):
    def publish(self, post: PostRequest) -> Published: ...


class PublishRecords(Protocol):
    def publish_state(
        self, employee_id: str, content_id: str, network: Network
    ) -> tuple[Approval | None, Content | None]: ...
    def start_publishing(self, approval: Approval, now: datetime) -> Approval | None: ...
    def finish(self, approval: Approval, status: ApprovalStatus, now: datetime, extra: dict[str, Any]) -> Approval: ...
    def retract_approval(self, approval: Approval, now: datetime) -> Approval | None: ...


class PublishService:
    def __init__(
        self,
        records: PublishRecords,
        networks: Mapping[Network, NetworkPublisher],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._records = records
        self._networks = networks
        self._now = now

    def publish(self, target: PublishTarget) -> Outcome:
        logger.append_keys(employee_id=target.employee_id, content_id=target.content_id, network=target.network.value)
        approval, content = self._records.publish_state(target.employee_id, target.content_id, target.network)
        if approval is None or approval.revision != target.revision:
            logger.warning("no approval for this schedule; nothing published")
            return Outcome.SKIPPED
        if approval.status is not ApprovalStatus.SCHEDULED:
            logger.info("approval is not scheduled any more; nothing published", status=approval.status.value)
            return Outcome.SKIPPED
        if content is None or content.status is not ContentStatus.ACTIVE:
            self._records.retract_approval(approval, self._now())
            logger.info("content withdrawn; nothing published")
            return Outcome.RETRACTED
        started = self._records.start_publishing(approval, self._now())
        if started is None:
            logger.info("another invocation is publishing this approval")
            return Outcome.SKIPPED
        network = self._networks.get(approval.network)
        if network is None:
            self._records.finish(started, ApprovalStatus.FAILED, self._now(), {"failure_reason": "network not enabled"})
            logger.error("network not enabled")
            return Outcome.FAILED
        try:
            published = network.publish(_post_request(started, content))
        except PublishFailed as failure:
            status = (
                ApprovalStatus.NEEDS_RECONNECT if failure.kind is FailureKind.UNAUTHORIZED else ApprovalStatus.FAILED
            )
            self._records.finish(started, status, self._now(), {"failure_reason": failure.reason})
            logger.warning("publish failed", kind=failure.kind.value)
            return Outcome.NEEDS_RECONNECT if status is ApprovalStatus.NEEDS_RECONNECT else Outcome.FAILED
        extra: dict[str, Any] = {"external_post_id": published.external_id}
        if published.url:
            extra["external_post_url"] = published.url
        self._records.finish(started, ApprovalStatus.PUBLISHED, self._now(), extra)
        logger.info("published")
        return Outcome.PUBLISHED


def _post_request(approval: Approval, content: Content) -> PostRequest:
    return PostRequest(
        network=approval.network,
        idempotency_key=f"{approval.approval_id}-r{approval.revision}",
        employee_id=approval.employee_id,
        text=approval.text,
        link=content.url,
        title=content.title,
    )
