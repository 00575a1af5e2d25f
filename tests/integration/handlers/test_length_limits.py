"""Length limits on the activity page and at approval, as each network counts: on moto, with the
employee's Mastodon server answering `/api/v2/instance` through `responses`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import responses
from bench.aws_calls import count_aws_calls

from chorus import bootstrap
from chorus.domain.connection import Connection, ConnectionStatus
from chorus.domain.content import Network
from chorus.store.connections import ConnectionStore
from tests.conftest import TABLE
from tests.integration.handlers.test_employee_pages import ADA, approval_item, approve, get, token
from tests.support.fake_dns import FakeDns
from tests.support.seed import employee_id

SERVER = "https://fosstodon.example"
CONTENT = {"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "We opened in Lyon"}


@pytest.fixture
def world(aws):
    from tests.support.seed import seed

    seed(aws, [CONTENT], [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris", "locale": "en"}])
    ConnectionStore(aws["dynamodb"], TABLE).save(
        Connection(
            employee_id=employee_id(ADA),
            network=Network.MASTODON,
            status=ConnectionStatus.CONNECTED,
            member_id="109",
            instance_url=SERVER,
            token_version=1,
            connected_at=datetime.now(UTC),
        ),
        b"sealed",
    )
    return aws


@pytest.fixture
def server(monkeypatch):
    # The employee's server is reached through the SSRF guard: its name must resolve publicly.
    FakeDns({"fosstodon.example": [["93.184.215.14"]]}).install(monkeypatch)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            "GET",
            f"{SERVER}/api/v2/instance",
            json={"configuration": {"statuses": {"max_characters": 1000, "characters_reserved_per_url": 23}}},
        )
        yield mock


def shown_limit(body: str, network: str) -> int:
    match = re.search(rf'data-limit-for="text_{network}">(\d+)<', body)
    assert match is not None
    return int(match.group(1))


def test_the_page_shows_the_limit_of_the_employees_own_server(world, server):
    body = get(f"/a/{token()}")["body"]
    assert shown_limit(body, "mastodon") == 1000 - 2 - 23
    assert shown_limit(body, "x") == 256 and shown_limit(body, "linkedin") == 3000
    # asked once, then cached in the table
    get(f"/a/{token()}")
    assert len(server.calls) == 1
    cached = world["dynamodb"].get_item(
        TableName=TABLE, Key={"PK": {"S": "INSTANCE#mastodon#fosstodon.example"}, "SK": {"S": "META"}}
    )["Item"]
    assert cached["max_characters"]["N"] == "1000" and "expires_at" in cached


def test_approval_applies_the_servers_limit(world, server):
    refused = approve(token(), network="mastodon", text_mastodon="m" * 976)
    assert refused["statusCode"] == 422
    assert "is 976 characters as mastodon counts them; at most 975" in refused["body"]
    assert approval_item(world, "mastodon") is None
    assert approve(token(), network="mastodon", text_mastodon="m" * 975)["statusCode"] == 303
    assert approval_item(world, "mastodon")["text"]["S"] == "m" * 975


def test_a_server_that_does_not_answer_gets_mastodons_default(world, monkeypatch):
    FakeDns({"fosstodon.example": [["93.184.215.14"]]}).install(monkeypatch)
    with responses.RequestsMock() as mock:
        mock.add("GET", f"{SERVER}/api/v2/instance", status=503)
        body = get(f"/a/{token()}")["body"]
    assert shown_limit(body, "mastodon") == 475


def test_the_approval_reads_the_content_and_the_server_in_one_call(world, server):
    # Given the employee's server limit already cached by the page
    get(f"/a/{token()}")
    # When they approve for Mastodon and the sandbox (on fresh clients, which the counter watches)
    bootstrap.web_app.cache_clear()
    with count_aws_calls() as calls:
        answer = approve(token(), network=["mastodon", "sandbox"], text_mastodon="m" * 975, text_sandbox="s")
    # Then the content and the Mastodon connection come in one read, the cached limit in another
    assert answer["statusCode"] == 303, answer["body"]
    table_calls = {name: n for name, n in calls.by_operation().items() if name.startswith("dynamodb.")}
    assert table_calls == {
        "dynamodb.BatchGetItem": 1,
        "dynamodb.GetItem": 1,
        "dynamodb.TransactWriteItems": 1,
    }
