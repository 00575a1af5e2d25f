"""A new network is its profile in the registry and its adapter, nothing else.

Here "Fakebook" exists for one test: its profile is registered, its adapter added to the adapter
registry, and the deployment names it in NETWORKS. No other code knows it, yet the upload reads
its column, the page offers it with its label and its length rule, approving checks its rule,
and the publisher posts the approved text through its adapter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

import admin_api_handler
import web_handler
from chorus import bootstrap
from chorus.adapters.networks import registry
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.domain import networks
from chorus.domain.connection import Credentials
from chorus.domain.lengths import Counting, LengthRule
from chorus.domain.magic_links import activity_scope, form_subject, sign_form, sign_link
from chorus.domain.networks import Network, NetworkProfile
from chorus.domain.publishing import PostRequest, Published
from chorus.services.publish import Outcome, PublishTarget
from tests.conftest import MAGIC_LINK_SECRET, TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"
# Fakebook counts code points, 40 at most, and the link goes after one space (24 of the 40).
FAKEBOOK = NetworkProfile(
    name="fakebook",
    label="Fakebook",
    length_rule=LengthRule(40, Counting.CODE_POINTS, separator=" ", url_cost=23),
    upload_column="text_fakebook",
)


class FakebookPublisher:
    """The network's adapter: here it keeps what it was asked to post."""

    def __init__(self) -> None:
        self.posted: list[PostRequest] = []

    def publish(self, post: PostRequest, credentials: Credentials | None) -> Published:
        self.posted.append(post)
        return Published(external_id=f"fb-{len(self.posted)}", url=None)


@pytest.fixture
def fakebook(monkeypatch: pytest.MonkeyPatch, function_env: dict[str, str]) -> Iterator[FakebookPublisher]:
    # Only the registry and the adapter registry change (both restored after the test)...
    monkeypatch.setattr(networks, "_PROFILES", dict(networks._PROFILES))
    monkeypatch.setattr(networks, "_NETWORKS", dict(networks._NETWORKS))
    network = networks.register(FAKEBOOK)
    adapter = FakebookPublisher()
    monkeypatch.setitem(registry.ADAPTERS, network, registry.NetworkAdapter(lambda options: adapter))
    # ...and the deployment offers it (the template's Networks parameter would name it).
    monkeypatch.setenv("NETWORKS", "linkedin,x,mastodon,fakebook")
    yield adapter


def upload(rows: str) -> dict:
    event = http_event("POST", "/admin/content", body=rows, headers={"content-type": "text/csv"})
    response = admin_api_handler.lambda_handler(event, FakeLambdaContext())
    return json.loads(response["body"])


def page(now: datetime) -> tuple[str, str]:
    link = sign_link(RING, employee_id(ADA), activity_scope(content_id("fb-1")), now + timedelta(days=2))
    event = http_event("GET", f"/a/{link}", route="/a/{token}", claims=None)
    response = web_handler.lambda_handler(event, FakeLambdaContext())
    assert response["statusCode"] == 200
    return link, response["body"]


def approve(link: str, now: datetime, text: str) -> dict:
    subject = form_subject(employee_id(ADA), activity_scope(content_id("fb-1")), "approve")
    fields = {
        "form": sign_form(RING, subject, now - timedelta(minutes=1)),
        "action": "approve",
        "content_version": "1",
        "timezone": "Europe/Paris",
        "when": "now",
        "network": "fakebook",
        "text_fakebook": text,
    }
    event = http_event(
        "POST",
        f"/a/{link}",
        route="/a/{token}",
        claims=None,
        body=urlencode(fields),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def test_a_network_registered_with_its_adapter_is_uploaded_offered_approved_and_published(aws, fakebook):
    now = datetime.now(UTC)
    seed(aws, [], [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris"}])

    # The upload reads the network's column (and refuses a text its rule does not fit)
    report = upload(
        "id,title,url,text,text_fakebook\n"
        "fb-1,Launch,https://example.com/launch,We launched,Launched!\n"
        f"fb-2,Too long,https://example.com/long,Long,{'x' * 17}\n"
    )
    assert report["counts"]["accepted"] == 1 and not report["warnings"]
    assert report["errors"][0]["field"] == "text_fakebook"
    assert report["errors"][0]["reason"] == "is 17 characters as fakebook counts them; at most 16"

    # The page offers it, with its label, its own text and its rule's room
    link, body = page(now)
    assert "Fakebook" in body and "Launched!" in body
    assert 'name="text_fakebook" rows="5" data-limit="16"' in body

    # Approving checks its rule, as the network counts
    refused = approve(link, now, "y" * 17)
    assert refused["statusCode"] == 422 and "as fakebook counts them; at most 16" in refused["body"]
    assert approve(link, now, "Proud of it")["statusCode"] == 303
    stored = aws["dynamodb"].get_item(
        TableName=TABLE,
        Key={"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('fb-1')}#fakebook"}},
    )["Item"]
    assert stored["network"]["S"] == "fakebook" and stored["text"]["S"] == "Proud of it"

    # And the publisher posts exactly that through its adapter
    target = PublishTarget(
        employee_id=employee_id(ADA), content_id=content_id("fb-1"), network=Network("fakebook"), revision=1
    )
    assert bootstrap.publish_service().publish(target) is Outcome.PUBLISHED
    (post,) = fakebook.posted
    assert (post.text, post.title) == ("Proud of it", "Launch")
    assert post.link.startswith("https://chorus.example.com/r/")


def test_the_fake_network_is_gone_after_its_test():
    with pytest.raises(ValueError, match="not a network"):
        Network("fakebook")
