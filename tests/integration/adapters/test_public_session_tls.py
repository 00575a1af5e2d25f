"""PublicSession against a real HTTPS server on 127.0.0.1: the TCP connection goes to the
address the guard checked, while TLS still names and verifies the host.

The "network" here is a connector that routes the checked public address to the local server
(and records it): DNS answers a public address, the connection reaches our server, and what
the server saw (SNI, Host) and what the client accepted (the certificate) are asserted.
"""

from __future__ import annotations

import socket

import pytest
import requests

from chorus.adapters.networks.egress import AddressRefused, PublicSession, connect_to
from tests.support.fake_dns import FakeDns
from tests.support.tls_server import tls_server

PUBLIC = "93.184.215.14"
HOST = "mastodon.example"


class RoutedNetwork:
    """Connects to the local server whatever public address is asked for, remembering it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.addresses: list[tuple[str, int]] = []

    def __call__(self, address, port, timeout, source_address, socket_options) -> socket.socket:
        self.addresses.append((address, port))
        return connect_to("127.0.0.1", self.port, timeout, source_address, socket_options)


def test_connects_to_the_checked_address_and_verifies_tls_against_the_name(tmp_path):
    with tls_server(tmp_path, HOST) as server:
        # Given DNS that answers a public address first, then (rebinding) 127.0.0.1
        dns = FakeDns({HOST: [[PUBLIC], ["127.0.0.1"]]})
        network = RoutedNetwork(server.port)
        session = PublicSession(dns, connect=network)
        # When one request is sent (trusting the test CA)
        response = session.get(f"https://{HOST}/api/v2/instance", verify=server.ca_file, timeout=5)
        # Then it went to the address that was checked, resolved once
        assert response.json() == {"ok": True}
        assert network.addresses == [(PUBLIC, 443)]
        assert dns.calls == [(HOST, 443)]
        # and TLS asked for the name and verified the certificate issued to it
        assert server.seen.server_names == [HOST]
        assert server.seen.hosts == [HOST]
        # When a second request finds the name rebound to 127.0.0.1, nothing is sent
        with pytest.raises(AddressRefused, match="points to a loopback address"):
            session.get(f"https://{HOST}/api/v1/statuses", verify=server.ca_file, timeout=5)
        assert network.addresses == [(PUBLIC, 443)]
        assert server.seen.paths == ["/api/v2/instance"]


def test_a_certificate_for_another_name_is_refused_even_at_a_checked_address(tmp_path):
    # Given a server whose certificate names another host
    with tls_server(tmp_path, "other.example") as server:
        session = PublicSession(FakeDns({HOST: [[PUBLIC]]}), connect=RoutedNetwork(server.port))
        # When connecting, Then TLS fails on the host name check
        with pytest.raises(requests.exceptions.SSLError, match="Hostname mismatch"):
            session.get(f"https://{HOST}/", verify=server.ca_file, timeout=5)
        assert server.seen.server_names == [HOST]
        assert server.seen.paths == []


def test_the_default_trust_store_is_used_unless_told_otherwise(tmp_path):
    # A private CA is not trusted by default: the guard never turns verification off.
    with tls_server(tmp_path, HOST) as server:
        session = PublicSession(FakeDns({HOST: [[PUBLIC]]}), connect=RoutedNetwork(server.port))
        with pytest.raises(requests.exceptions.SSLError, match="unable to get local issuer certificate"):
            session.get(f"https://{HOST}/", timeout=5)
