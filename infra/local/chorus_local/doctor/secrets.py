"""Secrets the stack creates and the operator fills: magic-link keys, click key, OAuth apps.

Values are read to be judged and never shown: a finding names networks and keys, not contents.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.adapters.secrets_keys import SecretError, parse_key_ring
from chorus_local.doctor.findings import Finding, failed, passed
from chorus_local.doctor.stack import DeployedStack

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

# Networks whose OAuth app is not the operator's to register: Mastodon registers Chorus on each
# server when the first employee connects it; the sandbox has no OAuth at all.
SELF_REGISTERING = frozenset({"mastodon", "sandbox"})


def enabled_networks(stack: DeployedStack) -> list[str]:
    names = [name.strip().lower() for name in stack.parameter("Networks").split(",") if name.strip()]
    return list(dict.fromkeys(names))


def networks_needing_apps(stack: DeployedStack) -> list[str]:
    return [name for name in enabled_networks(stack) if name not in SELF_REGISTERING]


def missing_apps(document: Any, networks: list[str]) -> list[str]:
    """Networks the functions would not offer: no entry with a client_id and a client_secret
    (the test chorus.adapters.oauth_clients applies)."""
    entries = document if isinstance(document, dict) else {}
    return [
        network
        for network in networks
        if not (
            isinstance(entry := entries.get(network), dict) and entry.get("client_id") and entry.get("client_secret")
        )
    ]


class SecretChecks:
    def __init__(self, stack: DeployedStack, client: SecretsManagerClient) -> None:
        self._stack = stack
        self._client = client
        self._region = stack.region

    def _value(self, secret_id: str) -> str | None:
        """The current value, or None when the secret or its current version does not exist."""
        try:
            response = self._client.get_secret_value(SecretId=secret_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        return response.get("SecretString")

    def _missing(self, check: str, logical_id: str) -> Finding:
        return failed(
            check,
            f"the stack has no {logical_id} secret, or it has no current value",
            f"redeploy the stack (sam deploy): CloudFormation creates {logical_id}",
        )

    def magic_link(self) -> Finding:
        check = "secrets.magic-link"
        secret_id = self._stack.physical_id("MagicLinkSecret")
        value = self._value(secret_id) if secret_id else None
        if value is None:
            return self._missing(check, "MagicLinkSecret")
        try:
            ring = parse_key_ring(value)
        except SecretError as exc:
            # The cause names a key id or a JSON position, never a key.
            reason = f": {exc.__cause__}" if exc.__cause__ is not None else ""
            return failed(
                check,
                f"the magic-link secret is not a key ring{reason}",
                f"aws secretsmanager put-secret-value --region {self._region} --secret-id {secret_id} --secret-string "
                '\'{"current": "k1", "k1": "<64 random letters and digits>"}\' (every emailed link stops working)',
            )
        return passed(check, f"key ring of {len(ring.keys)} key(s), current {ring.current}")

    def click(self) -> Finding:
        check = "secrets.click"
        secret_id = self._stack.physical_id("ClickSecret")
        value = self._value(secret_id) if secret_id else None
        if value is None:
            return self._missing(check, "ClickSecret")
        if len(value) < 32:
            return failed(
                check,
                f"the click secret is {len(value)} characters: too short to pseudonymise visitors",
                f"aws secretsmanager put-secret-value --region {self._region} --secret-id {secret_id} "
                "--secret-string <64 random letters and digits>",
            )
        return passed(check, "set")

    def oauth_clients(self) -> Finding:
        check = "networks.oauth-clients"
        networks = networks_needing_apps(self._stack)
        secret_id = self._stack.outputs.get("OAuthClientsSecretArn") or self._stack.physical_id("OAuthClientsSecret")
        if not networks:
            return passed(check, "no enabled network needs an OAuth app of yours")
        value = self._value(secret_id) if secret_id else None
        if value is None:
            return self._missing(check, "OAuthClientsSecret")
        try:
            document = json.loads(value)
        except ValueError:
            document = None
        base = self._stack.parameter("PublicBaseUrl") or self._stack.outputs.get("ApiUrl", "<ApiUrl output>")
        missing = missing_apps(document, networks)
        if missing:
            shape = ", ".join(f'"{name}": {{"client_id": "...", "client_secret": "..."}}' for name in missing)
            not_object = "" if isinstance(document, dict) else " (the secret is not a JSON object)"
            # put-secret-value replaces the whole document.
            keep = " plus the entries already in it" if isinstance(document, dict) and document else ""
            return failed(
                check,
                f"no OAuth app for {', '.join(missing)}: employees cannot connect to "
                f"{'it' if len(missing) == 1 else 'them'}{not_object}",
                f"create the app (README, step 5; redirect URI {base}/oauth/callback/<network>), then "
                f"aws secretsmanager put-secret-value --region {self._region} --secret-id {secret_id} "
                f"--secret-string '{{{shape}}}'{keep}",
            )
        return passed(
            check,
            f"apps for {', '.join(networks)}; redirect URIs {base}/oauth/callback/<network>",
        )
