"""A function's first event makes the AWS clients it uses, and no other (each costs its service
model's load: bench/cold_start.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

import web_handler
from chorus import bootstrap
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain.magic_links import activity_scope, sign_link
from tests.conftest import MAGIC_LINK_SECRET
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

ADA = "ada@example.com"


@pytest.fixture
def made_clients(aws) -> Iterator[list[str]]:
    """The services of the clients made from boto3's default session (the one bootstrap uses)."""
    made: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        made.append(event_name.rpartition(".")[2])

    events = boto3._get_default_session().events
    events.register("creating-client-class", record, unique_id="cold-start-wiring")
    try:
        yield made
    finally:
        events.unregister("creating-client-class", unique_id="cold-start-wiring")


def test_the_employee_page_makes_only_the_clients_it_calls(aws, made_clients) -> None:
    # Given an employee and a content item, and the web function's link
    ends = str((datetime.now(UTC) + timedelta(days=10)).date())
    content = {"id": "cold", "title": "Cold", "url": "https://example.com/cold", "text": "Hi", "ends_at": ends}
    seed(aws, [content], [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris", "locale": "en"}])
    ring = parse_key_ring(MAGIC_LINK_SECRET)
    link = sign_link(ring, employee_id(ADA), activity_scope(content_id("cold")), datetime.now(UTC) + timedelta(days=2))
    made_clients.clear()  # the seeding's own clients

    # When the function is wired (init), then serves its first page
    bootstrap.web_app()
    at_init = sorted(made_clients)
    event = http_event("GET", f"/a/{link}", route="/a/{token}", claims=None)
    answer = web_handler.lambda_handler(event, FakeLambdaContext())

    # Then init made Secrets Manager's client only (Powertools' provider registers on it; the
    # click secret is read on the first click, not at init), the page added the table, and
    # nothing else was made: no Scheduler (approving schedules), no KMS (connecting a network)
    assert answer["statusCode"] == 200
    assert at_init == ["secrets-manager"]
    assert sorted(made_clients) == ["dynamodb", "secrets-manager"]
