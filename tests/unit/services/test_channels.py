"""The digest and the notices go through a Channel: services build the message, the channel
delivers it (email is one channel; any other gets exactly the same messages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chorus.domain.content import Content, Network
from chorus.domain.digest import DigestBatch, Recipient
from chorus.domain.employee import Employee
from chorus.domain.magic_links import KeyRing, Purpose, verify_link
from chorus.messages.channel import Digest, Notice, NoticeKind, NoticeMessage
from chorus.services.digest import DigestSender, Links, Pacer
from chorus.services.notices import Notifier
from tests.support.emf import emf_records

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
RING = KeyRing(current="k1", keys={"k1": b"channel-test-key-0123456789abcdef"})
ADA = Employee(employee_id="e-1", email="ada@example.com", name="Ada", locale="fr", timezone="Europe/Paris")


class RecordingChannel:
    """A channel that keeps what it was given (a Slack channel would render it instead)."""

    def __init__(self, *, reachable: bool = True) -> None:
        self.reachable = reachable
        self.digests: list[Digest] = []
        self.notices: list[NoticeMessage] = []

    def reaches(self, employee: Employee) -> bool:
        return self.reachable

    def send_digest(self, digest: Digest) -> None:
        self.digests.append(digest)

    def send_notice(self, message: NoticeMessage) -> None:
        self.notices.append(message)


class Keys:
    def key_ring(self) -> KeyRing:
        return RING


class Marks:
    def claim_digest(self, *_: Any) -> bool:
        return True

    def release_digest(self, *_: Any) -> None:
        raise AssertionError("nothing failed")


class Runs:
    def record_sends(self, *_: Any, **__: Any) -> None:
        return None


class Contents:
    def __init__(self, contents: list[Content]) -> None:
        self._contents = contents

    def get_contents(self, content_ids: Any) -> list[Content]:
        return [content for content in self._contents if content.content_id in content_ids]


class SentFunnel:
    def __init__(self) -> None:
        self.sent: list[dict[str, int]] = []

    def add_sent(self, sent: dict[str, int], source_event: str) -> None:
        self.sent.append(dict(sent))


class Profiles:
    def get_employee(self, employee_id: str) -> Employee:
        return ADA


def test_the_digest_reaches_the_channel_with_links_signed_for_the_employee(monkeypatch, capsys) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Chorus/unit")
    content = Content(content_id="c-1", title="Launch", url="https://example.com/launch", text="We launched")
    batch = DigestBatch(
        week_id="2026-W49",
        week_start=NOW,
        week_end=NOW + timedelta(days=7),
        recipients=[
            Recipient(
                employee_id="e-1",
                email="ada@example.com",
                name="Ada",
                locale="fr",
                timezone="Europe/Paris",
                content_ids=["c-1"],
                last_week_points=12,
            )
        ],
    )
    channel = RecordingChannel()
    funnel = SentFunnel()
    sender = DigestSender(
        Marks(),  # type: ignore[arg-type]
        channel,
        Keys(),
        Pacer(1000),
        contents=Contents([content]),
        runs=Runs(),  # type: ignore[arg-type]
        links=Links("https://chorus.example.com"),
        funnel=funnel,
        now=lambda: NOW,
    )

    assert sender.send_batch(batch) == 1
    assert funnel.sent == [{"c-1": 1}]

    (digest,) = channel.digests
    assert (digest.to.email, digest.to.locale, digest.last_week_points) == ("ada@example.com", "fr", 12)
    assert [item.content.content_id for item in digest.items] == ["c-1"]
    token = digest.items[0].link.removeprefix("https://chorus.example.com/a/")
    claims = verify_link(RING, token, NOW, {Purpose.ACTIVITY})
    assert (claims.employee_id, claims.content_id) == ("e-1", "c-1")
    assert verify_link(RING, digest.unsubscribe_link.split("t=")[1], NOW, {Purpose.UNSUBSCRIBE}).employee_id == "e-1"
    # And the batch is counted (EMF): sent, skipped, failed
    (counted,) = [record for record in emf_records(capsys.readouterr().out) if "DigestsSent" in record]
    assert (counted["DigestsSent"], counted["DigestsSkipped"], counted["DigestsFailed"]) == ([1.0], [0.0], [0.0])


def test_a_notice_reaches_the_channel_with_a_link_to_the_post() -> None:
    channel = RecordingChannel()
    notice = Notice(NoticeKind.FAILED, Network.X, content_id="c-1", text="hi", reason="x: refused")

    Notifier(Profiles(), channel, Keys(), base_url="https://chorus.example.com", now=lambda: NOW).notify("e-1", notice)

    (message,) = channel.notices
    assert (message.to.employee_id, message.notice, message.sent_at) == ("e-1", notice, NOW)
    token = message.link.removeprefix("https://chorus.example.com/a/")
    assert verify_link(RING, token, NOW, {Purpose.ACTIVITY}).content_id == "c-1"


def test_nothing_is_sent_to_an_employee_the_channel_cannot_reach() -> None:
    channel = RecordingChannel(reachable=False)

    Notifier(Profiles(), channel, Keys(), base_url="https://chorus.example.com", now=lambda: NOW).notify(
        "e-1", Notice(NoticeKind.EXPIRING, Network.LINKEDIN, until=NOW)
    )

    assert channel.notices == []
