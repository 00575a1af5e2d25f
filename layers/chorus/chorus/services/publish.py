"""The publisher: when a post is due, re-check consent and publish the approved post once.

Due posts arrive from their network's publish queue (a schedule fired at the approved time, or
the sweeper found the post overdue or stalled), one at a time per invocation; each network's
queue has its own concurrency, so a thousand posts due at nine o'clock reach a network no
faster than it should be asked.

What is posted is the approval's snapshot (text, link target, title) and nothing read later: a
content upload after the approval never changes it. The employee must still be active (checked
on the profile read with the approval, and again as a condition of the PUBLISHING transition);
a deactivated employee's post is cancelled, never sent. Approvals recorded before snapshots
existed are published only if the content provably did not change after the approval (it was
last written at least a second before the approval); otherwise they fail with a notice asking
the employee to approve the current version.

Exactly once: the SCHEDULED -> PUBLISHING transition is a conditional write, so of two
concurrent deliveries (a queue delivering twice, a sweeper repair) only one publishes; the
network call carries an idempotency key where the network supports one. A post is PUBLISHED
only when the network confirmed it.

Crashes: PUBLISHING comes with a lease (PUBLISHING_LEASE, longer than the function may run).
Past it, the invocation that started the attempt has stopped, somewhere between the transition
and recording the answer: the network may or may not have the post. The sweeper lists such
posts and hands them back here, where a network that honours the idempotency key and still
remembers it (Mastodon for an hour, the sandbox for ever) is asked again with the same key (it
answers the first post if there was one); a network without one (LinkedIn, X) is never asked
again blindly: the post becomes UNCONFIRMED and the employee is asked to check their profile.

Failures:
- rate limited: retried when the network said its limit resets (Retry-After, X's window and
  24-hour allowances); when it said nothing, backoff with jitter, and on a network whose limits
  are daily (LinkedIn) a second 429 in a row waits for midnight UTC;
- a network allowance nearly spent (X's app-wide 24-hour allowance, recorded from its answers):
  the post waits, unsent, for the reset, before the allowance runs out;
- unauthorized: one token refresh and one more try, then NEEDS_RECONNECT (the employee is told);
- outage or timeout: rescheduled with exponential backoff and jitter, at most MAX_ATTEMPTS,
  then FAILED;
- duplicate or refused content: FAILED at once, never retried blindly (the employee is told and
  may approve again);
- the deployment refused (a retired LinkedIn-Version): the operator's problem, not the
  employee's. The post stays SCHEDULED and is retried hourly for up to a week, an alert is
  recorded for admins and logged for the CloudWatch alarm; the employee hears nothing unless
  the week runs out.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

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
from chorus.domain.publishing import (
    FailureKind,
    PostRequest,
    Published,
    PublishFailed,
    PublishTarget,
    Quota,
    QuotaScope,
)
from chorus.domain.tracking import link_code
from chorus.errors import ChorusError, StoreError
from chorus.messages.channel import Notice, NoticeKind
from chorus.observability import PUBLICATIONS, PUBLISH_FAILURES, count, logger
from chorus.store.approvals import PublishState
from chorus.store.connections import StoredConnection

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(minutes=2)
MIN_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=24)
# Longer than the publisher may run (its Timeout in template.yaml, tests/unit/test_time_budget.py):
# once it has passed, the invocation that started the attempt has certainly stopped.
PUBLISHING_LEASE = timedelta(minutes=3)
# A schedule fires at its time or after it; a delivery further ahead of the post's time is for a
# post moved later since (its own schedule will fire).
EARLY_TOLERANCE = timedelta(minutes=1)
# A network remembers an idempotency key for its window; retries stay this far inside it.
IDEMPOTENCY_MARGIN = timedelta(minutes=15)
# Posts that waited for the same reset set off spread over this much time, not all at once.
RESUME_SPREAD = timedelta(minutes=5)
# Below this many posts left in a network's allowance (or twice the network's concurrency, when
# that is more), each answer's figure is recorded so publishers can stop in time.
QUOTA_WATCH = 100
# Posts that may be in flight on a network whose concurrency is not known.
DEFAULT_CONCURRENCY = 2
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
UNCONFIRMED_REASON = "the network never answered whether it published the post; it was not sent again"
QUOTA_SPENT = "the network's daily allowance for the company's app stayed spent for days; approve again to post it"


class Outcome(StrEnum):
    PUBLISHED = "published"
    SKIPPED = "skipped"
    RETRACTED = "retracted"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    FAILED = "failed"
    NEEDS_RECONNECT = "needs_reconnect"
    UNCONFIRMED = "unconfirmed"


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
    def schedule_once(self, name: str, at: datetime, timezone: str, target: PublishTarget) -> None: ...


class Notices(Protocol):
    def notify(self, employee_id: str, notice: Notice) -> None: ...


class OperatorAlerts(Protocol):
    def raise_alert(self, network: Network, kind: str, message: str, now: datetime) -> None: ...


class QuotaRecords(Protocol):
    def record_quota(self, network: Network, quota: Quota, now: datetime) -> None: ...


class PublishRecords(Protocol):
    def publish_state(self, employee_id: str, content_id: str, network: Network) -> PublishState: ...
    def start_publishing(
        self, approval: Approval, now: datetime, lease_until: datetime, *, record_snapshot: bool = False
    ) -> Approval | None: ...
    def take_over(self, approval: Approval, now: datetime, lease_until: datetime) -> Approval | None: ...
    def finish(self, approval: Approval, status: ApprovalStatus, now: datetime, extra: dict[str, Any]) -> Approval: ...
    def unconfirm(self, approval: Approval, now: datetime, reason: str) -> Approval | None: ...
    def refuse(self, approval: Approval, now: datetime, reason: str) -> Approval | None: ...
    def cancel(
        self, employee_id: str, content_id: str, network: Network, now: datetime, *, reason: str | None = None
    ) -> Approval: ...
    def reschedule(
        self, approval: Approval, publish_at: datetime, schedule_name: str, reason: str
    ) -> Approval | None: ...
    def hold(self, approval: Approval, publish_at: datetime, schedule_name: str, reason: str) -> Approval | None: ...
    def retract_approval(self, approval: Approval, now: datetime) -> Approval | None: ...


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
        quotas: QuotaRecords,
        link_base_url: str,
        concurrency: Mapping[Network, int] | None = None,
        now: Callable[[], datetime] = clock.now,
        jitter: random.Random | None = None,
    ) -> None:
        self._alerts = alerts
        self._quotas = quotas
        self._link_base_url = link_base_url
        self._records = records
        self._networks = networks
        self._credentials = credentials
        self._scheduler = scheduler
        self._notices = notices
        self._concurrency = dict(concurrency or {})
        self._now = now
        # The kernel's generator: a generator seeded at init would be shared by every environment
        # restored from one SnapStart snapshot, and their retries would collide again.
        self._jitter = jitter or random.SystemRandom()

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
        now = self._now()
        if approval.status is ApprovalStatus.PUBLISHING:
            return self._resume(approval, state, now)
        if approval.status is not ApprovalStatus.SCHEDULED:
            logger.info("approval is not scheduled any more; nothing published", status=approval.status.value)
            return Outcome.SKIPPED
        if state.employee is None or not state.employee.active:
            return self._cancel_for_inactive_employee(approval)
        if content is None or content.status is not ContentStatus.ACTIVE:
            self._records.retract_approval(approval, now)
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
        if approval.publish_at > now + EARLY_TOLERANCE:
            # Nothing is sent before its time; what would stop it anyway (above) is done already.
            logger.info("not due yet; its own schedule will fire", publish_at=approval.publish_at.isoformat())
            return Outcome.SKIPPED
        spent_until = self._allowance_spent_until(approval.network, state.quota, now)
        if spent_until is not None:
            return self._wait_for_allowance(approval, spent_until, now)
        started = self._records.start_publishing(approval, now, now + PUBLISHING_LEASE, record_snapshot=legacy)
        if started is None:
            logger.info("not published: another invocation is publishing it, or it was cancelled")
            return Outcome.SKIPPED
        network = self._networks.get(approval.network)
        if network is None:
            return self._fail(started, "this network is not enabled", notify=True)
        return self._attempt(started, snapshot, network, state.connection, _locale(state))

    # ------------------------------------------------------------------ an attempt that stopped
    def _resume(self, approval: Approval, state: PublishState, now: datetime) -> Outcome:
        """A PUBLISHING approval: someone holds its lease (skip), or it stalled (lease passed)."""
        if approval.lease_until is None or approval.lease_until > now:
            logger.info("another invocation is publishing it; nothing done")
            return Outcome.SKIPPED
        employee_active = state.employee is not None and state.employee.active
        content_active = state.content is not None and state.content.status is ContentStatus.ACTIVE
        snapshot = approval.snapshot()
        network = self._networks.get(approval.network)
        if (
            self._may_ask_again(approval, now)
            and employee_active
            and content_active
            and snapshot is not None
            and network is not None
            and approval.attempt + 1 < MAX_ATTEMPTS
        ):
            taken = self._records.take_over(approval, now, now + PUBLISHING_LEASE)
            if taken is None:
                logger.info("stalled attempt taken over by another invocation; nothing done")
                return Outcome.SKIPPED
            logger.warning("attempt stalled; asking the network again with the same idempotency key")
            return self._attempt(taken, snapshot, network, state.connection, _locale(state))
        return self._unconfirm(approval, now, notify=employee_active)

    @staticmethod
    def _may_ask_again(approval: Approval, now: datetime) -> bool:
        """Whether the network would answer a repeat of the stalled request with the first post:
        it takes the idempotency key and still remembers the one the attempt sent."""
        window = profile_of(approval.network).idempotency_window
        if window is None or approval.publishing_at is None:
            return False
        return window == timedelta.max or now - approval.publishing_at < window - IDEMPOTENCY_MARGIN

    def _unconfirm(self, approval: Approval, now: datetime, *, notify: bool) -> Outcome:
        if self._records.unconfirm(approval, now, UNCONFIRMED_REASON) is None:
            logger.info("stalled attempt resolved by another invocation; nothing done")
            return Outcome.SKIPPED
        logger.warning("attempt stalled on a network that takes no idempotency key; not sent again")
        if notify:
            self._notices.notify(
                approval.employee_id,
                Notice(NoticeKind.UNCONFIRMED, approval.network, content_id=approval.content_id, text=approval.text),
            )
        return Outcome.UNCONFIRMED

    # ------------------------------------------------------------------ the network's allowance
    def _allowance_spent_until(self, network: Network, quota: Quota | None, now: datetime) -> datetime | None:
        """The reset time, when the app's allowance is down to the posts that may be in flight:
        each of them read the figure before the others' answers lowered it, so stopping there
        never runs it out."""
        if quota is None or quota.resets_at <= now:
            return None
        return quota.resets_at if quota.remaining <= self._in_flight(network) else None

    def _in_flight(self, network: Network) -> int:
        return self._concurrency.get(network, DEFAULT_CONCURRENCY)

    def _wait_for_allowance(self, approval: Approval, until: datetime, now: datetime) -> Outcome:
        if approval.attempt + 1 >= MAX_ATTEMPTS:
            return self._refuse_unsent(approval, QUOTA_SPENT)
        at = self._after_reset(until, now)
        name = schedule_name_for(approval.approval_id, approval.revision, approval.attempt + 1)
        held = self._records.hold(approval, at, name, FailureKind.RATE_LIMITED.value)
        if held is None:
            return Outcome.SKIPPED
        self._schedule(held, name, at)
        logger.info("network allowance nearly spent; waiting for its reset", at=at.isoformat())
        return Outcome.RESCHEDULED

    def _record_quotas(self, network: Network, quotas: tuple[Quota, ...], *, spent_too: bool = False) -> None:
        """The app-wide figures worth keeping: low ones (publishers stop on them) and, from a
        refusal, a spent one."""
        watch = max(QUOTA_WATCH, 2 * self._in_flight(network))
        for quota in quotas:
            if quota.scope is not QuotaScope.APP or not (quota.remaining <= watch or (spent_too and quota.exhausted)):
                continue
            try:
                self._quotas.record_quota(network, quota, self._now())
            except StoreError:
                # The post's own outcome is recorded; a missed figure is read again next answer.
                logger.exception("network quota not recorded")

    # ------------------------------------------------------------------ one attempt
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
        return self._refuse_unsent(approval, reason)

    def _refuse_unsent(self, approval: Approval, reason: str) -> Outcome:
        """SCHEDULED -> FAILED without sending anything; the employee is told and may approve again."""
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
        self,
        approval: Approval,
        snapshot: PostSnapshot,
        network: NetworkPublisher,
        stored: StoredConnection | None,
        locale: str | None,
    ) -> Outcome:
        tracked = f"{self._link_base_url}/r/{link_code(approval.approval_id, approval.revision)}"
        post = _post_request(approval, snapshot, tracked, locale)
        needs_credentials = profile_of(approval.network).needs_connection
        credentials = None
        try:
            if needs_credentials and stored is not None:
                credentials = self._credentials.credentials(approval.employee_id, approval.network, stored=stored)
        except PublishFailed as failure:  # the tokens could not be refreshed now (not: never)
            return self._handle_failure(approval, failure)
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
        self._record_quotas(approval.network, published.quotas)
        return Outcome.PUBLISHED

    def _handle_failure(self, approval: Approval, failure: PublishFailed) -> Outcome:
        logger.warning("publish failed", kind=failure.kind.value, attempt=approval.attempt + 1)
        count({PUBLISH_FAILURES: 1}, network=approval.network.value, kind=failure.kind.value)
        self._record_quotas(approval.network, failure.quotas, spent_too=True)
        if failure.kind is FailureKind.UNAUTHORIZED:
            return self._needs_reconnect(approval)
        if failure.kind is FailureKind.OPERATOR:
            return self._wait_for_operator(approval, failure)
        if failure.kind in {FailureKind.RATE_LIMITED, FailureKind.TRANSIENT} and approval.attempt + 1 < MAX_ATTEMPTS:
            return self._retry_later(approval, self._retry_at(approval, failure, self._now()), failure)
        return self._fail(approval, failure.reason, notify=True)

    def _retry_at(self, approval: Approval, failure: PublishFailed, now: datetime) -> datetime:
        """When to try again: when the network said its limit resets, else backoff with jitter."""
        if failure.kind is FailureKind.RATE_LIMITED:
            spent = [quota.resets_at for quota in failure.quotas if quota.exhausted and quota.resets_at > now]
            if spent:
                return self._after_reset(max(spent), now)
            if failure.retry_after_seconds:
                return self._after_reset(now + timedelta(seconds=failure.retry_after_seconds), now)
            repeated = approval.last_failure == FailureKind.RATE_LIMITED.value
            if repeated and profile_of(approval.network).limits_reset_at_midnight_utc:
                return self._after_reset(_next_midnight_utc(now), now)
        return now + self._backoff(approval.attempt)

    def _backoff(self, attempt: int) -> timedelta:
        """Exponential, with "equal jitter": half the step fixed (waits keep growing), half random
        (posts that failed together do not come back together)."""
        step = min(BACKOFF_BASE * (1 << attempt), MAX_RETRY_DELAY)
        return max(MIN_RETRY_DELAY, step / 2 + step / 2 * self._jitter.random())

    def _after_reset(self, reset: datetime, now: datetime) -> datetime:
        at = reset + RESUME_SPREAD * self._jitter.random()
        return min(max(at, now + MIN_RETRY_DELAY), now + MAX_RETRY_DELAY)

    def _retry_later(self, approval: Approval, at: datetime, failure: PublishFailed) -> Outcome:
        name = schedule_name_for(approval.approval_id, approval.revision, approval.attempt + 1)
        rescheduled = self._records.reschedule(approval, at, name, failure.kind.value)
        if rescheduled is None:
            return Outcome.SKIPPED
        self._schedule(rescheduled, name, at)
        logger.info("rescheduled", at=at.isoformat(), attempt=rescheduled.attempt)
        return Outcome.RESCHEDULED

    def _schedule(self, approval: Approval, name: str, at: datetime) -> None:
        try:
            self._scheduler.schedule_once(name, at, approval.timezone, PublishTarget.of(approval))
        except StoreError:
            # Listed as SCHEDULED at its new time: the sweeper sends it when that time has passed.
            logger.exception("schedule not created; the sweeper will publish the post")

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


def _next_midnight_utc(now: datetime) -> datetime:
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def _unchanged_since_approval(approval: Approval, content: Content) -> PostSnapshot | None:
    """For an approval recorded before snapshots existed: the content as it is, provided no
    write touched it after the approval (else what the employee saw is unknowable)."""
    if content.updated_at is None or content.updated_at + TIMESTAMP_RESOLUTION > approval.approved_at:
        return None
    return snapshot_of(content, approval.text)


def _locale(state: PublishState) -> str | None:
    return state.employee.locale if state.employee is not None else None


def _post_request(approval: Approval, snapshot: PostSnapshot, tracked_link: str, locale: str | None) -> PostRequest:
    """The approved snapshot, and only it; the link is the employee's tracked short link, which
    redirects to the snapshot's url. The attempt's start (kept when a stalled attempt is taken
    over) makes a repeat of the request the same request."""
    return PostRequest(
        network=approval.network,
        idempotency_key=f"{approval.approval_id}-r{approval.revision}",
        employee_id=approval.employee_id,
        text=snapshot.text,
        link=tracked_link,
        title=snapshot.title,
        image_url=snapshot.image_url,
        locale=locale,
        created_at=approval.publishing_at,
    )
