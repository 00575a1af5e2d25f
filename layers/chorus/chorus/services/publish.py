"""The publisher: at the scheduled time, re-check consent and publish the approved post once.

What is posted is the approval's snapshot (text, link target, title) and nothing read later: a
content upload after the approval never changes it. The employee must still be active (checked
on the profile read with the approval, and again as a condition of the PUBLISHING transition);
a deactivated employee's post is cancelled, never sent. Approvals recorded before snapshots
existed are published only if the content provably did not change after the approval (it was
last written at least a second before the approval); otherwise they fail with a notice asking
the employee to approve the current version.

Exactly once: the SCHEDULED -> PUBLISHING transition is a conditional write, so of two
concurrent invocations (a Scheduler retry, a sweeper repair) only one publishes; the network
call carries an idempotency key where the network supports one. A post is PUBLISHED only when
the network confirmed it. Failures:
- rate limited: rescheduled after the network's reset time;
- unauthorized: one token refresh and one more try, then NEEDS_RECONNECT (the employee is told);
- outage or timeout: rescheduled with exponential backoff, at most MAX_ATTEMPTS, then FAILED;
- duplicate or refused content: FAILED at once, never retried blindly (the employee is told and
  may approve again);
- the deployment refused (a retired LinkedIn-Version): the operator's problem, not the
  employee's. The post stays SCHEDULED and is retried hourly for up to a week, an alert is
  recorded for admins and logged for the CloudWatch alarm; the employee hears nothing unless
  the week runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from chorus import clock
from chorus.domain.approval import (
    EMPLOYEE_INACTIVE,
    Approval,
    ApprovalStatus,
    PostSnapshot,
    schedule_name_for,
    snapshot_of,
)
from chorus.domain.connection import Credentials
from chorus.domain.content import Content, ContentStatus, Network
from chorus.domain.networks import profile_of
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed
from chorus.domain.tracking import link_code
from chorus.errors import ChorusError
from chorus.messages.channel import Notice, NoticeKind
from chorus.observability import PUBLICATIONS, PUBLISH_FAILURES, count, logger
from chorus.store.approvals import PublishState
from chorus.store.connections import StoredConnection

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(minutes=2)
MIN_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=24)
# Content item times are stored to the second: a write in the same second as an approval may
# have come after it.
TIMESTAMP_RESOLUTION = timedelta(seconds=1)
# Time for an operator to deploy a supported version: hourly tries for a week.
OPERATOR_RETRY_DELAY = timedelta(hours=1)
MAX_OPERATOR_ATTEMPTS = 7 * 24
# The log message the template's metric filter counts (OperatorActionNeeded alarm): keep in step.
OPERATOR_ALERT_LOG = "network refuses this deployment"
OPERATOR_GAVE_UP = (
    "the network refused Chorus's configuration for a week (not something you did); approve again to post it"
)


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
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    FAILED = "failed"
    NEEDS_RECONNECT = "needs_reconnect"


class NetworkPublisher(Protocol):
    def publish(self, post: PostRequest, credentials: Credentials | None) -> Published: ...


class CredentialSource(Protocol):
    def credentials(
        self,
        employee_id: str,
        network: Network,
        *,
        force_refresh: bool = False,
        stored: StoredConnection | None = None,
    ) -> Credentials | None: ...


class Rescheduler(Protocol):
    def schedule_once(self, name: str, at: datetime, timezone: str, payload: dict[str, Any]) -> None: ...


class Notices(Protocol):
    def notify(self, employee_id: str, notice: Notice) -> None: ...


class OperatorAlerts(Protocol):
    def raise_alert(self, network: Network, kind: str, message: str, now: datetime) -> None: ...


class PublishRecords(Protocol):
    def publish_state(self, employee_id: str, content_id: str, network: Network) -> PublishState: ...
    def start_publishing(
        self, approval: Approval, now: datetime, *, record_snapshot: bool = False
    ) -> Approval | None: ...
    def finish(self, approval: Approval, status: ApprovalStatus, now: datetime, extra: dict[str, Any]) -> Approval: ...
    def refuse(self, approval: Approval, now: datetime, reason: str) -> Approval | None: ...
    def cancel(
        self, employee_id: str, content_id: str, network: Network, now: datetime, *, reason: str | None = None
    ) -> Approval: ...
    def reschedule(
        self, approval: Approval, publish_at: datetime, schedule_name: str, reason: str
    ) -> Approval | None: ...
    def retract_approval(self, approval: Approval, now: datetime) -> Approval | None: ...


def schedule_payload(approval: Approval) -> dict[str, Any]:
    return {
        "approval": {
            "employee_id": approval.employee_id,
            "content_id": approval.content_id,
            "network": approval.network.value,
            "revision": approval.revision,
        }
    }


class PublishService:
    def __init__(
        self,
        records: PublishRecords,
        networks: Mapping[Network, NetworkPublisher],
        credentials: CredentialSource,
        scheduler: Rescheduler,
        notices: Notices,
        *,
        alerts: OperatorAlerts,
        link_base_url: str,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._alerts = alerts
        self._link_base_url = link_base_url
        self._records = records
        self._networks = networks
        self._credentials = credentials
        self._scheduler = scheduler
        self._notices = notices
        self._now = now

    def publish(self, target: PublishTarget) -> Outcome:
        outcome = self._publish(target)
        count({PUBLICATIONS: 1}, network=target.network.value, outcome=outcome.value)
        return outcome

    def _publish(self, target: PublishTarget) -> Outcome:
        logger.append_keys(employee_id=target.employee_id, content_id=target.content_id, network=target.network.value)
        state = self._records.publish_state(target.employee_id, target.content_id, target.network)
        approval, content = state.approval, state.content
        if approval is None or approval.revision != target.revision:
            logger.warning("no approval for this schedule; nothing published")
            return Outcome.SKIPPED
        if approval.status is not ApprovalStatus.SCHEDULED:
            logger.info("approval is not scheduled any more; nothing published", status=approval.status.value)
            return Outcome.SKIPPED
        if state.employee is None or not state.employee.active:
            return self._cancel_for_inactive_employee(approval)
        if content is None or content.status is not ContentStatus.ACTIVE:
            self._records.retract_approval(approval, self._now())
            logger.info("content withdrawn; nothing published")
            return Outcome.RETRACTED
        snapshot = approval.snapshot()
        legacy = approval.snapshot_sha256 is None
        if snapshot is None and legacy:
            snapshot = _unchanged_since_approval(approval, content)
        if snapshot is None:
            return self._refuse(approval, legacy=legacy)
        if legacy:
            approval = approval.with_snapshot(snapshot, content.version)
        started = self._records.start_publishing(approval, self._now(), record_snapshot=legacy)
        if started is None:
            logger.info("not published: another invocation is publishing it, or it was cancelled")
            return Outcome.SKIPPED
        network = self._networks.get(approval.network)
        if network is None:
            return self._fail(started, "this network is not enabled", notify=True)
        return self._attempt(started, snapshot, network, state.connection)

    def _cancel_for_inactive_employee(self, approval: Approval) -> Outcome:
        try:
            self._records.cancel(
                approval.employee_id, approval.content_id, approval.network, self._now(), reason=EMPLOYEE_INACTIVE
            )
        except ChorusError:
            logger.info("approval changed meanwhile; nothing published")
            return Outcome.SKIPPED
        logger.info("employee not active; post cancelled, nothing published")
        return Outcome.CANCELLED

    def _refuse(self, approval: Approval, *, legacy: bool) -> Outcome:
        """An approval whose snapshot cannot be trusted never goes out; the employee may approve again."""
        reason = (
            "the content changed after you approved it; review the current version and approve again"
            if legacy
            else "the approved post does not match its record; review it and approve again"
        )
        logger.warning("approval snapshot unverifiable; nothing published", legacy=legacy)
        if self._records.refuse(approval, self._now(), reason) is None:
            return Outcome.SKIPPED
        self._notices.notify(
            approval.employee_id,
            Notice(
                NoticeKind.FAILED, approval.network, content_id=approval.content_id, text=approval.text, reason=reason
            ),
        )
        return Outcome.FAILED

    def _attempt(
        self, approval: Approval, snapshot: PostSnapshot, network: NetworkPublisher, stored: StoredConnection | None
    ) -> Outcome:
        post = _post_request(approval, snapshot, f"{self._link_base_url}/r/{link_code(approval.approval_id)}")
        needs_credentials = profile_of(approval.network).needs_connection
        credentials = None
        if needs_credentials and stored is not None:
            credentials = self._credentials.credentials(approval.employee_id, approval.network, stored=stored)
        if needs_credentials and credentials is None:
            return self._needs_reconnect(approval)
        try:
            try:
                published = network.publish(post, credentials)
            except PublishFailed as first:
                if first.kind is not FailureKind.UNAUTHORIZED or not needs_credentials:
                    raise
                # One refresh, one more try with the same idempotency key.
                credentials = self._credentials.credentials(approval.employee_id, approval.network, force_refresh=True)
                if credentials is None:
                    return self._needs_reconnect(approval)
                published = network.publish(post, credentials)
        except PublishFailed as failure:
            return self._handle_failure(approval, failure)
        extra: dict[str, Any] = {"external_post_id": published.external_id}
        if published.url:
            extra["external_post_url"] = published.url
        self._records.finish(approval, ApprovalStatus.PUBLISHED, self._now(), extra)
        logger.info("published", external_post_id=published.external_id)
        return Outcome.PUBLISHED

    def _handle_failure(self, approval: Approval, failure: PublishFailed) -> Outcome:
        logger.warning("publish failed", kind=failure.kind.value, attempt=approval.attempt + 1)
        count({PUBLISH_FAILURES: 1}, network=approval.network.value, kind=failure.kind.value)
        if failure.kind is FailureKind.UNAUTHORIZED:
            return self._needs_reconnect(approval)
        if failure.kind is FailureKind.OPERATOR:
            return self._wait_for_operator(approval, failure)
        if failure.kind in {FailureKind.RATE_LIMITED, FailureKind.TRANSIENT} and approval.attempt + 1 < MAX_ATTEMPTS:
            if failure.kind is FailureKind.RATE_LIMITED and failure.retry_after_seconds:
                delay = timedelta(seconds=failure.retry_after_seconds)
            else:
                delay = BACKOFF_BASE * 2**approval.attempt
            delay = min(max(delay, MIN_RETRY_DELAY), MAX_RETRY_DELAY)
            return self._retry_later(approval, self._now() + delay, failure)
        return self._fail(approval, failure.reason, notify=True)

    def _retry_later(self, approval: Approval, at: datetime, failure: PublishFailed) -> Outcome:
        name = schedule_name_for(approval.approval_id, approval.revision, approval.attempt + 1)
        rescheduled = self._records.reschedule(approval, at, name, failure.kind.value)
        if rescheduled is None:
            return Outcome.SKIPPED
        self._scheduler.schedule_once(name, at, approval.timezone, schedule_payload(rescheduled))
        logger.info("rescheduled", at=at.isoformat(), attempt=rescheduled.attempt)
        return Outcome.RESCHEDULED

    def _wait_for_operator(self, approval: Approval, failure: PublishFailed) -> Outcome:
        logger.error(OPERATOR_ALERT_LOG, reason=failure.reason, attempt=approval.attempt + 1)
        self._alerts.raise_alert(approval.network, failure.kind.value, failure.reason, self._now())
        if approval.attempt + 1 < MAX_OPERATOR_ATTEMPTS:
            return self._retry_later(approval, self._now() + OPERATOR_RETRY_DELAY, failure)
        return self._fail(approval, OPERATOR_GAVE_UP, notify=True)

    def _needs_reconnect(self, approval: Approval) -> Outcome:
        self._records.finish(
            approval, ApprovalStatus.NEEDS_RECONNECT, self._now(), {"failure_reason": "reconnect needed"}
        )
        self._notices.notify(
            approval.employee_id,
            Notice(NoticeKind.RECONNECT, approval.network, content_id=approval.content_id, text=approval.text),
        )
        return Outcome.NEEDS_RECONNECT

    def _fail(self, approval: Approval, reason: str, *, notify: bool) -> Outcome:
        self._records.finish(approval, ApprovalStatus.FAILED, self._now(), {"failure_reason": reason[:300]})
        if notify:
            self._notices.notify(
                approval.employee_id,
                Notice(
                    NoticeKind.FAILED,
                    approval.network,
                    content_id=approval.content_id,
                    text=approval.text,
                    reason=reason[:300],
                ),
            )
        return Outcome.FAILED


def _unchanged_since_approval(approval: Approval, content: Content) -> PostSnapshot | None:
    """For an approval recorded before snapshots existed: the content as it is, provided no
    write touched it after the approval (else what the employee saw is unknowable)."""
    if content.updated_at is None or content.updated_at + TIMESTAMP_RESOLUTION > approval.approved_at:
        return None
    return snapshot_of(content, approval.text)


def _post_request(approval: Approval, snapshot: PostSnapshot, tracked_link: str) -> PostRequest:
    """The approved snapshot, and only it; the link is the employee's tracked short link, which
    redirects to the snapshot's url."""
    return PostRequest(
        network=approval.network,
        idempotency_key=f"{approval.approval_id}-r{approval.revision}",
        employee_id=approval.employee_id,
        text=snapshot.text,
        link=tracked_link,
        title=snapshot.title,
    )
