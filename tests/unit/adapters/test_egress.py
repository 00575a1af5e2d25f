"""The public-address guard: which addresses are refused, that the connection goes to the address
that was checked (one lookup, no rebinding), and that redirects and proxies cannot route around
it. No socket and no real DNS: the resolver is a table and the connector records addresses."""

from __future__ import annotations

import ipaddress
import socket

import pytest
import requests
import responses
from requests_oauthlib import OAuth2Session

from chorus.adapters.networks.egress import (
    AddressRefused,
    HostNotFound,
    PublicAddressGuard,
    PublicSession,
    refusal,
)
from chorus.adapters.networks.http import send
from chorus.domain.publishing import FailureKind, PublishFailed
from tests.support.fake_dns import FakeDns

HOST = "mastodon.example"
PUBLIC = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"

REFUSED = [
    ("127.0.0.1", "a loopback address"),
    ("127.8.9.10", "a loopback address"),
    ("::1", "a loopback address"),
    ("10.0.0.8", "a private address"),
    ("172.16.5.4", "a private address"),
    ("192.168.1.1", "a private address"),
    ("169.254.10.20", "a link-local address"),
    ("fe80::1", "a link-local address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("100.127.255.254", "a shared (carrier-grade NAT) address"),
    ("fc00::1", "a unique local (private IPv6) address"),
    ("fd12:3456::1", "a unique local (private IPv6) address"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("ff0e::1", "a multicast address"),
    ("0.0.0.0", "the unspecified address"),
    ("::", "the unspecified address"),
    ("0.1.2.3", "a private address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
    ("192.0.0.9", "an IETF protocol address"),
    ("192.0.2.1", "a documentation address"),
    ("198.51.100.7", "a documentation address"),
    ("203.0.113.9", "a documentation address"),
    ("2001:db8::1", "a documentation address"),
    ("198.18.0.1", "a benchmarking address"),
    ("198.19.255.1", "a benchmarking address"),
    ("169.254.169.254", "a cloud metadata service"),
    ("fd00:ec2::254", "a cloud metadata service"),
    ("100.100.100.200", "a cloud metadata service"),
    ("::ffff:127.0.0.1", "a loopback address inside an IPv6 address"),
    ("::ffff:169.254.169.254", "a cloud metadata service inside an IPv6 address"),
    ("::ffff:10.0.0.1", "a private address inside an IPv6 address"),
    ("::ffff:0:127.0.0.1", "a loopback address inside an IPv6 address"),
    ("64:ff9b::127.0.0.1", "a loopback address inside an IPv6 address"),
    ("64:ff9b::a9fe:a9fe", "a cloud metadata service inside an IPv6 address"),
    ("64:ff9b:1::10.0.0.1", "a local NAT64 address"),
    ("2002:7f00:1::", "a loopback address inside an IPv6 address"),
    ("2002:a9fe:a9fe::1", "a cloud metadata service inside an IPv6 address"),
    ("::127.0.0.1", "a reserved address"),
    ("100::1", "a discard-only address"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_non_public_addresses_are_refused_by_name(address: str, reason: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address",
    [PUBLIC, "8.8.8.8", "1.1.1.1", PUBLIC_V6, "2a00:1450:4007:80e::200e", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"],
)
def test_public_unicast_addresses_are_accepted(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


class TestGuard:
    def test_one_private_address_in_the_answer_refuses_the_host(self) -> None:
        guard = PublicAddressGuard(FakeDns({HOST: [[PUBLIC, "10.0.0.1"]]}))
        with pytest.raises(AddressRefused) as caught:
            guard.check(HOST)
        assert str(caught.value) == f"{HOST} points to a private address (10.0.0.1), not to a public server"

    def test_a_public_answer_is_kept_in_order_without_repeats(self) -> None:
        checked = PublicAddressGuard(FakeDns({HOST: [[PUBLIC_V6, PUBLIC, PUBLIC_V6]]})).check(HOST)
        assert checked.addresses == (PUBLIC_V6, PUBLIC)

    @pytest.mark.parametrize("answers", [{}, {HOST: [[]]}])
    def test_a_name_that_does_not_resolve_is_not_found(self, answers) -> None:
        with pytest.raises(HostNotFound):
            PublicAddressGuard(FakeDns(answers)).check(HOST)

    def test_an_answer_that_is_not_an_address_is_refused(self) -> None:
        with pytest.raises(AddressRefused, match="not an IP address"):
            PublicAddressGuard(FakeDns({HOST: [["localhost"]]})).check(HOST)


class Recorder:
    """A connector that records where it was asked to connect, and refuses (no socket here)."""

    def __init__(self) -> None:
        self.addresses: list[tuple[str, int]] = []

    def __call__(self, address, port, timeout, source_address, socket_options) -> socket.socket:
        self.addresses.append((address, port))
        raise ConnectionRefusedError(f"no server at {address}")


class TestConnection:
    def test_the_connection_goes_to_the_address_that_was_checked(self) -> None:
        # Given DNS that answers a public address, then 127.0.0.1 (a rebinding)
        dns, network = FakeDns({HOST: [[PUBLIC], ["127.0.0.1"]]}), Recorder()
        session = PublicSession(dns, connect=network)
        # When a request is sent, Then the name is resolved once and the checked address is dialled
        with pytest.raises(requests.ConnectionError) as caught:
            session.get(f"https://{HOST}/api/v1/statuses", timeout=3)
        assert not isinstance(caught.value, AddressRefused)
        assert dns.calls == [(HOST, 443)]
        assert network.addresses == [(PUBLIC, 443)]
        # When the next request finds the name rebound, Then nothing is dialled at all
        with pytest.raises(AddressRefused, match="loopback"):
            session.get(f"https://{HOST}/api/v1/statuses", timeout=3)
        assert network.addresses == [(PUBLIC, 443)]

    def test_every_checked_address_is_tried_in_order_and_nothing_else(self) -> None:
        network = Recorder()
        session = PublicSession(FakeDns({HOST: [[PUBLIC_V6, PUBLIC]]}), connect=network)
        with pytest.raises(requests.ConnectionError):
            session.get(f"https://{HOST}/", timeout=3)
        assert network.addresses == [(PUBLIC_V6, 443), (PUBLIC, 443)]

    def test_proxies_from_the_environment_or_the_call_are_not_used(self, monkeypatch) -> None:
        monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
        monkeypatch.setenv("ALL_PROXY", "http://10.0.0.1:3128")
        network = Recorder()
        session = PublicSession(FakeDns({HOST: [[PUBLIC]]}), connect=network)
        with pytest.raises(requests.ConnectionError):
            session.get(f"https://{HOST}/", proxies={"https": "http://10.0.0.1:3128"}, timeout=3)
        assert network.addresses == [(PUBLIC, 443)]

    @pytest.mark.parametrize("url", [f"http://{HOST}/", "http://127.0.0.1/"])
    def test_plain_http_is_refused_before_any_lookup(self, url: str) -> None:
        dns, network = FakeDns({HOST: [[PUBLIC]]}), Recorder()
        with pytest.raises(AddressRefused, match="not an https URL"):
            PublicSession(dns, connect=network).get(url, timeout=3)
        assert dns.calls == [] and network.addresses == []

    def test_a_non_default_port_is_checked_and_dialled_as_asked(self) -> None:
        dns, network = FakeDns({HOST: [[PUBLIC]]}), Recorder()
        with pytest.raises(requests.ConnectionError):
            PublicSession(dns, connect=network).get(f"https://{HOST}:8443/", timeout=3)
        assert dns.calls == [(HOST, 8443)] and network.addresses == [(PUBLIC, 8443)]


class TestRedirects:
    def test_a_public_session_returns_the_redirect_instead_of_following_it(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", f"https://{HOST}/go", status=302, headers={"Location": "https://169.254.169.254/latest"})
        response = PublicSession(FakeDns({HOST: [[PUBLIC]]})).get(f"https://{HOST}/go", timeout=3)
        assert response.status_code == 302 and len(rsps.calls) == 1

    def test_a_restricted_oauth_session_refuses_to_follow(self, rsps: responses.RequestsMock) -> None:
        # Given a token endpoint that redirects (307 would resend the client secret and the code)
        rsps.add("POST", f"https://{HOST}/oauth/token", status=307, headers={"Location": f"https://{HOST}/elsewhere"})
        oauth = OAuth2Session("client")
        PublicSession(FakeDns({HOST: [[PUBLIC]]})).restrict(oauth)
        # When it is called, Then the redirect is not followed
        with pytest.raises(requests.TooManyRedirects):
            oauth.post(f"https://{HOST}/oauth/token", data={"code": "c"}, timeout=3)
        assert len(rsps.calls) == 1

    def test_a_restricted_session_checks_its_host_too(self, rsps: responses.RequestsMock) -> None:
        oauth = OAuth2Session("client")
        PublicSession(FakeDns({HOST: [["10.1.2.3"]]})).restrict(oauth)
        with pytest.raises(AddressRefused, match="private address"):
            oauth.post(f"https://{HOST}/oauth/token", data={"code": "c"}, timeout=3)
        assert len(rsps.calls) == 0


class TestSend:
    def test_a_refused_address_is_a_rejection_and_nothing_is_sent(self, rsps: responses.RequestsMock) -> None:
        session = PublicSession(FakeDns({HOST: [["169.254.169.254"]]}))
        with pytest.raises(PublishFailed) as caught:
            send(session, "POST", f"https://{HOST}/api/v1/statuses", network="mastodon", timeout=3, headers={})
        assert caught.value.kind is FailureKind.REJECTED
        assert caught.value.reason == (
            f"mastodon: {HOST} points to a cloud metadata service (169.254.169.254), not to a public server; "
            "nothing was sent"
        )
        assert len(rsps.calls) == 0

    def test_a_name_that_does_not_resolve_now_is_transient(self, rsps: responses.RequestsMock) -> None:
        with pytest.raises(PublishFailed) as caught:
            send(PublicSession(FakeDns({})), "GET", f"https://{HOST}/", network="mastodon", timeout=3, headers={})
        assert caught.value.kind is FailureKind.TRANSIENT
        assert caught.value.reason == f"mastodon: {HOST} could not be found"
