# ruff: noqa: S106  -- "token_url"/"token_auth" are endpoint metadata, not passwords.
"""The networks Chorus publishes to: one ``NetworkProfile`` each, in one registry.

Everything Chorus knows about a network that is not how to talk to it lives in its profile: its
label, how it counts a post's length and what the link costs (``LengthRule``), its upload column,
how employees connect (OAuth endpoints, scopes, PKCE) or that they need not, and whether the
employee's own server is involved (Mastodon). How to talk to it is its adapter, found in
``chorus.adapters.networks.registry``. A new network is one profile registered here, one adapter
module and its line in that registry, and its name in the template's ``Networks`` pattern.

Reconnecting follows the tokens a network issues, not a flag: a connection without a refresh
token (LinkedIn's) ends when its access token does, and the employee is reminded a week before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Literal

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from chorus.domain.lengths import (
    BLUESKY_LIMIT,
    BLUESKY_LINK_RESERVE,
    LITTLE_TEXT_RESERVED,
    MASTODON_DEFAULT_LIMIT,
    Counting,
    LengthRule,
    UrlCounting,
)

TokenAuth = Literal["basic", "body"]
# Where the deployment serves its AT Protocol OAuth client metadata: PublicBaseUrl + this path
# is the client_id (https://atproto.com/specs/oauth#clients).
ATPROTO_CLIENT_METADATA_PATH = "/oauth/bluesky/client-metadata.json"
# Posting needs the transitional scope that grants what an app password could do.
ATPROTO_SCOPE = "atproto transition:generic"


def atproto_client_metadata(public_base_url: str, client_name: str = "Chorus") -> dict[str, Any]:
    """Chorus's client metadata document: a public web client (no client secret, no keys) whose
    tokens are DPoP-bound; served at its own client_id, which it must repeat exactly."""
    return {
        "client_id": f"{public_base_url}{ATPROTO_CLIENT_METADATA_PATH}",
        "client_name": client_name,
        "client_uri": public_base_url,
        "application_type": "web",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": ATPROTO_SCOPE,
        "redirect_uris": [f"{public_base_url}/oauth/callback/bluesky"],
        "token_endpoint_auth_method": "none",
        "dpop_bound_access_tokens": True,
    }


class Network(str):
    """A registered network's name ("linkedin"). Only registered networks exist: ``Network(name)``
    answers the registered one (so ``is`` compares them) or raises ValueError, and pydantic
    validates the same way."""

    __slots__ = ()

    LINKEDIN: ClassVar[Network]
    X: ClassVar[Network]
    MASTODON: ClassVar[Network]
    BLUESKY: ClassVar[Network]
    SANDBOX: ClassVar[Network]

    def __new__(cls, name: object) -> Network:
        profile = _PROFILES.get(name) if isinstance(name, str) else None
        if profile is None:
            raise ValueError(f"{name!r} is not a network")
        return profile.network

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Network({self.value!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls, json_schema_input_schema=core_schema.str_schema(), serialization=core_schema.to_string_ser_schema()
        )


@dataclass(frozen=True)
class OAuthSpec:
    """How employees connect: OAuth 2.0 authorization code. ``pkce`` means S256; ``token_auth``
    is how the client authenticates at the token endpoint (HTTP Basic, or id and secret in the
    body). On a network of employees' own servers the endpoints are paths on that server."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    pkce: bool
    token_auth: TokenAuth


@dataclass(frozen=True)
class NetworkProfile:
    name: str
    label: str
    length_rule: LengthRule
    # The upload column of the network's own text (``text_<name>``); None: the shared text only.
    upload_column: str | None = None
    # None: employees connect without OAuth (``app_password``) or need no connection at all.
    oauth: OAuthSpec | None = None
    # Employees connect by giving an app password the network issues for one app (Bluesky's),
    # sealed like a token; never their main password.
    app_password: bool = False
    # Employees connect with AT Protocol OAuth (PAR, PKCE, DPoP-bound tokens; the client_id is
    # the URL of the client metadata Chorus serves): their account's own authorization server,
    # found from their handle. Offered when the deployment has a public https base URL.
    atproto_oauth: bool = False
    # The employee names their own server (Mastodon): connecting asks for it, the OAuth app is
    # registered on it, its own length limit applies, and every request to it is guarded.
    on_employee_server: bool = False
    # How long the network remembers a post's idempotency key: the same request again within it
    # answers the first post instead of making a second. None: the network takes no key, so a
    # post whose answer was lost is never sent again (the employee is asked to check).
    idempotency_window: timedelta | None = None
    # Its limits are daily, reset at midnight UTC, and a 429 says nothing of when to retry.
    limits_reset_at_midnight_utc: bool = False

    @property
    def network(self) -> Network:
        return _NETWORKS[self.name]

    @property
    def needs_connection(self) -> bool:
        return self.oauth is not None or self.app_password or self.atproto_oauth


_PROFILES: dict[str, NetworkProfile] = {}
_NETWORKS: dict[str, Network] = {}


def register(profile: NetworkProfile) -> Network:
    """Makes the network exist. Registration order is the order pages list networks in."""
    if profile.name in _PROFILES:
        raise ValueError(f"network {profile.name} is registered already")
    _NETWORKS[profile.name] = str.__new__(Network, profile.name)
    _PROFILES[profile.name] = profile
    return profile.network


def profile_of(network: Network) -> NetworkProfile:
    return _PROFILES[network.value]


def profiles() -> tuple[NetworkProfile, ...]:
    return tuple(_PROFILES.values())


def networks() -> tuple[Network, ...]:
    return tuple(profile.network for profile in _PROFILES.values())


def upload_columns() -> dict[str, Network]:
    """The networks' own text columns of a content upload, in registry order."""
    return {profile.upload_column: profile.network for profile in _PROFILES.values() if profile.upload_column}


# ---------------------------------------------------------------- the networks

Network.LINKEDIN = register(
    NetworkProfile(
        name="linkedin",
        label="LinkedIn",
        # 3,000 UTF-16 units of commentary as sent (little-text escaped); the link is the card.
        length_rule=LengthRule(3000, Counting.UTF16, escaped=LITTLE_TEXT_RESERVED),
        upload_column="text_linkedin",
        oauth=OAuthSpec(
            authorize_url="https://www.linkedin.com/oauth/v2/authorization",
            token_url="https://www.linkedin.com/oauth/v2/accessToken",
            scopes=("openid", "profile", "w_member_social"),
            pkce=False,  # LinkedIn's member 3-legged flow authenticates with the client secret
            token_auth="body",
        ),
        # "Rate limits specify the maximum number of API calls that can be made in a 24 hour
        # period. These limits reset at midnight UTC every day." A 429 carries no Retry-After,
        # and "in rare cases" only protects LinkedIn's infrastructure (learn.microsoft.com/
        # linkedin/shared/api-guide/concepts/rate-limits). POST /rest/posts takes no idempotency
        # key, and reading a member's posts back needs r_member_social, a permission LinkedIn
        # grants only to approved partners: an unanswered post cannot be checked.
        limits_reset_at_midnight_utc=True,
    )
)
Network.X = register(
    NetworkProfile(
        name="x",
        label="X",
        # twitter-text weighted length; the post is the text, a space, the link (23): 280 in all.
        length_rule=LengthRule(280, Counting.WEIGHTED, UrlCounting.ANY, separator=" "),
        upload_column="text_x",
        oauth=OAuthSpec(
            authorize_url="https://x.com/i/oauth2/authorize",
            token_url="https://api.x.com/2/oauth2/token",
            scopes=("tweet.read", "tweet.write", "users.read", "offline.access"),
            pkce=True,
            token_auth="basic",  # confidential client
        ),
        # POST /2/tweets takes no idempotency key. Reading the timeline back (GET
        # /2/users/:id/tweets, 900 per 15 minutes per user: docs.x.com/x-api/fundamentals/
        # rate-limits) finds a post only by its text; not finding it (the employee deleted it,
        # or it is not listed yet) does not prove it never went out, and sending it again would
        # then post it twice. The employee is asked to check instead.
    )
)
Network.MASTODON = register(
    NetworkProfile(
        name="mastodon",
        label="Mastodon",
        # The default limit; the employee's server says its own (services.length_rules).
        length_rule=LengthRule(
            MASTODON_DEFAULT_LIMIT, Counting.CODE_POINTS, UrlCounting.WITH_PROTOCOL, separator="\n\n"
        ),
        upload_column="text_mastodon",
        oauth=OAuthSpec(
            authorize_url="/oauth/authorize",
            token_url="/oauth/token",
            scopes=("write:statuses", "read:accounts"),
            pkce=True,
            token_auth="body",
        ),
        on_employee_server=True,
        # "Idempotency-Key: ... to prevent duplicate submissions of the same status ...
        # Idempotency keys are stored for up to 1 hour" (docs.joinmastodon.org/methods/statuses/).
        idempotency_window=timedelta(hours=1),
    )
)
Network.BLUESKY = register(
    NetworkProfile(
        name="bluesky",
        label="Bluesky",
        # 300 graphemes; the post is the text, a blank line, the tracked link as written.
        length_rule=LengthRule(BLUESKY_LIMIT, Counting.GRAPHEMES, separator="\n\n", url_cost=BLUESKY_LINK_RESERVE),
        upload_column="text_bluesky",
        # AT Protocol OAuth first (chorus.adapters.networks.bluesky_oauth), an app password as the
        # fallback (chorus.adapters.networks.bluesky). The account's own server (PDS) and its
        # authorization server are found from the handle.
        app_password=True,
        atproto_oauth=True,
        # The record key is a TID derived from the attempt (chorus.adapters.networks.bluesky): a
        # repeat of a stalled attempt either creates the post or meets the one the first attempt
        # created, which getRecord confirms. A PDS has been reported to take a caller's post key
        # only near its own clock, so a stalled attempt is asked again only within the hour (a
        # refused stale key is checked, then fails: never a second post).
        idempotency_window=timedelta(hours=1),
    )
)
Network.SANDBOX = register(
    NetworkProfile(
        name="sandbox",
        label="Sandbox",
        length_rule=LengthRule(3000, Counting.CODE_POINTS),
        # The feed is keyed by the idempotency key and keeps it (chorus.store.sandbox_feed).
        idempotency_window=timedelta.max,
    )
)
