"""OAuth client ids and secrets per network, from Secrets Manager (cached 5 minutes).

Secret JSON: {"linkedin": {"client_id": "...", "client_secret": "..."}, "x": {...}}. A network
without an entry is simply not offered for connection.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.adapters.secrets_keys import SecretError
from chorus.domain.connection import ClientCredentials
from chorus.domain.content import Network

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CACHE_SECONDS = 300


class SecretsOAuthClients:
    def __init__(self, client: SecretsManagerClient, secret_id: str) -> None:
        self._client = client
        self._secret_id = secret_id
        self._cached: dict[str, Any] | None = None
        self._fetched_at = 0.0

    def client(self, network: Network) -> ClientCredentials | None:
        entry = self._document().get(network.value)
        if not isinstance(entry, dict) or not entry.get("client_id") or not entry.get("client_secret"):
            return None
        return ClientCredentials(client_id=str(entry["client_id"]), client_secret=str(entry["client_secret"]))

    def _document(self) -> dict[str, Any]:
        if self._cached is None or time.monotonic() - self._fetched_at > CACHE_SECONDS:
            try:
                secret = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
                document = json.loads(secret)
            except ClientError as exc:
                raise SecretError("could not read the OAuth client secrets") from exc
            except json.JSONDecodeError as exc:
                raise SecretError("the OAuth client secret is not JSON") from exc
            self._cached = document if isinstance(document, dict) else {}
            self._fetched_at = time.monotonic()
        return self._cached
