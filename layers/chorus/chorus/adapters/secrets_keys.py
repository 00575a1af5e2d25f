"""The magic-link key ring, read from Secrets Manager and cached for the container's life (5 min)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.domain.magic_links import KeyRing
from chorus.errors import ChorusError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CACHE_SECONDS = 300


class SecretError(ChorusError):
    code = "secret_error"


def parse_key_ring(secret: str) -> KeyRing:
    """Secret JSON: {"current": "k2", "k1": "<random text>", "k2": "<random text>"}.

    Flat, so CloudFormation's GenerateSecretString can create the first key; rotate by adding a
    key and pointing "current" at it (links signed with older keys verify until they expire).
    """
    try:
        document = json.loads(secret)
        current = document.pop("current")
        keys = {kid: str(value).encode() for kid, value in document.items()}
        return KeyRing(current=current, keys=keys)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SecretError("the magic-link secret is malformed") from exc


def read_secret(client: SecretsManagerClient, secret_id: str) -> str:
    try:
        return client.get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as exc:
        raise SecretError(f"could not read the secret {secret_id}") from exc


class SecretsKeyRing:
    def __init__(self, client: SecretsManagerClient, secret_id: str) -> None:
        self._client = client
        self._secret_id = secret_id
        self._cached: KeyRing | None = None
        self._fetched_at = 0.0

    def key_ring(self) -> KeyRing:
        if self._cached is None or time.monotonic() - self._fetched_at > CACHE_SECONDS:
            try:
                secret = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
            except ClientError as exc:
                raise SecretError("could not read the magic-link keys") from exc
            self._cached = parse_key_ring(secret)
            self._fetched_at = time.monotonic()
        return self._cached
