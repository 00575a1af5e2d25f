"""Outbound HTTPS to a host an employee chose (their Mastodon server): public addresses only.

`http.validate_instance_url` checks the *name*; a name can still lead anywhere (`localtest.me`
and `127.0.0.1.nip.io` resolve to 127.0.0.1). So every request through a `PublicSession`:

1. resolves the host once (the resolver is injectable: tests never touch real DNS);
2. refuses the whole answer if any address is not a public unicast one: loopback, private,
   link-local, shared (CGNAT 100.64.0.0/10), unique local (fc00::/7), multicast, unspecified,
   reserved, documentation and benchmarking ranges, cloud metadata services, and IPv4 addresses
   inside IPv6 (mapped, translated, NAT64, 6to4, Teredo) judged by the IPv4 they carry;
3. connects to an address it checked, never looking the name up again: a DNS answer that changes
   between the check and the connection (rebinding) changes nothing;
4. still verifies TLS against the host name: SNI and the certificate check use the name, only
   the TCP connection uses the checked address.

Redirects are not followed (the 3xx is the answer), proxies from the environment are ignored
(a proxy would resolve the name itself), and plain http is refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any, override
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.timeout import Timeout

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses the name resolves to (numeric strings).
Resolver = Callable[[str, int], Sequence[str]]
# address, port, timeout, source address, socket options -> a connected socket.
SocketOptions = Sequence[tuple[int, int, int | bytes]]
Connector = Callable[[str, int, float | None, tuple[str, int] | None, SocketOptions | None], socket.socket]

# Cloud instance metadata, credentials and time services (AWS, ECS, GCP, Azure, Alibaba, Oracle):
# named so the refusal says what it protects. Most are link-local or private anyway.
_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.169.253",
        "169.254.169.123",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::253",
        "fd00:ec2::123",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
    )
)
# Ranges Python's ipaddress may call global, or names too vaguely; first match names the refusal.
_NAMED_RANGES: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), label)
    for network, label in (
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("fc00::/7", "a unique local (private IPv6) address"),
        ("fec0::/10", "a site-local address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("2001:2::/48", "a benchmarking address"),
        ("100::/64", "a discard-only address"),
        ("64:ff9b:1::/48", "a local NAT64 address"),
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address (as "a loopback address"...), or None."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = refusal(embedded)
        return f"{reason} inside an IPv6 address" if reason else None
    if address in _METADATA:
        return "a cloud metadata service"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    for network, label in _NAMED_RANGES:
        if address in network:
            return label
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (it is what a connection to it would reach)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return address.ipv4_mapped
    if address.sixtofour is not None:  # 2002:AABB:CCDD::/48
        return address.sixtofour
    if address.teredo is not None:  # 2001::/32, (server, client)
        return address.teredo[1]
    if address in _NAT64 or address in _IPV4_TRANSLATED:  # 64:ff9b::a.b.c.d, ::ffff:0:a.b.c.d
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class AddressRefused(requests.exceptions.ConnectionError):
    """The host leads somewhere that is not the public internet; nothing was sent."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host} {reason}")
        self.host = host
        self.reason = reason


class HostNotFound(requests.exceptions.ConnectionError):
    """The name did not resolve (now); nothing was sent."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} could not be found")
        self.host = host


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for ``host`` (A and AAAA)."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(sockaddr[0]) for *_, sockaddr in answers]


def connect_to(
    address: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None,
    socket_options: SocketOptions | None,
) -> socket.socket:
    """A TCP connection to one numeric address: no name lookup of any kind."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        for option in socket_options or ():
            sock.setsockopt(*option)
        sock.settimeout(timeout)
        if source_address:
            sock.bind(source_address)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class CheckedHost:
    """A host name and the public addresses it resolved to, in the resolver's order."""

    host: str
    port: int
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class PublicAddressGuard:
    resolver: Resolver = system_resolver

    def check(self, host: str, port: int = 443) -> CheckedHost:
        """Resolves ``host`` once; AddressRefused unless every address is public."""
        try:
            answers = list(self.resolver(host, port))
        except (OSError, UnicodeError) as exc:
            raise HostNotFound(host) from exc
        if not answers:
            raise HostNotFound(host)
        addresses: list[str] = []
        for answer in answers:
            try:
                address = ipaddress.ip_address(answer)
            except ValueError:
                raise AddressRefused(host, "resolves to something that is not an IP address") from None
            reason = refusal(address)
            if reason is not None:
                raise AddressRefused(host, f"points to {reason} ({address}), not to a public server")
            if str(address) not in addresses:
                addresses.append(str(address))
        return CheckedHost(host=host, port=port, addresses=tuple(addresses))


class _PinnedHTTPSConnection(HTTPSConnection):
    """HTTPS whose TCP connection goes to checked addresses; TLS (SNI, certificate) uses the name."""

    def __init__(self, *args: Any, checked: CheckedHost, connect: Connector, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checked = checked
        self._connect = connect

    def _new_conn(self) -> socket.socket:
        if (self.host, self.port) != (self._checked.host, self._checked.port):
            raise AddressRefused(self.host, "was not checked before connecting")
        timeout = Timeout.resolve_default_timeout(self.timeout)
        error: OSError | None = None
        for address in self._checked.addresses:
            try:
                return self._connect(address, self.port, timeout, self.source_address, self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")


class _PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


# The host checked for the request being sent (set by the adapter around one send).
_CHECKED: ContextVar[CheckedHost | None] = ContextVar("chorus_checked_host", default=None)


def _pool_key(default_key: Callable[[dict[str, Any]], Any], context: dict[str, Any]) -> Any:
    """urllib3's pool key plus the checked addresses: a pool connects to what it was checked for."""
    plain = {name: value for name, value in context.items() if name not in {"checked", "connect"}}
    return (default_key(plain), context["checked"], context["connect"])


class PublicOnlyAdapter(HTTPAdapter):
    """Checks each request's host with the guard, then sends it over a pinned connection."""

    def __init__(self, guard: PublicAddressGuard, connect: Connector = connect_to) -> None:
        self._guard = guard
        self._connect = connect
        super().__init__()

    @override
    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        manager = self.poolmanager
        manager.key_fn_by_scheme = {"https": partial(_pool_key, manager.key_fn_by_scheme["https"])}
        manager.pool_classes_by_scheme = {"https": _PinnedHTTPSConnectionPool}

    @override
    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        host = (parts.hostname or "").lower()
        if parts.scheme.lower() != "https" or not host:
            raise AddressRefused(host or "the address", "is not an https URL")
        checked = self._guard.check(host, parts.port or 443)
        with _checked(checked):
            return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None)

    @override
    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: tuple[str, str] | str | None = None,
    ) -> ConnectionPool:
        """A pool for the checked addresses of this request's host; never a proxy."""
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(
            request, True if verify is None else verify, cert
        )
        checked = _CHECKED.get()
        if checked is None or (host_params["host"], host_params["port"] or 443) != (checked.host, checked.port):
            raise AddressRefused(str(host_params["host"]), "was not checked before connecting")
        pinned = {**pool_kwargs, "checked": checked, "connect": self._connect}
        pool: ConnectionPool = self.poolmanager.connection_from_host(**host_params, pool_kwargs=pinned)
        return pool


class _RefuseAll(BaseAdapter):
    """Mounted on http:// of a public session: plain http is never sent."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        raise AddressRefused(urlsplit(request.url or "").hostname or "the address", "is not an https URL")

    def close(self) -> None:
        """Nothing to release."""


@contextmanager
def _checked(checked: CheckedHost) -> Iterator[None]:
    token = _CHECKED.set(checked)
    try:
        yield
    finally:
        _CHECKED.reset(token)


class PublicSession(requests.Session):
    """A requests session for employee-chosen hosts (see the module docstring).

    ``restrict`` applies the same guard to another session (requests-oauthlib's OAuth2Session).
    """

    def __init__(self, resolver: Resolver = system_resolver, *, connect: Connector = connect_to) -> None:
        super().__init__()
        self.guard = PublicAddressGuard(resolver)
        self._connect = connect
        self.restrict(self)

    def restrict(self, session: requests.Session) -> None:
        session.trust_env = False  # proxies and .netrc from the environment: a proxy resolves names itself
        session.mount("https://", PublicOnlyAdapter(self.guard, self._connect))
        session.mount("http://", _RefuseAll())
        if session is not self:
            # A session we did not make follows redirects: each hop would be checked again, but
            # none is followed at all (TooManyRedirects).
            session.max_redirects = 0

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Never follow a redirect: the 3xx is the answer (it could lead anywhere, token attached)."""
        return None
