"""The digest goes where each employee chose (email, Slack, both), by email when Slack cannot;
employees are looked up in Slack once, and again only after LOOKUP_RETRY_AFTER."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chorus.adapters.slack_api import SlackUnavailable
from chorus.domain.content import Content, Network
from chorus.domain.slack import LOOKUP_RETRY_AFTER, DigestChannel
from chorus.messages.channel import Addressee, Digest, DigestItem
from chorus.messages.slack import SlackChannel, SlackOffer
from chorus.services.slack import ChosenChannels
from tests.unit.services.test_channels import RecordingChannel

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
CONTENT = Content(content_id="c-1", title="Q3", url="https://example.com/q3", text="Proud")


class FakeSlack:
    def __init__(self, users: dict[str, str], *, down: bool = False) -> None:
        self.users = users
        self.down = down
        self.lookups: list[str] = []
        self.posted: list[str] = []

    def user_id_by_email(self, email: str) -> str | None:
        self.lookups.append(email)
        return self.users.get(email)

    def open_direct_message(self, slack_user_id: str) -> str:
        if self.down:
            raise SlackUnavailable("Slack refused conversations.open (fatal_error)")
        return f"D-{slack_user_id}"

    def post_message(self, channel_id: str, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        self.posted.append(channel_id)


class Offers:
    def offer(self, employee_id: str, content: Content, locale: str) -> SlackOffer:
        return SlackOffer(texts={Network.X: content.text}, token="k1.t.s")


class Profiles:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str | None, datetime]] = []

    def record_slack_lookup(self, employee_id: str, slack_user_id: str | None, checked_at: datetime) -> None:
        self.recorded.append((employee_id, slack_user_id, checked_at))

    def slack_identity(self, employee_id: str) -> None:
        return None


class Deliveries:
    """The week's Slack marks, as the table keeps them."""

    def __init__(self) -> None:
        self.marked: set[tuple[str, str]] = set()

    def claim_slack_digest(self, employee_id: str, week_id: str, expires_at: datetime) -> bool:
        if (employee_id, week_id) in self.marked:
            return False
        self.marked.add((employee_id, week_id))
        return True

    def release_slack_digest(self, employee_id: str, week_id: str) -> None:
        self.marked.discard((employee_id, week_id))


def digest(**to: Any) -> Digest:
    addressee = replace(Addressee("e-1", "ada@example.com", "Ada", "en", "UTC"), **to)
    items = [DigestItem(CONTENT, "https://c/a/1")]
    return Digest(addressee, items, "https://c/me", "https://c/u", NOW, week_id="2026-W49")


Channels = tuple[ChosenChannels, RecordingChannel, Profiles]


def channels(slack: FakeSlack, deliveries: Deliveries | None = None) -> Channels:
    email, profiles = RecordingChannel(), Profiles()
    chosen = ChosenChannels(
        email, SlackChannel(slack, Offers()), slack, profiles, deliveries or Deliveries(), now=lambda: NOW
    )
    return chosen, email, profiles


@pytest.mark.parametrize(
    ("choice", "emailed", "slacked"),
    [(DigestChannel.EMAIL, 1, 0), (DigestChannel.SLACK, 0, 2), (DigestChannel.BOTH, 1, 2)],
)
def test_the_digest_goes_where_the_employee_chose(choice, emailed, slacked):
    slack = FakeSlack({})
    chosen, email, _ = channels(slack)
    chosen.send_digest(digest(digest_channel=choice, slack_user_id="U1"))
    assert (len(email.digests), len(slack.posted)) == (emailed, slacked)
    assert slack.lookups == []  # matched already


def test_slack_only_falls_back_to_email_when_slack_fails():
    slack = FakeSlack({}, down=True)
    chosen, email, _ = channels(slack)
    chosen.send_digest(digest(digest_channel=DigestChannel.SLACK, slack_user_id="U1"))
    assert len(email.digests) == 1


def test_an_unmatched_employee_is_looked_up_once_and_the_result_recorded():
    slack = FakeSlack({"ada@example.com": "U1"})
    chosen, email, profiles = channels(slack)
    chosen.send_digest(digest())
    assert slack.lookups == ["ada@example.com"] and profiles.recorded == [("e-1", "U1", NOW)]
    # Matched now, but the choice is still email (the default): nothing in Slack unasked
    assert len(email.digests) == 1 and slack.posted == []


@pytest.mark.parametrize(("ago", "asked"), [(timedelta(days=29), False), (LOOKUP_RETRY_AFTER, True)])
def test_someone_slack_did_not_know_is_asked_again_only_after_a_while(ago, asked):
    slack = FakeSlack({})
    chosen, _, profiles = channels(slack)
    chosen.send_digest(digest(slack_checked_at=NOW - ago))
    assert (slack.lookups == ["ada@example.com"]) is asked
    assert profiles.recorded == ([("e-1", None, NOW)] if asked else [])


def test_with_both_a_week_already_sent_on_slack_goes_by_email_only():
    # Given the week's Slack messages went out before the email failed
    slack, deliveries = FakeSlack({}), Deliveries()
    deliveries.marked.add(("e-1", "2026-W49"))
    chosen, email, _ = channels(slack, deliveries)
    # When the digest is sent again
    chosen.send_digest(digest(digest_channel=DigestChannel.BOTH, slack_user_id="U1"))
    # Then only the email goes
    assert (len(email.digests), slack.posted) == (1, [])


def test_with_both_a_failed_slack_send_leaves_no_mark_and_goes_by_email():
    slack, deliveries = FakeSlack({}, down=True), Deliveries()
    chosen, email, _ = channels(slack, deliveries)
    chosen.send_digest(digest(digest_channel=DigestChannel.BOTH, slack_user_id="U1"))
    assert len(email.digests) == 1 and deliveries.marked == set()


@pytest.mark.parametrize(("choice", "week_id"), [(DigestChannel.SLACK, "2026-W49"), (DigestChannel.BOTH, None)])
def test_slack_alone_or_a_digest_outside_a_week_marks_nothing(choice, week_id):
    slack, deliveries = FakeSlack({}), Deliveries()
    chosen, _, _ = channels(slack, deliveries)
    chosen.send_digest(replace(digest(digest_channel=choice, slack_user_id="U1"), week_id=week_id))
    assert len(slack.posted) == 2 and deliveries.marked == set()
