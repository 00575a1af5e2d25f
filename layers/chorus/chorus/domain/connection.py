"""An employee's connection to a social network: who they are there and until when we may post."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, SecretStr

from chorus.domain.content import Network
from chorus.errors import ChorusError

# LinkedIn tokens live 60 days without refresh: remind the employee this long before.
REMINDER_BEFORE_EXPIRY = timedelta(days=7)


class ConnectFailed(ChorusError):
    http_status = 400
    code = "connect_failed"


class NotOnRoster(ConnectFailed):
    """The employee was deactivated or erased while connecting: no token is stored for them."""

    http_status = 403
    code = "not_on_roster"


@dataclass(frozen=True)
class ClientCredentials:
    """The company's OAuth app on a network (or Chorus's app on a Mastodon server)."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Credentials:
    """What a publisher needs: the access token and who the employee is on the network."""

    access_token: str
    member_id: str
    instance_url: str | None
    # AT Protocol OAuth (Bluesky): the private JWK the tokens are bound to (DPoP); None for a
    # bearer token.
    dpop_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AppPasswordSession:
    """A session opened with an app password (Bluesky): the account, its server, the tokens."""

    member_id: str
    server: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime | None


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    EXPIRED = "EXPIRED"


class Tokens(BaseModel):
    """Secrets: never logged (SecretStr), only ever stored KMS-encrypted.

    An AT Protocol OAuth session (Bluesky) also keeps, sealed with its tokens, the DPoP private
    key they are bound to, the authorization server that issued them and the client_id they were
    issued to (a refresh must name the same one)."""

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None
    dpop_key: SecretStr | None = None
    issuer: str | None = None
    client_id: str | None = None

    def plaintext(self) -> bytes:
        """The bytes to encrypt (the only place secrets are revealed)."""
        fields: dict[str, str | None] = {
            "access_token": self.access_token.get_secret_value(),
            "refresh_token": self.refresh_token.get_secret_value() if self.refresh_token else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }
        if self.dpop_key is not None:
            fields |= {"dpop_key": self.dpop_key.get_secret_value(), "issuer": self.issuer, "client_id": self.client_id}
        return json.dumps(fields).encode()

    @classmethod
    def from_plaintext(cls, data: bytes) -> Tokens:
        return cls.model_validate_json(data)

    def expired(self, now: datetime, margin: timedelta = timedelta(minutes=2)) -> bool:
        return self.expires_at is not None and self.expires_at <= now + margin


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True)

    employee_id: str
    network: Network
    status: ConnectionStatus
    member_id: str
    instance_url: str | None = None
    expires_at: datetime | None = None  # when the employee must reconnect (no refresh possible after)
    token_version: int
    connected_at: datetime
    reminder_sent_at: datetime | None = None
