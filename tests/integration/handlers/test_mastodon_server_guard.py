"""Issue 8 item 5 through the real handlers: a Mastodon server whose name resolves to a private
address is refused at /connect and at publish time; a public one is used.

Before the fix only IP literals were refused: `localtest.me` or `127.0.0.1.nip.io` (both resolve
to 127.0.0.1) got an outbound connection. DNS here is a table behind `socket.getaddrinfo` (the
functions are built by bootstrap with the system resolver); outbound HTTP is `responses`, with
no pass-through, so any request not expected fails the test.
"""

from __future__ import annotations

import email
import socket
from datetime import UTC, datetime, timedelta
from email.message import Message
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses
from moto.ses.models import ses_backends

import publisher_handler
import web_handler
from chorus.adapters.kms_tokens import TokenVault
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.connection import Connection, ConnectionStatus, Tokens
from chorus.domain.content import Network
from chorus.domain.magic_links import activity_scope, connect_scope, form_subject, sign_form, sign_link
from chorus.store.connections import ConnectionStore
from tests.conftest import ACCOUNT, ENVIRONMENT, MAGIC_LINK_SECRET, TABLE
from tests.support.fake_dns import FakeDns
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed
from tests.unit.adapters.recordings import recorded

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"
NOW = datetime.now(UTC)
PUBLIC = "93.184.215.14"
# Names an attacker can register or borrow, each resolving into a range that must stay unreachable.
REFUSED = [
    ("localtest.me", "127.0.0.1", "a loopback address"),
    ("127.0.0.1.nip.io", "127.0.0.1", "a loopback address"),
    ("loopback6.example", "::1", "a loopback address"),
    ("metadata.example", "169.254.169.254", "a cloud metadata service"),
    ("metadata6.example", "fd00:ec2::254", "a cloud metadata service"),
    ("link.example", "169.254.7.7", "a link-local address"),
    ("intranet.example", "10.1.2.3", "a private address"),
    ("office.example", "192.168.0.10", "a private address"),
    ("cgnat.example", "100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("ula.example", "fd12:3456::1", "a unique local (private IPv6) address"),
    ("multicast.example", "224.0.0.251", "a multicast address"),
    ("zero.example", "0.0.0.0", "the unspecified address"),
    ("reserved.example", "240.0.0.1", "a reserved address"),
    ("bench.example", "198.18.0.1", "a benchmarking address"),
    ("mapped.example", "::ffff:127.0.0.1", "a loopback address inside an IPv6 address"),
    ("nat64.example", "64:ff9b::a9fe:a9fe", "a cloud metadata service inside an IPv6 address"),
]


@pytest.fixture
def dns(monkeypatch) -> FakeDns:
    table = FakeDns({name: [[address]] for name, address, _ in REFUSED} | {"mastodon.example": [[PUBLIC]]})
    table.install(monkeypatch)
    return table


@pytest.fixture
def network():
    """Outbound HTTP: only what a test registers is answered; nothing passes through."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def world(aws):
    seed(
        aws,
        [
            {
                "id": "lyon",
                "title": "Lyon",
                "url": "https://example.com/lyon",
                "text": "Open",
                "ends_at": str((NOW + timedelta(days=10)).date()),
            }
        ],
        [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris"}],
    )
    return aws


CONNECT = connect_scope(activity_scope(content_id("lyon")))


def link() -> str:
    """The connect link the activity page mints."""
    return sign_link(RING, employee_id(ADA), CONNECT, NOW + timedelta(days=2))


def form_token() -> str:
    return sign_form(RING, form_subject(employee_id(ADA), CONNECT, "connect:mastodon"), NOW - timedelta(minutes=1))


def post_form(path: str, route: str, fields: dict[str, str], query: dict[str, str] | None = None) -> dict:
    event = http_event(
        "POST",
        path,
        route=route,
        claims=None,
        query=query,
        body=urlencode(fields),
        headers={"content-type": "application/x-www-form-urlencoded", "host": "chorus.example.com"},
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def connect_mastodon(server: str) -> dict:
    fields = {"form": form_token(), "action": "connect", "instance": server}
    return post_form("/connect/mastodon", "/connect/{network}", fields, query={"t": link()})


def table_items(aws) -> list[dict]:
    return aws["dynamodb"].scan(TableName=TABLE)["Items"]


class TestConnect:
    @pytest.mark.parametrize(("name", "address", "reason"), REFUSED)
    def test_a_name_resolving_to_a_refused_range_is_refused_with_a_reason(
        self, world, dns, network, name, address, reason
    ):
        before = table_items(world)
        # When the employee asks to connect that server
        response = connect_mastodon(name)
        # Then the page says why, in words for them, and nothing was sent or stored
        assert response["statusCode"] == 422
        assert f"{name} points to {reason} ({address}), not to a public server" in response["body"]
        assert "enter the public name of your Mastodon server, like mastodon.social" in response["body"]
        assert (name, 443) in dns.calls
        assert len(network.calls) == 0
        assert table_items(world) == before

    def test_a_name_that_does_not_resolve_is_refused(self, world, dns, network):
        response = connect_mastodon("nowhere.example")
        assert response["statusCode"] == 422
        assert "nowhere.example could not be found" in response["body"]
        assert len(network.calls) == 0

    def test_a_public_server_is_registered_and_the_employee_sent_there(self, world, dns, network):
        answer = recorded("mastodon_app_registered")
        network.add("POST", "https://mastodon.example/api/v1/apps", json=answer["body"])
        # When the employee connects a server whose name resolves to a public address
        response = connect_mastodon("mastodon.example")
        # Then Chorus registered itself there and sends the employee to its consent page
        assert response["statusCode"] == 303
        location = urlsplit(response["headers"]["Location"])
        assert (location.scheme, location.netloc, location.path) == ("https", "mastodon.example", "/oauth/authorize")
        assert parse_qs(location.query)["client_id"] == [answer["body"]["client_id"]]
        assert [call.request.url for call in network.calls] == ["https://mastodon.example/api/v1/apps"]


class TestPublish:
    def connect(self, aws, server: str) -> None:
        """Ada's stored connection to ``server`` (tokens sealed with KMS, as the callback stores them)."""
        vault = TokenVault(aws["kms"], ENVIRONMENT["TOKEN_KEY_ID"])
        sealed = vault.seal(Tokens(access_token="mastodon-token").plaintext(), employee_id(ADA), "mastodon")
        ConnectionStore(aws["dynamodb"], TABLE).save(
            Connection(
                employee_id=employee_id(ADA),
                network=Network.MASTODON,
                status=ConnectionStatus.CONNECTED,
                member_id="109",
                instance_url=f"https://{server}",
                token_version=1,
                connected_at=NOW,
            ),
            sealed,
        )

    def approve(self) -> None:
        activity = activity_scope(content_id("lyon"))
        fields = {
            "form": sign_form(RING, form_subject(employee_id(ADA), activity, "approve"), NOW - timedelta(minutes=1)),
            "action": "approve",
            "content_version": "1",
            "network": "mastodon",
            "text_mastodon": "Our Lyon office is open",
            "when": "now",
            "timezone": "Europe/Paris",
        }
        page = sign_link(RING, employee_id(ADA), activity, NOW + timedelta(days=2))
        response = post_form(f"/a/{page}", "/a/{token}", fields)
        assert response["statusCode"] == 303

    def publish(self) -> dict:
        target = {
            "employee_id": employee_id(ADA),
            "content_id": content_id("lyon"),
            "network": "mastodon",
            "revision": 1,
        }
        return publisher_handler.lambda_handler({"approval": target}, FakeLambdaContext())

    def approval(self, aws) -> dict:
        key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#mastodon"}}
        return aws["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]

    @pytest.mark.parametrize(("name", "address", "reason"), REFUSED[:4] + REFUSED[-2:])
    def test_a_server_now_resolving_to_a_refused_range_gets_nothing(
        self, world, dns, network, monkeypatch, name, address, reason
    ):
        # Given Ada connected a server and approved a post; its name now resolves to a refused range
        self.connect(world, name)
        self.approve()

        def no_connection(*args, **kwargs):
            raise AssertionError("a connection was attempted")

        monkeypatch.setattr(socket.socket, "connect", no_connection)
        # When the schedule fires
        outcome = self.publish()
        # Then nothing was sent, the post failed for good with the reason, and Ada is told why
        assert outcome == {"outcome": "failed"}
        assert len(network.calls) == 0
        expected = f"mastodon: {name} points to {reason} ({address}), not to a public server; nothing was sent"
        item = self.approval(world)
        assert item["status"]["S"] == "FAILED"
        assert item["failure_reason"]["S"] == expected
        [mail] = sent_mails()
        assert ADA in mail["To"]
        assert expected in text_of(mail)

    def test_a_public_server_gets_the_post(self, world, dns, network):
        self.connect(world, "mastodon.example")
        self.approve()
        answer = recorded("mastodon_status_created")
        network.add("POST", "https://mastodon.example/api/v1/statuses", json=answer["body"])
        assert self.publish() == {"outcome": "published"}
        assert self.approval(world)["status"]["S"] == "PUBLISHED"
        # (the approval also read the server's limits from /api/v2/instance, through the guard)
        [call] = [call for call in network.calls if call.request.url.endswith("/api/v1/statuses")]
        assert call.request.headers["Authorization"] == "Bearer mastodon-token"
        assert ("mastodon.example", 443) in dns.calls


def sent_mails() -> list[Message]:
    return [email.message_from_string(message.raw_data) for message in ses_backends[ACCOUNT]["eu-west-1"].sent_messages]


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return " ".join(payload.decode(part.get_content_charset() or "utf-8").split())
    raise AssertionError("no text part")
