"""Secrets through Powertools' SecretsProvider (on moto): one read per cache period, typed errors."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider

from chorus.adapters.oauth_clients import SecretsOAuthClients
from chorus.adapters.secrets_keys import SecretError, SecretsKeyRing, read_secret
from chorus.domain.content import Network
from tests.conftest import ENVIRONMENT, SECRET


@pytest.fixture
def calls(aws):
    """The GetSecretValue requests the code makes."""
    made: list[str] = []
    aws["secrets"].meta.events.register(
        "before-parameter-build.secrets-manager.GetSecretValue", lambda params, **_: made.append(params["SecretId"])
    )
    return made


@pytest.fixture
def secrets(aws, calls) -> SecretsProvider:
    return SecretsProvider(boto3_client=aws["secrets"])


def test_the_key_ring_is_read_once_per_cache_period(secrets, calls):
    ring = SecretsKeyRing(secrets, SECRET)

    first, second = ring.key_ring(), ring.key_ring()

    assert first == second and first.current == "k1"
    assert calls == [SECRET]


def test_secrets_of_one_function_share_one_provider_and_its_cache(secrets, calls):
    ring = SecretsKeyRing(secrets, SECRET)
    oauth = SecretsOAuthClients(secrets, ENVIRONMENT["OAUTH_CLIENTS_SECRET_ID"])

    for _ in range(3):
        ring.key_ring()
        assert oauth.client(Network.X) is not None
        assert oauth.client(Network.MASTODON) is None  # no entry: not offered

    assert sorted(calls) == sorted([SECRET, ENVIRONMENT["OAUTH_CLIENTS_SECRET_ID"]])


def test_a_missing_secret_is_a_secret_error(secrets):
    with pytest.raises(SecretError, match="could not read the magic-link keys"):
        SecretsKeyRing(secrets, "no-such-secret").key_ring()
    with pytest.raises(SecretError, match="could not read the OAuth client secrets"):
        SecretsOAuthClients(secrets, "no-such-secret").client(Network.X)
    with pytest.raises(SecretError, match="could not read the secret no-such-secret"):
        read_secret(secrets, "no-such-secret")


def test_malformed_secrets_are_secret_errors(aws, secrets):
    aws["secrets"].create_secret(Name="not-json", SecretString="{not json")

    with pytest.raises(SecretError, match="malformed"):
        SecretsKeyRing(secrets, "not-json").key_ring()
    with pytest.raises(SecretError, match="not JSON"):
        SecretsOAuthClients(secrets, "not-json").client(Network.X)


def test_an_oauth_document_that_is_not_an_object_offers_no_network(aws, secrets):
    aws["secrets"].create_secret(Name="a-list", SecretString=json.dumps(["x"]))

    assert SecretsOAuthClients(secrets, "a-list").client(Network.X) is None
