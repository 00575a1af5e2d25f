"""Secrets read through Powertools' ``SecretsProvider`` (one per function, so one cache): the
magic-link key ring (cached 5 minutes, so a rotation is picked up) and plain secrets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from chorus.domain.magic_links import KeyRing
from chorus.errors import ChorusError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

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


def read_secret(secrets: SecretsProvider, secret_id: str, max_age: int = CACHE_SECONDS) -> str:
    """The secret's text (SecretString), from the provider's cache when younger than ``max_age``."""
    try:
        value = secrets.get(secret_id, max_age=max_age)
    except GetParameterError as exc:
        raise SecretError(f"could not read the secret {secret_id}") from exc
    if not isinstance(value, str):
        raise SecretError(f"the secret {secret_id} holds no text")
    return value


class SecretsKeyRing:
    def __init__(self, secrets: SecretsProvider, secret_id: str) -> None:
        self._secrets = secrets
        self._secret_id = secret_id

    def key_ring(self) -> KeyRing:
        try:
            secret = self._secrets.get(self._secret_id, max_age=CACHE_SECONDS)
        except GetParameterError as exc:
            raise SecretError("could not read the magic-link keys") from exc
        return parse_key_ring(secret if isinstance(secret, str) else "")
