"""Mastodon's limit is the employee's own server's, read once a day and kept when it is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chorus.domain.content import Network
from chorus.domain.lengths import InstanceLimits
from chorus.domain.networks import networks, profile_of
from chorus.domain.publishing import FailureKind, PublishFailed
from chorus.services.length_rules import ASK_AGAIN_AFTER_FAILURE, FRESH_FOR, ServerLengthRules
from chorus.store.connections import CachedInstanceLimits

LENGTH_RULES = {network: profile_of(network).length_rule for network in networks()}
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
SERVER = "https://fosstodon.example"


class FakeStore:
    def __init__(self) -> None:
        self.cache: dict[str, CachedInstanceLimits] = {}
        self.reads = 0

    def instance_limits(self, host: str) -> CachedInstanceLimits | None:
        self.reads += 1
        return self.cache.get(host)

    def save_instance_limits(self, host: str, limits: InstanceLimits, fresh_until: datetime) -> None:
        self.cache[host] = CachedInstanceLimits(limits, fresh_until)


class Server:
    def __init__(self, *answers: InstanceLimits | PublishFailed) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, instance_url: str) -> InstanceLimits:
        self.asked.append(instance_url)
        answer = self.answers.pop(0)
        if isinstance(answer, PublishFailed):
            raise answer
        return answer


DOWN = PublishFailed(FailureKind.TRANSIENT, "mastodon: could not connect")


def rules(store: FakeStore, server: Server, now: datetime = NOW) -> ServerLengthRules:
    return ServerLengthRules(store, server, now=lambda: now)


def test_the_employees_server_sets_the_limit() -> None:
    store, server = FakeStore(), Server(InstanceLimits(1000, 23))
    rule = rules(store, server).rule_for(Network.MASTODON, SERVER)
    assert (rule.limit, rule.room) == (1000, 975)
    assert server.asked == [SERVER]
    assert store.cache["fosstodon.example"] == CachedInstanceLimits(InstanceLimits(1000, 23), NOW + FRESH_FOR)


def test_a_fresh_cache_asks_nobody() -> None:
    store, server = FakeStore(), Server()
    store.cache["fosstodon.example"] = CachedInstanceLimits(InstanceLimits(700, 23), NOW + timedelta(hours=3))
    assert rules(store, server).rule_for(Network.MASTODON, SERVER).limit == 700
    assert server.asked == []


def test_a_stale_cache_is_refreshed() -> None:
    store, server = FakeStore(), Server(InstanceLimits(800, 23))
    store.cache["fosstodon.example"] = CachedInstanceLimits(InstanceLimits(700, 23), NOW - timedelta(seconds=1))
    assert rules(store, server).rule_for(Network.MASTODON, SERVER).limit == 800


def test_a_server_that_is_down_keeps_its_last_known_limit_and_is_asked_again_later() -> None:
    store, server = FakeStore(), Server(DOWN)
    store.cache["fosstodon.example"] = CachedInstanceLimits(InstanceLimits(700, 23), NOW - timedelta(days=3))
    assert rules(store, server).rule_for(Network.MASTODON, SERVER).limit == 700
    assert store.cache["fosstodon.example"].fresh_until == NOW + ASK_AGAIN_AFTER_FAILURE


def test_a_server_never_heard_from_gets_mastodons_default() -> None:
    store, server = FakeStore(), Server(DOWN)
    assert rules(store, server).rule_for(Network.MASTODON, SERVER) == LENGTH_RULES[Network.MASTODON]


def test_not_connected_means_mastodons_default_and_costs_no_read() -> None:
    # The caller read the connections already (the page, or the approval with its content)
    store, server = FakeStore(), Server()
    assert rules(store, server).rule_for(Network.MASTODON, None) == LENGTH_RULES[Network.MASTODON]
    assert store.reads == 0 and server.asked == []


def test_other_networks_cost_no_read() -> None:
    store, server = FakeStore(), Server()
    for network in (Network.X, Network.LINKEDIN, Network.SANDBOX):
        assert rules(store, server).rule_for(network, None) == LENGTH_RULES[network]
        assert rules(store, server).rule_for(network, SERVER) == LENGTH_RULES[network]
    assert store.reads == 0 and server.asked == []
