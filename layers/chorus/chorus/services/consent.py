"""Consent: what an employee sees behind a magic link, and what they approve, decline or cancel.

Hard rule: a post is scheduled only from an explicit approval of exactly what is posted for one
network, recorded before the schedule exists: a snapshot of the text, link target, title and
image (and their SHA-256) taken from the content version the employee's page showed, with the
time, time zone and user agent.

The approval form says which content version the page showed. Approving reads the content
(one strongly consistent GetItem): if it is not that version any more, nothing is recorded and
the employee is asked to review the new one; otherwise the snapshot is taken from what was read,
and the approval transaction checks the content is still that version. A tampered form can
therefore only name a version; the snapshot is always the stored content of that version.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from chorus import clock
from chorus.domain.approval import (
    Approval,
    ApprovalStatus,
    ContentChanged,
    ContentUnavailable,
    Decline,
    When,
    approval_id_for,
    schedule_name_for,
    snapshot_of,
    text_sha256,
)
from chorus.domain.connection import ConnectionStatus
from chorus.domain.content import Content, ContentStatus, Network
from chorus.domain.digest import DEFAULT_DIGEST_TIMEZONE, RunWeek, run_week
from chorus.domain.disclosure import Disclosure, proposed_text
from chorus.domain.employee import Employee
from chorus.domain.lengths import LengthRule
from chorus.domain.magic_links import (
    ME_LIFETIME,
    ME_SCOPE,
    KeyRing,
    LinkClaims,
    LinkRejected,
    Purpose,
    activity_link_expiry,
    activity_scope,
    check_form,
    connect_scope,
    form_subject,
    sign_form,
    sign_link,
    verify_link,
)
from chorus.domain.networks import profile_of
from chorus.domain.publishing import PublishTarget
from chorus.domain.review import edited
from chorus.domain.timing import (
    QuietHours,
    check_publish_time,
    earliest_accepted,
    local_time_to_utc,
    offered_window,
    spread_times,
)
from chorus.errors import ChorusError, FieldProblem, InvalidInput, NotFound, StoreError
from chorus.observability import APPROVALS, count, logger

MAX_DECLINE_REASON = 500
NOW_DELAY = timedelta(minutes=1)


class ContentGone(LinkRejected):
    http_status = 410
    code = "content_gone"


class DisclosureMissing(InvalidInput):
    """RequireDisclosure is on and an approved text lost the disclosure: nothing is recorded."""

    http_status = 400
    code = "disclosure_missing"


class KeyRingSource(Protocol):
    def key_ring(self) -> KeyRing: ...


class Scheduler(Protocol):
    def schedule_once(self, name: str, at: datetime, timezone: str, target: PublishTarget) -> None: ...
    def delete(self, name: str) -> None: ...


class DecisionRecords(Protocol):
    def activity(self, employee_id: str, content_id: str) -> Any: ...
    def employee_state(self, employee_id: str) -> Any: ...
    def current_content(self, content_id: str) -> Content | None: ...
    def content_servers_and_employee(
        self, content_id: str, employee_id: str, networks: list[Network]
    ) -> tuple[Content | None, dict[Network, str], Employee | None]: ...
    def content_and_servers(
        self, content_id: str, employee_id: str, networks: list[Network]
    ) -> tuple[Content | None, dict[Network, str]]: ...
    def record_approvals(
        self,
        approvals: list[Approval],
        previous_revisions: dict[Network, int],
        content_id: str,
        daily_limit: int,
        *,
        content_ends_at: datetime | None,
    ) -> None: ...
    def record_decline(self, decline: Decline, *, content_ends_at: datetime | None) -> None: ...
    def release_day_slot(self, approval: Approval) -> None: ...


class Cancellations(Protocol):
    def cancel(
        self, employee_id: str, content_id: str, network: Network, now: datetime, *, reason: str | None = None
    ) -> Approval: ...


class Subscriptions(Protocol):
    def unsubscribe(self, employee_id: str, counted_in: RunWeek) -> bool: ...


class LengthRuleSource(Protocol):
    """Each network's length rule for one employee (Mastodon's depends on their server)."""

    def rule_for(self, network: Network, instance_url: str | None) -> LengthRule: ...


class StaticLengthRules:
    """The networks' published rules (Mastodon's default limit), whoever the employee is."""

    def rule_for(self, network: Network, instance_url: str | None) -> LengthRule:
        return profile_of(network).length_rule


class ContentListing(Protocol):
    def list_active_content(self, limit: int, start: dict[str, Any] | None = None) -> Any: ...


def normalise_text(text: str) -> str:
    """NFC and Unix newlines: what the employee sees is what is hashed and published."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def offered_text(content: Content, network: Network, locale: str, disclosure: Disclosure) -> str:
    """The text an employee is offered for a network (``chorus.domain.disclosure.proposed_text``:
    the content's text and the disclosure in their language), as it would be approved unedited:
    the approval page fills its editor with it, and a one-click approval in Slack approves exactly
    this."""
    return normalise_text(proposed_text(content, network, locale, disclosure))


def offered_texts(content: Content, network: Network, disclosure: Disclosure) -> set[str]:
    """Every text the company offers for a network, one per disclosure language: whoever approves
    one of them approves the company's own words, unedited."""
    languages = list(disclosure.by_language) or ["en"]
    return {offered_text(content, network, language, disclosure) for language in languages}


def schedule_approved(scheduler: Scheduler, approval: Approval) -> None:
    """The one way a recorded SCHEDULED approval gets its schedule (an approval, or a reviewer's
    approval of one that waited for review)."""
    try:
        scheduler.schedule_once(
            approval.schedule_name, approval.publish_at, approval.timezone, PublishTarget.of(approval)
        )
    except StoreError:
        # The consent is recorded and listed as SCHEDULED: the sweeper publishes it
        # within minutes of its time even without a schedule. Nothing approved is lost.
        logger.exception("schedule not created; the sweeper will publish the post", network=approval.network.value)


def connected_networks(
    connections: dict[Network, Any], always_connected: frozenset[Network], now: datetime
) -> set[Network]:
    """The networks the employee can post to now: connected and not expired, or needing no
    connection (the sandbox)."""
    return set(always_connected) | {
        network
        for network, connection in connections.items()
        if connection.status is ConnectionStatus.CONNECTED
        and (connection.expires_at is None or connection.expires_at > now)
    }


@dataclass(frozen=True)
class ApprovalRequest:
    networks: list[Network]
    texts: dict[Network, str]
    when: When
    at_local: datetime | None
    timezone: str
    user_agent: str
    # The content version the page showed (None: a form from before versions, or tampered).
    content_version: int | None = None
    previous_revisions: dict[Network, int] = field(default_factory=dict)
    channel: str = "page"


class NotConnected(ContentChanged):
    """A network the message offered is not connected any more: nothing was recorded."""

    code = "not_connected"


@dataclass
class ActivityView:
    employee: Employee
    content: Content
    networks: list[Network]
    connected: set[Network]
    approvals: dict[Network, Approval]
    declined: bool
    # How long each text may be, as its network counts it (the page's counter and limits).
    rules: dict[Network, LengthRule] = field(default_factory=dict)
    # What the employee is offered per network (chorus.domain.disclosure.proposed_text).
    proposed: dict[Network, str] = field(default_factory=dict)
    # The disclosure in the employee's language, and whether an approved text must keep it.
    disclosure: str | None = None
    disclosure_required: bool = False

    def outdated(self, approval: Approval) -> bool:
        """The approval pinned an earlier version of the content than the one shown now."""
        return approval.content_version != self.content.version


@dataclass
class MeView:
    employee: Employee
    hidden: bool
    titles: dict[str, str]
    pending: list[Content]
    scheduled: list[Approval]
    published: list[Approval]
    other: list[Approval]
    # Approved by the employee, waiting for a compliance reviewer (ReviewEditedPosts).
    in_review: list[Approval] = field(default_factory=list)


class ConsentService:
    def __init__(
        self,
        records: DecisionRecords,
        keys: KeyRingSource,
        scheduler: Scheduler,
        listings: ContentListing,
        *,
        approvals: Cancellations,
        subscriptions: Subscriptions,
        networks: Sequence[Network],
        always_connected: frozenset[Network] = frozenset(),
        quiet_hours: QuietHours | None = None,
        max_posts_per_day: int = 0,
        length_rules: LengthRuleSource | None = None,
        disclosure: Disclosure | None = None,
        digest_timezone: str = DEFAULT_DIGEST_TIMEZONE,
        review_edited: bool = False,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._digest_timezone = digest_timezone
        self._review_edited = review_edited
        self._length_rules = length_rules or StaticLengthRules()
        self._disclosure = disclosure or Disclosure()
        self._quiet = quiet_hours
        self._daily_limit = max_posts_per_day
        self._records = records
        self._cancellations = approvals
        self._subscriptions = subscriptions
        self._keys = keys
        self._scheduler = scheduler
        self._listings = listings
        self._networks = list(networks)
        self._always_connected = always_connected
        self._now = now

    # ------------------------------------------------------------------ links
    def claims(self, token: str, purpose: Purpose, *others: Purpose) -> LinkClaims:
        """The claims of a link made for one of the page's purposes (LinkRejected otherwise)."""
        return verify_link(self._keys.key_ring(), token, self._now(), {purpose, *others})

    def now(self) -> datetime:
        return self._now()

    @property
    def networks(self) -> list[Network]:
        """The networks employees may share to."""
        return list(self._networks)

    def me_link(self, claims: LinkClaims) -> str:
        """A link to the employee's own page, valid as long as a digest's."""
        return "/me?t=" + sign_link(self._keys.key_ring(), claims.employee_id, ME_SCOPE, self._now() + ME_LIFETIME)

    def activity_token(self, employee_id: str, content: Content) -> str:
        now = self._now()
        return sign_link(
            self._keys.key_ring(),
            employee_id,
            activity_scope(content.content_id),
            activity_link_expiry(now, content.ends_at),
        )

    def connect_token(self, claims: LinkClaims) -> str:
        """For the connect links of the page ``claims`` opened: it lives as long as that page's
        link and leads back only to that page."""
        return sign_link(self._keys.key_ring(), claims.employee_id, connect_scope(claims.scope), claims.expires_at)

    def origin_link(self, claims: LinkClaims) -> str:
        """The way back from a connect link to the page it was minted on (same employee, same expiry)."""
        origin = claims.origin_scope
        if origin is None:
            raise LinkRejected("this link is meant for another page")
        token = sign_link(self._keys.key_ring(), claims.employee_id, origin, claims.expires_at)
        return f"/me?t={token}" if origin == ME_SCOPE else f"/a/{token}"

    def form_token(self, claims: LinkClaims, action: str) -> str:
        return sign_form(self._keys.key_ring(), form_subject(claims.employee_id, claims.scope, action), self._now())

    def check_form(self, claims: LinkClaims, form_token: str, action: str) -> None:
        """Refuses a form that this page did not render for this employee and this action."""
        subject = form_subject(claims.employee_id, claims.scope, action)
        check_form(self._keys.key_ring(), form_token, subject, self._now())

    # ------------------------------------------------------------------ activity page
    def view(self, token: str) -> ActivityView:
        claims = self.claims(token, Purpose.ACTIVITY)
        if claims.content_id is None:
            raise LinkRejected("this link is meant for another page")
        state = self._records.activity(claims.employee_id, claims.content_id)
        if state.employee is None or not state.employee.active:
            raise LinkRejected("this link is not valid any more")
        if state.content is None or state.content.status is not ContentStatus.ACTIVE:
            raise ContentGone("this content has been withdrawn and can no longer be shared")
        connected = self._connected(state.connections)
        rules = {
            network: self._length_rules.rule_for(
                network, connection.instance_url if (connection := state.connections.get(network)) else None
            )
            for network in self._networks
        }
        return ActivityView(
            employee=state.employee,
            content=state.content,
            networks=self._networks,
            connected=connected,
            approvals=state.approvals,
            declined=state.decline is not None and state.decline.content_version in (None, state.content.version),
            rules=rules,
            proposed={
                network: offered_text(state.content, network, state.employee.locale, self._disclosure)
                for network in self._networks
            },
            disclosure=self._disclosure.for_locale(state.employee.locale),
            disclosure_required=self._disclosure.required,
        )

    def _content_as_shown(self, content_id: str, shown_version: int | None) -> Content:
        """The content, provided it is still the version the page showed."""
        return self._check_shown(self._records.current_content(content_id), shown_version)

    @staticmethod
    def _check_shown(content: Content | None, shown_version: int | None) -> Content:
        if content is None or content.status is not ContentStatus.ACTIVE:
            raise ContentGone("this content has been withdrawn and can no longer be shared")
        if shown_version is None or content.version != shown_version:
            raise ContentChanged("this content was updated; review the new version")
        return content

    def approve(self, token: str, request: ApprovalRequest) -> list[Approval]:
        claims = self.claims(token, Purpose.ACTIVITY)
        content_id = claims.content_id
        if content_id is None:
            raise LinkRejected("this link is meant for another page")
        return self._record(claims.employee_id, content_id, request)

    # ------------------------------------------------------------------ one click (Slack)
    def approve_as_shown(self, token: str, *, channel: str) -> tuple[LinkClaims, list[Approval]]:
        """Approves exactly the texts a message showed, posted now (or at the next allowed time),
        provided the content is still that version, each text is still what the approval page
        proposes, and each network is still connected. Otherwise nothing is recorded
        (ContentChanged, NotConnected, ContentGone)."""
        claims = self.claims(token, Purpose.SLACK_APPROVE)
        shown = claims.shown
        state = self._records.activity(claims.employee_id, shown.content_id)
        if state.employee is None or not state.employee.active:
            raise LinkRejected("this link is not valid any more")
        content = self._check_shown(state.content, shown.version)
        connected = self._connected(state.connections)
        texts: dict[Network, str] = {}
        for name, digest in shown.text_sha256.items():
            try:
                network = Network(name)
            except ValueError:
                raise LinkRejected("this link is not valid") from None
            if network not in self._networks or network not in connected:
                raise NotConnected(f"{profile_of(network).label} is not connected any more")
            text = offered_text(content, network, state.employee.locale, self._disclosure)
            if text_sha256(text) != digest:
                raise ContentChanged("this content was updated; review the new version")
            texts[network] = text
        request = ApprovalRequest(
            networks=list(texts),
            texts=texts,
            when=When.NOW,
            at_local=None,
            timezone=state.employee.timezone,
            user_agent=channel,
            content_version=shown.version,
            previous_revisions={
                network: approval.revision for network, approval in state.approvals.items() if network in texts
            },
            channel=channel,
        )
        return claims, self._record(claims.employee_id, shown.content_id, request)

    def _connected(self, connections: dict[Network, Any]) -> set[Network]:
        return connected_networks(connections, self._always_connected, self._now())

    def _record(self, employee_id: str, content_id: str, request: ApprovalRequest) -> list[Approval]:
        now = self._now()
        on_servers = [network for network in request.networks if profile_of(network).on_employee_server]
        employee: Employee | None = None
        if self._review_edited:
            stored, servers, employee = self._records.content_servers_and_employee(content_id, employee_id, on_servers)
        elif on_servers:
            stored, servers = self._records.content_and_servers(content_id, employee_id, on_servers)
        else:
            stored, servers = self._records.current_content(content_id), {}
        content = self._check_shown(stored, request.content_version)
        approvals = self._approvals(employee_id, content, request, now, servers)
        if self._review_edited and self._needs_review(content, approvals):
            locale = employee.locale if employee else "en"
            approvals = [
                approval.model_copy(
                    update={
                        "status": ApprovalStatus.IN_REVIEW,
                        "offered_text": offered_text(content, approval.network, locale, self._disclosure),
                    }
                )
                for approval in approvals
            ]
        # Recorded first: a schedule never exists without its consent record.
        self._records.record_approvals(
            approvals, request.previous_revisions, content_id, self._daily_limit, content_ends_at=content.ends_at
        )
        for approval in approvals:
            if approval.status is ApprovalStatus.SCHEDULED:
                schedule_approved(self._scheduler, approval)
            logger.info(
                "approved" if approval.status is ApprovalStatus.SCHEDULED else "approved; waiting for review",
                employee_id=approval.employee_id,
                content_id=approval.content_id,
                network=approval.network.value,
                publish_at=approval.publish_at.isoformat(),
                when=approval.when.value,
                channel=approval.channel,
            )
            count({APPROVALS: 1}, network=approval.network.value)
        return approvals

    def _needs_review(self, content: Content, approvals: list[Approval]) -> bool:
        """An approval in which any network's text is not one the company offered waits, whole,
        for a reviewer."""
        return edited(
            {approval.network: approval.text for approval in approvals},
            {approval.network: offered_texts(content, approval.network, self._disclosure) for approval in approvals},
        )

    def _approvals(
        self, employee_id: str, content: Content, request: ApprovalRequest, now: datetime, servers: dict[Network, str]
    ) -> list[Approval]:
        problems: list[FieldProblem] = []
        networks = [network for network in request.networks if network in self._networks]
        if not networks:
            problems.append(FieldProblem("network", "choose at least one network"))
        texts: dict[Network, str] = {}
        for network in networks:
            text = normalise_text(request.texts.get(network, ""))
            rule = self._length_rules.rule_for(network, servers.get(network))
            if not text:
                problems.append(FieldProblem(f"text_{network.value}", "write the text to post"))
            elif not rule.fits(text):
                problems.append(
                    FieldProblem(
                        f"text_{network.value}",
                        f"is {rule.length(text)} characters as {network.value} counts them; at most {rule.room}",
                    )
                )
            texts[network] = text
        if problems:
            raise InvalidInput("check the highlighted fields", problems)
        if self._disclosure.required:
            missing = [network for network, text in texts.items() if not self._disclosure.carried_by(text)]
            if missing:
                raise DisclosureMissing(
                    "keep the disclosure in your text",
                    [
                        FieldProblem(
                            f"text_{network.value}",
                            "must keep the disclosure "
                            + " or ".join(sorted(set(self._disclosure.by_language.values())))
                            + ": your company requires it on every post",
                        )
                        for network in missing
                    ],
                )
        times = self._times(networks, request, now, content)
        for moment in times.values():
            if (content.starts_at and moment < content.starts_at) or (content.ends_at and moment >= content.ends_at):
                raise ContentUnavailable("this content is no longer available at that time")
        return [
            Approval(
                approval_id=(approval_id := approval_id_for(employee_id, content.content_id, network)),
                employee_id=employee_id,
                content_id=content.content_id,
                network=network,
                text=texts[network],
                text_sha256=text_sha256(texts[network]),
                publish_at=times[network],
                timezone=request.timezone,
                when=request.when,
                status=ApprovalStatus.SCHEDULED,
                revision=(revision := request.previous_revisions.get(network, 0) + 1),
                schedule_name=schedule_name_for(approval_id, revision),
                approved_at=now,
                user_agent=request.user_agent[:300],
                channel=request.channel,
            ).with_snapshot(snapshot_of(content, texts[network]), content.version)
            for network in networks
        ]

    def _times(
        self, networks: list[Network], request: ApprovalRequest, now: datetime, content: Content
    ) -> dict[Network, datetime]:
        zone = request.timezone
        if request.when is When.NOW:
            # A minute ahead: Scheduler needs a future time, and it leaves a moment to cancel.
            # In the company's quiet hours, "now" means when they end (the page shows the time).
            moment = now + NOW_DELAY
            if self._quiet and self._quiet.contains(moment, zone):
                moment = self._quiet.next_end(moment, zone)
            return dict.fromkeys(networks, moment)
        if request.when is When.AT:
            if request.at_local is None:
                raise InvalidInput("pick a time", [FieldProblem("at", "pick a date and time")])
            moment = local_time_to_utc("at", request.at_local, zone, not_before=earliest_accepted(now))
            check_publish_time("at", moment, now, content.starts_at, content.ends_at)
            if self._quiet and self._quiet.contains(moment, zone):
                raise InvalidInput(
                    "pick another time",
                    [FieldProblem("at", f"is in the quiet hours ({self._quiet.label()}) when nothing is posted")],
                )
            return dict.fromkeys(networks, moment)
        spread = spread_times(len(networks), offered_window(now, content.starts_at, content.ends_at), zone)
        if self._quiet:
            spread = [
                self._quiet.next_end(moment, zone) if self._quiet.contains(moment, zone) else moment
                for moment in spread
            ]
        return dict(zip(networks, spread, strict=True))

    def decline(self, token: str, reason: str, shown_version: int | None) -> None:
        claims = self.claims(token, Purpose.ACTIVITY)
        if claims.content_id is None:
            raise LinkRejected("this link is meant for another page")
        content = self._content_as_shown(claims.content_id, shown_version)
        reason = normalise_text(reason)[:MAX_DECLINE_REASON]
        self._records.record_decline(
            Decline(
                employee_id=claims.employee_id,
                content_id=claims.content_id,
                reason=reason,
                declined_at=self._now(),
                content_version=content.version,
            ),
            content_ends_at=content.ends_at,
        )
        logger.info("declined", employee_id=claims.employee_id, content_id=claims.content_id)

    def cancel(self, token: str, content_id: str | None, network: Network) -> Approval:
        claims = self.claims(token, Purpose.ACTIVITY, Purpose.ME)
        target = claims.content_id or content_id
        if target is None or (claims.content_id and content_id and content_id != claims.content_id):
            raise LinkRejected("this link is meant for another page")
        if claims.content_id is None and claims.scope != ME_SCOPE:
            raise LinkRejected("this link is meant for another page")
        cancelled = self._cancellations.cancel(claims.employee_id, target, network, self._now())
        if self._daily_limit:
            self._records.release_day_slot(cancelled)
        self._scheduler.delete(cancelled.schedule_name)
        logger.info("cancelled", employee_id=claims.employee_id, content_id=target, network=network.value)
        return cancelled

    def cancel_network(self, employee_id: str, network: Network) -> int:
        """Cancels every scheduled post of the employee on one network (they disconnected it)."""
        state = self._records.employee_state(employee_id)
        cancelled = 0
        for approval in state.approvals:
            if approval.network is network and approval.cancellable:
                try:
                    done = self._cancellations.cancel(employee_id, approval.content_id, network, self._now())
                except ChorusError:
                    continue  # publishing started meanwhile: that post is past cancelling
                self._scheduler.delete(done.schedule_name)
                if self._daily_limit:
                    self._records.release_day_slot(done)
                cancelled += 1
        logger.info("posts cancelled on disconnect", employee_id=employee_id, network=network.value, posts=cancelled)
        return cancelled

    # ------------------------------------------------------------------ /me and unsubscribe
    def me(self, token: str) -> MeView:
        claims = self.claims(token, Purpose.ME)
        try:
            state = self._records.employee_state(claims.employee_id)
        except NotFound:
            raise LinkRejected("this link is not valid any more") from None
        employee: Employee = state.employee
        if employee.erased_at is not None:
            raise LinkRejected("this link is not valid any more")
        approvals: list[Approval] = sorted(state.approvals, key=lambda approval: approval.publish_at)
        groups = set(employee.groups)
        listed = self._listings.list_active_content(100).items
        pending = [
            content
            for content in listed
            if not _decided(content, approvals, state.declines)
            and (not content.groups or groups.intersection(content.groups))
            and (content.ends_at is None or content.ends_at > self._now())
        ]
        return MeView(
            employee=employee,
            hidden=state.leaderboard_hidden,
            titles={content.content_id: content.title for content in listed},
            pending=pending,
            scheduled=[a for a in approvals if a.status is ApprovalStatus.SCHEDULED],
            published=[a for a in approvals if a.status is ApprovalStatus.PUBLISHED],
            in_review=[a for a in approvals if a.status is ApprovalStatus.IN_REVIEW],
            other=[
                a
                for a in approvals
                if a.status not in {ApprovalStatus.SCHEDULED, ApprovalStatus.PUBLISHED, ApprovalStatus.IN_REVIEW}
            ],
        )

    def unsubscribe(self, token: str) -> None:
        claims = self.claims(token, Purpose.UNSUBSCRIBE)
        # Counted once, in the digest run of this week (the history's unsubscribed); pressing the
        # link again, or a mail client's one-click POST after it, changes nothing.
        if self._subscriptions.unsubscribe(claims.employee_id, run_week(self._now(), self._digest_timezone)):
            logger.info("unsubscribed", employee_id=claims.employee_id)


def _decided(content: Content, approvals: list[Approval], declines: list[Decline]) -> bool:
    """The employee approved or declined this version of the content (decisions recorded before
    versions were kept count for any version)."""
    versions = [approval.content_version for approval in approvals if approval.content_id == content.content_id]
    versions += [decline.content_version for decline in declines if decline.content_id == content.content_id]
    return any(version is None or version >= content.version for version in versions)
