"""Each network's adapter: how to publish to it and whose account a new token is.

The network's facts (label, length rule, OAuth endpoints...) are its profile in
``chorus.domain.networks``; a new network registers its profile there and its adapter here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from chorus.adapters.networks.bluesky import BlueskyPublisher, BlueskySessions
from chorus.adapters.networks.http import DEFAULT_TIMEOUT, Timeout
from chorus.adapters.networks.linkedin import LinkedInPublisher
from chorus.adapters.networks.mastodon import MastodonPublisher
from chorus.adapters.networks.oauth_providers import (
    MemberIdLookup,
    linkedin_member_id,
    mastodon_member_id,
    x_member_id,
)
from chorus.adapters.networks.sandbox import Feed, SandboxNetwork
from chorus.adapters.networks.x import XPublisher
from chorus.domain.connection import AppPasswordSession, Credentials
from chorus.domain.networks import Network
from chorus.domain.publishing import PostRequest, Published


class Publisher(Protocol):
    def publish(self, post: PostRequest, credentials: Credentials | None) -> Published: ...


class AppPasswordSessions(Protocol):
    """Signing in with an app password, and refreshing the session (ConnectFailed when refused)."""

    def login(self, handle: str, app_password: str) -> AppPasswordSession: ...
    def refresh(self, server: str, refresh_token: str) -> AppPasswordSession: ...


@dataclass(frozen=True)
class PublisherOptions:
    """What adapters may need to be built: the HTTP session (tests pass a recording one), the
    deployment's settings that concern one network, and the sandbox's feed."""

    # A requests Session, or for Mastodon a PublicSession (None: each adapter makes its own).
    http_session: Any
    linkedin_version: str
    sandbox_feed: Feed


@dataclass(frozen=True)
class NetworkAdapter:
    publisher: Callable[[PublisherOptions], Publisher]
    # Who a fresh access token belongs to (None: the network needs no connection).
    member_id: MemberIdLookup | None = None
    # How employees sign in with an app password (networks whose profile says ``app_password``).
    app_password_sessions: Callable[[], AppPasswordSessions] | None = None


ADAPTERS: dict[Network, NetworkAdapter] = {
    Network.LINKEDIN: NetworkAdapter(
        lambda options: LinkedInPublisher(options.http_session, version=options.linkedin_version),
        linkedin_member_id,
    ),
    Network.X: NetworkAdapter(lambda options: XPublisher(options.http_session), x_member_id),
    Network.MASTODON: NetworkAdapter(lambda options: MastodonPublisher(options.http_session), mastodon_member_id),
    Network.BLUESKY: NetworkAdapter(
        lambda options: BlueskyPublisher(options.http_session), app_password_sessions=BlueskySessions
    ),
    Network.SANDBOX: NetworkAdapter(lambda options: SandboxNetwork(options.sandbox_feed)),
}


def publishers(enabled: tuple[Network, ...], options: PublisherOptions) -> dict[Network, Publisher]:
    """A publisher for each enabled network."""
    return {network: ADAPTERS[network].publisher(options) for network in enabled}


def app_password_sessions(enabled: tuple[Network, ...]) -> dict[Network, AppPasswordSessions]:
    """The app-password sign-in of each enabled network that has one."""
    return {
        network: sessions() for network in enabled if (sessions := ADAPTERS[network].app_password_sessions) is not None
    }


def member_id_for(
    network: Network,
    session: requests.Session,
    access_token: str,
    instance_url: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> str:
    adapter = ADAPTERS.get(network)
    if adapter is None or adapter.member_id is None:
        raise ValueError(f"no identity lookup for {network}")
    return adapter.member_id(session, access_token, instance_url, timeout)
