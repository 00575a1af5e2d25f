"""A DNS that answers from a table, in place of the system resolver (no test touches real DNS).

As a `Resolver` it is passed to `PublicSession(resolver)`; `install(monkeypatch)` puts it behind
`socket.getaddrinfo`, for code built by bootstrap with the real system resolver.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest


@dataclass
class FakeDns:
    """``answers[name]`` is a list of successive answers; the last one repeats.

    ``FakeDns({"a.example": [["1.2.3.4"], ["127.0.0.1"]]})`` answers 1.2.3.4 once, then
    127.0.0.1 (a rebinding). A name not in the table does not exist.
    """

    answers: dict[str, list[list[str]]]
    calls: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append((host, port))
        successive = self.answers.get(host.lower())
        if not successive:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        asked_before = sum(1 for name, _ in self.calls[:-1] if name == host)
        return successive[min(asked_before, len(successive) - 1)]

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        """`socket.getaddrinfo`'s shape, for the system resolver."""
        results = []
        for address in self(str(host), int(port or 0)):
            if ":" in address:
                results.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0)))
            else:
                results.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port)))
        return results

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
