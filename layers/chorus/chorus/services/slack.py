"""Slack: the digest where each employee chose (email, Slack, both), the "Post as shown" offer,
and what a click does.

A click goes through two steps. The web function verifies Slack's signature, refuses stale and
replayed requests, queues the click and answers at once (Slack wants an answer within three
seconds). The Slack actions function then approves, as ``ConsentService.approve_as_shown``
decides, and replaces the item's message through the click's ``response_url``. Running that
step twice on one click approves once: the second run finds the approval recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from chorus import clock
from chorus.domain.approval import AlreadyDecided, ContentChanged, text_sha256
from chorus.domain.content import Content, Network
from chorus.domain.disclosure import Disclosure
from chorus.domain.employee import Employee
from chorus.domain.magic_links import (
    KeyRing,
    LinkRejected,
    Purpose,
    ShownPosts,
    activity_link_expiry,
    sign_link,
)
from chorus.domain.networks import profile_of
from chorus.domain.slack import (
    LOOKUP_RETRY_AFTER,
    MAX_REQUEST_AGE,
    ButtonClick,
    DigestChannel,
    SlackIdentity,
    SlackRequestRejected,
    parse_interaction,
    verify_request,
)
from chorus.errors import ChorusError, Conflict, FieldProblem, InvalidInput
from chorus.messages.channel import Addressee, Channel, Digest, NoticeMessage
from chorus.messages.i18n import translator
from chorus.messages.slack import Block, SlackChannel, SlackOffer, local_time, outcome_blocks
from chorus.observability import logger
from chorus.services.consent import (
    ConsentService,
    ContentGone,
    NotConnected,
    connected_networks,
    offered_text,
)


class SlackDirectory(Protocol):
    def user_id_by_email(self, email: str) -> str | None: ...


class SlackProfiles(Protocol):
    def record_slack_lookup(self, employee_id: str, slack_user_id: str | None, checked_at: datetime) -> None: ...
    def slack_identity(self, employee_id: str) -> SlackIdentity | None: ...


# A retried digest batch arrives within the queue's retention (14 days at most in SQS).
SLACK_MARK_LIFETIME = timedelta(days=14)


class SlackDeliveries(Protocol):
    def claim_slack_digest(self, employee_id: str, week_id: str, expires_at: datetime) -> bool: ...
    def release_slack_digest(self, employee_id: str, week_id: str) -> None: ...


class SigningSecret(Protocol):
    def signing_secret(self) -> bytes: ...


class SeenRequests(Protocol):
    def first_sighting(self, signature: str, expires_at: datetime) -> bool: ...


class ClickQueue(Protocol):
    def send_all(self, bodies: Sequence[str]) -> int: ...


class Responder(Protocol):
    def replace_message(self, response_url: str, text: str, blocks: Sequence[Block]) -> None: ...


class ContentReader(Protocol):
    def current_content(self, content_id: str) -> Content | None: ...


class ChosenChannels:
    """The digest by email, Slack or both, as each employee chose; email when Slack cannot.

    Employees are matched to Slack users by address when their digest is sent (once, then again
    after LOOKUP_RETRY_AFTER if they were not found); the /me page offers Slack to those matched.
    Notices (failed posts, reconnects) stay emails: they must reach the employee whatever they
    chose for the digest."""

    def __init__(
        self,
        email: Channel,
        slack: SlackChannel,
        directory: SlackDirectory,
        profiles: SlackProfiles,
        deliveries: SlackDeliveries,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._email = email
        self._slack = slack
        self._directory = directory
        self._profiles = profiles
        self._deliveries = deliveries
        self._now = now

    def reaches(self, employee: Employee) -> bool:
        return self._email.reaches(employee) or self._slack.reaches(employee)

    def send_digest(self, digest: Digest) -> None:
        to = self._matched(digest)
        by_slack = to.digest_channel.by_slack and to.slack_user_id is not None
        sent_by_slack = False
        if by_slack and self._first_slack_delivery(digest, to):
            try:
                self._slack.send_digest(dataclasses.replace(digest, to=to))
                sent_by_slack = True
            except ChorusError:
                self._release_slack_delivery(digest, to)
                logger.exception("digest not sent on Slack; sending it by email", employee_id=to.employee_id)
        elif by_slack:
            logger.info("digest already sent on Slack this week", employee_id=to.employee_id)
            sent_by_slack = True
        if to.digest_channel.by_email or not sent_by_slack:
            self._email.send_digest(digest)

    def _first_slack_delivery(self, digest: Digest, to: Addressee) -> bool:
        """With both channels, the Slack messages are marked sent before the email goes: when the
        email fails and the sender retries the digest, the retry sends the email only. (With Slack
        alone nothing can fail after the messages, so nothing is marked.)"""
        if digest.week_id is None or not to.digest_channel.by_email:
            return True
        return self._deliveries.claim_slack_digest(to.employee_id, digest.week_id, digest.sent_at + SLACK_MARK_LIFETIME)

    def _release_slack_delivery(self, digest: Digest, to: Addressee) -> None:
        if digest.week_id is not None and to.digest_channel.by_email:
            self._deliveries.release_slack_digest(to.employee_id, digest.week_id)

    def send_notice(self, message: NoticeMessage) -> None:
        self._email.send_notice(message)

    def _matched(self, digest: Digest) -> Addressee:
        to = digest.to
        if to.slack_user_id is not None:
            return to
        now = self._now()
        if to.slack_checked_at is not None and now - to.slack_checked_at < LOOKUP_RETRY_AFTER:
            return to
        try:
            user = self._directory.user_id_by_email(to.email)
            self._profiles.record_slack_lookup(to.employee_id, user, now)
        except ChorusError:
            # Asked again with next week's digest; this one goes as it would have.
            logger.exception("Slack lookup failed", employee_id=to.employee_id)
            return to
        logger.info("Slack lookup", employee_id=to.employee_id, matched=user is not None)
        return dataclasses.replace(to, slack_user_id=user, slack_checked_at=now)


class SlackRequests:
    """The interactivity endpoint's half: authenticate, refuse replays, queue the click."""

    def __init__(
        self,
        secret: SigningSecret,
        seen: SeenRequests,
        queue: ClickQueue,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._secret = secret
        self._seen = seen
        self._queue = queue
        self._now = now

    def accept(self, body: bytes, timestamp: str, signature: str) -> ButtonClick | None:
        now = self._now()
        verify_request(self._secret.signing_secret(), timestamp, signature, body, now)
        # Remembered as long as the timestamp check would let the same request through.
        if not self._seen.first_sighting(signature, now + 2 * MAX_REQUEST_AGE):
            raise SlackRequestRejected("replayed request")
        click = parse_interaction(body)
        if click is not None:
            self._queue.send_all([click.model_dump_json()])
        return click


class ActivityRecords(Protocol):
    def activity(self, employee_id: str, content_id: str) -> Any: ...


class KeyRingSource(Protocol):
    def key_ring(self) -> KeyRing: ...


class OneClickOffers:
    """What a digest item offers an employee in Slack: the approval page's proposed text for
    each network they can post to now, and a "Post as shown" token binding those exact texts
    (none when no network is connected: then the texts of every network, and "Connect first")."""

    def __init__(
        self,
        records: ActivityRecords,
        keys: KeyRingSource,
        *,
        networks: Sequence[Network],
        disclosure: Disclosure,
        always_connected: frozenset[Network] = frozenset(),
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._records = records
        self._keys = keys
        self._networks = list(networks)
        self._disclosure = disclosure
        self._always_connected = always_connected
        self._now = now

    def offer(self, employee_id: str, content: Content, locale: str) -> SlackOffer:
        now = self._now()
        state = self._records.activity(employee_id, content.content_id)
        connected = connected_networks(state.connections, self._always_connected, now)
        postable = [network for network in self._networks if network in connected]
        texts = {
            network: offered_text(content, network, locale, self._disclosure) for network in postable or self._networks
        }
        if not postable:
            return SlackOffer(texts=texts, token=None)
        shown = ShownPosts(
            content_id=content.content_id,
            version=content.version,
            text_sha256={network.value: text_sha256(text) for network, text in texts.items()},
        )
        token = sign_link(self._keys.key_ring(), employee_id, shown.scope(), activity_link_expiry(now, content.ends_at))
        return SlackOffer(texts=texts, token=token)


class SlackOneClick:
    """What a "Post as shown" click records, and the message it leaves."""

    def __init__(
        self,
        consent: ConsentService,
        profiles: SlackProfiles,
        contents: ContentReader,
        responder: Responder,
        *,
        activity_link: Callable[[str], str],
    ) -> None:
        self._consent = consent
        self._profiles = profiles
        self._contents = contents
        self._responder = responder
        self._activity_link = activity_link

    def click(self, click: ButtonClick) -> None:
        """Approves what the message showed if the clicking Slack user is the employee it was
        sent to; then replaces the message with what happened."""
        try:
            claims = self._consent.claims(click.token, Purpose.SLACK_APPROVE)
            shown = claims.shown
        except LinkRejected:
            logger.warning("Slack click with an invalid or expired token")
            return
        employee_id = claims.employee_id
        identity = self._profiles.slack_identity(employee_id)
        if identity is None or identity.slack_user_id != click.slack_user_id:
            # Someone else's click (a forwarded message, a shared screen): nothing is recorded.
            logger.warning("Slack click by another user refused", employee_id=employee_id)
            return
        content = self._contents.current_content(shown.content_id)
        zone = identity.timezone
        t = translator(identity.locale)
        try:
            _, approvals = self._consent.approve_as_shown(click.token, channel="slack")
            networks = ", ".join(profile_of(approval.network).label for approval in approvals)
            message = t["slack_approved"].format(
                networks=networks, time=local_time(approvals[0].publish_at, zone), zone=zone
            )
        except NotConnected as error:
            message = t["slack_not_connected"].format(reason=error.message)
        except ContentGone:
            message = t["slack_gone"]
        except ContentChanged:
            message = t["slack_changed"]
        except AlreadyDecided:
            message = t["slack_already"]
        except (InvalidInput, Conflict, LinkRejected) as error:
            # What the page would show as an error (a text too long for the employee's Mastodon
            # server, the day's limit reached, the content's window over): nothing recorded.
            reasons = [problem.reason for problem in error.problems] if isinstance(error, InvalidInput) else []
            message = t["slack_refused"].format(reason="; ".join(reasons) or error.message)
        logger.info("Slack click handled", employee_id=employee_id, content_id=shown.content_id)
        if content is None:
            return
        link = self._activity_link(self._consent.activity_token(employee_id, content))
        blocks = outcome_blocks(content, message, link, t["slack_open_page"])
        self._responder.replace_message(click.response_url, message, blocks)


class ChannelProfiles(Protocol):
    def slack_identity(self, employee_id: str) -> SlackIdentity | None: ...
    def choose_digest_channel(self, employee_id: str, channel: DigestChannel) -> None: ...


class ChannelChoice:
    """The employee's choice of where the weekly digest goes (their /me page)."""

    def __init__(self, profiles: ChannelProfiles) -> None:
        self._profiles = profiles

    def choose(self, employee_id: str, channel: DigestChannel) -> None:
        if channel.by_slack and self._profiles.slack_identity(employee_id) is None:
            raise InvalidInput(
                "Slack is not available for you",
                [FieldProblem("channel", "we did not find your address in your company's Slack")],
            )
        self._profiles.choose_digest_channel(employee_id, channel)
        logger.info("digest channel chosen", employee_id=employee_id, channel=channel.value)
