"""OAuth client ids and secrets per network, from Secrets Manager (through the function's
``SecretsProvider``, cached 5 minutes).

Secret JSON: {"linkedin": {"client_id": "...", "client_secret": "..."}, "x": {...}}. A network
without an entry is simply not offered for connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from chorus.adapters.secrets_keys import CACHE_SECONDS, SecretError
from chorus.domain.connection import ClientCredentials
from chorus.domain.content import Network

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider


class SecretsOAuthClients:
    def __init__(self, secrets: SecretsProvider, secret_id: str) -> None:
        self._secrets = secrets
        self._secret_id = secret_id

    def client(self, network: Network) -> ClientCredentials | None:
        entry = self._document().get(network.value)
        if not isinstance(entry, dict) or not entry.get("client_id") or not entry.get("client_secret"):
            return None
        return ClientCredentials(client_id=str(entry["client_id"]), client_secret=str(entry["client_secret"]))

    def _document(self) -> dict[str, Any]:
        try:
            document = self._secrets.get(self._secret_id, max_age=CACHE_SECONDS, transform="json")
        except GetParameterError as exc:
            raise SecretError("could not read the OAuth client secrets") from exc
        except TransformParameterError as exc:
            raise SecretError("the OAuth client secret is not JSON") from exc
        return document if isinstance(document, dict) else {}
