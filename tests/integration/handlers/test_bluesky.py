"""Bluesky end to end on moto, against a fake PDS, PLC directory and handle host (no network):
connecting with an app password on the connect page (handle -> DID -> PDS, the session sealed
with KMS, a main password never sent), then publishing the approved post with the real adapter
through the SSRF guard: once, even when the invocation is killed after the PDS wrote the record;
a refreshed session (rotating refresh token) when the access token expired; NEEDS_RECONNECT when
the session is revoked."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses

import web_handler
from chorus import bootstrap
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.config import PublisherSettings, SweeperSettings
from chorus.domain.content import Network
from chorus.domain.magic_links import activity_scope, connect_scope, form_subject, sign_form, sign_link
from chorus.edge.schedules import ScheduledPosts
from chorus.services.publish import MIN_RETRY_DELAY, PUBLISHING_LEASE, RESUME_SPREAD, Outcome, PublishTarget
from tests.conftest import ENVIRONMENT, MAGIC_LINK_SECRET, TABLE
from tests.support.fake_dns import FakeDns
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

RING = parse_key_ring(MAGIC_LINK_SECRET)
ADA = "ada@example.com"
HANDLE = "ada.example.org"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
PDS = "https://pds.example.net"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
ENV = {**ENVIRONMENT, "NETWORKS": "linkedin,x,mastodon,bluesky"}


class Killed(BaseException):
    """Lambda stopped the invocation after the PDS wrote the record, before its answer arrived."""


def jwt(scope: str, exp: datetime, jti: str) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return ".".join(
        (
            part({"typ": "at+jwt", "alg": "ES256K"}),
            part({"scope": scope, "sub": DID, "exp": int(exp.timestamp()), "jti": jti}),
            "c2ln",
        )
    )


class FakePds:
    """The employee's PDS (and the directory that names it): keeps the records it wrote, the
    sessions it issued, and answers as the reference PDS does."""

    def __init__(self, scope: str = "com.atproto.appPass") -> None:
        self.scope = scope
        self.records: dict[str, dict[str, Any]] = {}
        self.sessions = 0
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.kill_after_write = False
        self.deleted_sessions = 0

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add("GET", f"https://{HANDLE}/.well-known/atproto-did", body=DID, content_type="text/plain")
        document = {
            "id": DID,
            "alsoKnownAs": [f"at://{HANDLE}"],
            "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": PDS}],
        }
        mock.add("GET", f"https://plc.directory/{DID}", json=document)
        xrpc = f"{PDS}/xrpc/"
        mock.add_callback("POST", xrpc + "com.atproto.server.createSession", self.create_session)
        mock.add_callback("POST", xrpc + "com.atproto.server.refreshSession", self.refresh_session)
        mock.add_callback("POST", xrpc + "com.atproto.server.deleteSession", self.delete_session)
        mock.add_callback("POST", xrpc + "com.atproto.repo.createRecord", self.create_record)
        mock.add_callback("GET", re.compile(re.escape(xrpc + "com.atproto.repo.getRecord") + r"\?.*"), self.get_record)

    def issue(self) -> tuple[int, dict[str, str], str]:
        self.sessions += 1
        now = datetime.now(UTC)
        access = jwt(self.scope, now + timedelta(hours=2), f"a{self.sessions}")
        refresh = jwt("com.atproto.refresh", now + timedelta(days=60), f"r{self.sessions}")
        self.valid_access.add(access)
        self.valid_refresh.add(refresh)
        body = {"did": DID, "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh, "active": True}
        return 200, {}, json.dumps(body)

    def create_session(self, request: Any) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body)
        if sent != {"identifier": DID, "password": APP_PASSWORD}:
            return 401, {}, json.dumps({"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
        return self.issue()

    def refresh_session(self, request: Any) -> tuple[int, dict[str, str], str]:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        if token not in self.valid_refresh:
            return 400, {}, json.dumps({"error": "ExpiredToken", "message": "Token has been revoked"})
        self.valid_refresh.discard(token)  # refresh tokens rotate: this one is spent
        return self.issue()

    def delete_session(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.deleted_sessions += 1
        self.valid_refresh.discard(request.headers["Authorization"].removeprefix("Bearer "))
        return 200, {}, ""

    def authorised(self, request: Any) -> bool:
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in self.valid_access

    def create_record(self, request: Any) -> tuple[int, dict[str, str], str]:
        if not self.authorised(request):
            return 400, {}, json.dumps({"error": "ExpiredToken", "message": "Token has expired"})
        sent = json.loads(request.body)
        rkey = sent["rkey"]
        if rkey in self.records:
            return 500, {}, json.dumps({"error": "InternalServerError", "message": "Internal Server Error"})
        self.records[rkey] = sent["record"]
        if self.kill_after_write:
            self.kill_after_write = False
            raise Killed
        uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
        return 200, {}, json.dumps({"uri": uri, "cid": "bafyrei", "validationStatus": "valid"})

    def get_record(self, request: Any) -> tuple[int, dict[str, str], str]:
        rkey = parse_qs(urlsplit(request.url).query)["rkey"][0]
        if rkey not in self.records:
            return 400, {}, json.dumps({"error": "RecordNotFound", "message": "Could not locate record"})
        uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
        return 200, {}, json.dumps({"uri": uri, "cid": "bafyrei", "value": self.records[rkey]})


@pytest.fixture
def pds(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    FakeDns(
        {HANDLE: [["93.184.215.14"]], "plc.directory": [["104.21.0.1"]], "pds.example.net": [["93.184.215.15"]]}
    ).install(monkeypatch)
    fake = FakePds()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("https://")  # moto is in-process; anything else unexpected fails loudly
        fake.install(mock)
        fake.mock = mock
        yield fake


@pytest.fixture
def world(aws: dict[str, Any], pds: FakePds) -> dict[str, Any]:
    seed(
        aws,
        [{"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open"}],
        [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris", "locale": "fr"}],
    )
    return aws


def connect_url() -> tuple[str, str]:
    now = datetime.now(UTC)
    token = sign_link(
        RING, employee_id(ADA), connect_scope(activity_scope(content_id("lyon"))), now + timedelta(days=2)
    )
    return "/connect/bluesky", token


def call(method: str, path: str, *, route: str, query: dict[str, str] | None = None, body: str | None = None) -> Any:
    headers = {"host": "chorus.example.com"}
    if body is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
    event = http_event(method, path, route=route, claims=None, query=query, body=body, headers=headers)
    return web_handler.lambda_handler(event, FakeLambdaContext())


def connect(handle: str = HANDLE, password: str = APP_PASSWORD) -> Any:
    path, token = connect_url()
    subject = form_subject(employee_id(ADA), connect_scope(activity_scope(content_id("lyon"))), "connect:bluesky")
    form = sign_form(RING, subject, datetime.now(UTC) - timedelta(minutes=1))
    body = urlencode({"form": form, "action": "connect", "handle": handle, "app_password": password})
    return call("POST", path, route="/connect/{network}", query={"t": token}, body=body)


def connection_item(aws: dict[str, Any]) -> dict[str, Any] | None:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "CONN#bluesky"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key).get("Item")


def sent_to_pds(pds: FakePds, name: str) -> list[Any]:
    return [call.request for call in pds.mock.calls if call.request.url.startswith(f"{PDS}/xrpc/{name}")]


class TestConnecting:
    def test_the_page_asks_for_an_app_password_and_explains_how_to_make_one(self, world: Any) -> None:
        path, token = connect_url()
        page = call("GET", path, route="/connect/{network}", query={"t": token})
        assert page["statusCode"] == 200
        body = page["body"]
        assert 'name="handle"' in body and 'type="password" id="app_password"' in body
        assert "App passwords" in body and "Never enter your main password" in body

    def test_connecting_keeps_the_session_sealed_never_the_password(self, world: Any, pds: FakePds) -> None:
        response = connect("@Ada.Example.org ")
        assert response["statusCode"] == 303
        [login] = sent_to_pds(pds, "com.atproto.server.createSession")
        assert json.loads(login.body) == {"identifier": DID, "password": APP_PASSWORD}
        item = connection_item(world)
        assert item is not None
        assert item["member_id"]["S"] == DID and item["instance_url"]["S"] == PDS
        sealed = repr(item)
        assert APP_PASSWORD not in sealed and "accessJwt" not in sealed
        assert not any(token in sealed for token in pds.valid_access | pds.valid_refresh)

    @pytest.mark.parametrize("password", ["hunter2", "my main password", "abcd-efgh-ijkl"])
    def test_anything_but_an_app_password_is_never_sent(self, world: Any, pds: FakePds, password: str) -> None:
        response = connect(password=password)
        assert response["statusCode"] == 400
        assert "app password" in response["body"]
        assert not [c for c in pds.mock.calls if "bsky" in c.request.url or PDS in c.request.url]
        assert connection_item(world) is None

    def test_a_session_that_is_not_an_app_passwords_is_ended_and_refused(self, world: Any, pds: FakePds) -> None:
        pds.scope = "com.atproto.access"  # a main password shaped like an app password
        response = connect()
        assert response["statusCode"] == 400
        assert pds.deleted_sessions == 1 and not pds.valid_refresh
        assert connection_item(world) is None


def approve_bluesky(text: str) -> None:
    now = datetime.now(UTC)
    token = sign_link(RING, employee_id(ADA), activity_scope(content_id("lyon")), now + timedelta(days=2))
    subject = form_subject(employee_id(ADA), activity_scope(content_id("lyon")), "approve")
    form = sign_form(RING, subject, now - timedelta(minutes=1))
    body = urlencode(
        {
            "form": form,
            "action": "approve",
            "content_version": "1",
            "network": "bluesky",
            "text_bluesky": text,
            "when": "now",
            "timezone": "Europe/Paris",
        }
    )
    assert call("POST", f"/a/{token}", route="/a/{token}", body=body)["statusCode"] == 303


def publisher(aws: dict[str, Any], at: datetime | None = None) -> Any:
    service = bootstrap.build_publish_service(PublisherSettings.from_env(ENV), dynamodb_client=aws["dynamodb"])
    if at is not None:
        service._now = lambda: at
    return service


TARGET = PublishTarget(employee_id=employee_id(ADA), content_id=content_id("lyon"), network=Network.BLUESKY, revision=1)


def approval_item(aws: dict[str, Any]) -> dict[str, Any]:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#bluesky"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]


class TestPublishing:
    def test_the_approved_post_goes_out_with_its_facet_card_and_language(self, world: Any, pds: FakePds) -> None:
        assert connect()["statusCode"] == 303
        approve_bluesky("Nous ouvrons à Lyon 🎉")
        assert publisher(world).publish(TARGET) is Outcome.PUBLISHED
        [record] = pds.records.values()
        link = record["embed"]["external"]["uri"]
        assert record["text"] == f"Nous ouvrons à Lyon 🎉\n\n{link}"
        assert re.fullmatch(r"https://[^/]+/r/[A-Za-z0-9]{12}", link)
        [facet] = record["facets"]
        covered = record["text"].encode()[facet["index"]["byteStart"] : facet["index"]["byteEnd"]]
        assert covered.decode() == link == facet["features"][0]["uri"]
        assert record["langs"] == ["fr"] and record["embed"]["external"]["title"] == "Lyon"
        item = approval_item(world)
        assert item["status"]["S"] == "PUBLISHED"
        assert item["external_post_url"]["S"].startswith(f"https://bsky.app/profile/{DID}/post/")

    def test_killed_after_the_pds_wrote_it_the_post_is_confirmed_never_posted_twice(
        self, world: Any, pds: FakePds
    ) -> None:
        # Given the PDS wrote the record and the invocation was stopped before its answer
        assert connect()["statusCode"] == 303
        approve_bluesky("Une fois, une seule")
        pds.kill_after_write = True
        started = datetime.now(UTC)
        with pytest.raises(Killed):
            publisher(world, at=started).publish(TARGET)
        assert approval_item(world)["status"]["S"] == "PUBLISHING"
        # When the sweeper finds the stalled post and hands it back, delivered twice
        later = started + PUBLISHING_LEASE + timedelta(minutes=5)
        sweeper = bootstrap.build_sweeper(
            SweeperSettings.from_env(ENV), dynamodb_client=world["dynamodb"], sqs_client=world["sqs"]
        )
        sweeper._now = lambda: later
        assert sweeper.sweep().stalled == 1
        url = world["sqs"].get_queue_url(QueueName="chorus-test-publish-shared")["QueueUrl"]
        messages = world["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        handler = ScheduledPosts(publisher(world, at=later))
        for _ in range(2):
            handler.handle(sqs_event(messages), FakeLambdaContext())
        # Then the repeat named the same record, the PDS refused it, getRecord confirmed it: one post
        keys = [json.loads(r.body)["rkey"] for r in sent_to_pds(pds, "com.atproto.repo.createRecord")]
        assert len(keys) == 2 and keys[0] == keys[1]
        assert len(pds.records) == 1
        item = approval_item(world)
        assert item["status"]["S"] == "PUBLISHED" and item["external_post_id"]["S"].endswith(keys[0])

    def test_an_expired_access_token_is_refreshed_and_the_new_pair_kept(self, world: Any, pds: FakePds) -> None:
        assert connect()["statusCode"] == 303
        approve_bluesky("Après un rafraîchissement")
        pds.valid_access.clear()  # the access token expired early (revoked by the PDS)
        assert publisher(world).publish(TARGET) is Outcome.PUBLISHED
        assert len(sent_to_pds(pds, "com.atproto.server.refreshSession")) == 1
        assert len(pds.records) == 1
        # The rotated refresh token is the one stored: the first is spent
        assert connection_item(world)["token_version"]["N"] == "2"

    def test_a_revoked_session_asks_the_employee_to_reconnect(self, world: Any, pds: FakePds) -> None:
        assert connect()["statusCode"] == 303
        approve_bluesky("Jamais publié")
        pds.valid_access.clear()
        pds.valid_refresh.clear()  # the app password was revoked
        assert publisher(world).publish(TARGET) is Outcome.NEEDS_RECONNECT
        assert not pds.records
        assert approval_item(world)["status"]["S"] == "NEEDS_RECONNECT"


class TestRefusals:
    def test_a_429_waits_for_ratelimit_reset_and_nothing_is_posted(self, world: Any, pds: FakePds) -> None:
        assert connect()["statusCode"] == 303
        approve_bluesky("Plus tard")
        now = datetime.now(UTC)
        reset = datetime.fromtimestamp(int((now + timedelta(minutes=20)).timestamp()), UTC)
        pds.mock.replace(
            "POST",
            f"{PDS}/xrpc/com.atproto.repo.createRecord",
            status=429,
            headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(reset.timestamp()))},
            json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        )
        assert publisher(world, at=now).publish(TARGET) is Outcome.RESCHEDULED
        item = approval_item(world)
        assert item["status"]["S"] == "SCHEDULED" and item["last_failure"]["S"] == "rate_limited"
        assert reset <= datetime.fromisoformat(item["publish_at"]["S"]) <= reset + RESUME_SPREAD
        assert not pds.records
        assert not sent_to_pds(pds, "com.atproto.repo.getRecord")  # a 429 was never processed

    def test_an_outage_is_checked_then_retried_later(self, world: Any, pds: FakePds) -> None:
        assert connect()["statusCode"] == 303
        approve_bluesky("Après la panne")
        pds.mock.replace(
            "POST",
            f"{PDS}/xrpc/com.atproto.repo.createRecord",
            status=502,
            json={"error": "UpstreamFailure", "message": "Upstream Failure"},
        )
        now = datetime.now(UTC)
        assert publisher(world, at=now).publish(TARGET) is Outcome.RESCHEDULED
        assert len(sent_to_pds(pds, "com.atproto.repo.getRecord")) == 1  # not there: safe to retry
        item = approval_item(world)
        assert item["status"]["S"] == "SCHEDULED" and item["last_failure"]["S"] == "transient"
        assert datetime.fromisoformat(item["publish_at"]["S"]) >= now + MIN_RETRY_DELAY
        assert not pds.records


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:chorus-test-publish-shared",
                "awsRegion": "eu-west-1",
            }
            for message in messages
        ]
    }
