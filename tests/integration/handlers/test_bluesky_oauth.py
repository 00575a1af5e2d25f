"""Bluesky's AT Protocol OAuth end to end on moto, against a fake PDS and a fake authorization
server on another host (an "entryway", as bsky.social is), with no network: the connect page's
handle -> DID -> PDS -> protected resource -> authorization server, PAR with PKCE and DPoP (the
first proof refused for want of the server's nonce), the callback's state and ``iss`` checks, the
token request, the ``sub`` identity check; posting with a DPoP-bound token; the rotating refresh;
NEEDS_RECONNECT. The fake servers verify every DPoP proof as RFC 9449 says (signature by the key
in its header, htm, htu, iat, nonce, ath, and the key the tokens are bound to)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import responses

import web_handler
from chorus import bootstrap
from chorus.config import PublisherSettings
from chorus.domain.connection import Tokens
from chorus.domain.magic_links import activity_scope, connect_scope, form_subject, sign_form
from chorus.services.publish import Outcome
from tests.conftest import TABLE
from tests.integration.handlers.test_bluesky import (
    ADA,
    DID,
    ENV,
    HANDLE,
    PDS,
    RING,
    TARGET,
    approval_item,
    approve_bluesky,
    call,
    connect_url,
    connection_item,
    publisher,
)
from tests.support.fake_dns import FakeDns
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

ISSUER = "https://auth.example.net"
OTHER_PDS = "https://other-pds.example.org"
OTHER_DID = "did:plc:abcdefghijklmnopqrstuvwx"
CLIENT_ID = "https://chorus.example.com/oauth/bluesky/client-metadata.json"
REDIRECT_URI = "https://chorus.example.com/oauth/callback/bluesky"


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (what a server binds DPoP tokens to)."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def form_of(request: Any) -> dict[str, str]:
    """A form-encoded request body as sent (bytes on the wire), one value per field."""
    raw = request.body if isinstance(request.body, bytes) else request.body.encode()
    assert raw.isascii() and b"=" in raw
    return {key: values[0] for key, values in parse_qs(raw.decode("ascii"), strict_parsing=True).items()}


class Refused(Exception):
    pass


def verified_proof(request: Any, *, nonce: str, access_token: str | None = None) -> dict[str, Any]:
    """The proof's claims and key thumbprint; Refused with the reason when RFC 9449 says no."""
    proof = request.headers.get("DPoP")
    if not proof:
        raise Refused("no DPoP proof")
    header = jwt.get_unverified_header(proof)
    if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" or "d" in header["jwk"]:
        raise Refused("bad header")
    claims = jwt.decode(proof, key=jwt.PyJWK(header["jwk"], algorithm="ES256").key, algorithms=["ES256"])
    url = urlsplit(request.url)
    if claims["htm"] != request.method or claims["htu"] != f"{url.scheme}://{url.netloc}{url.path}":
        raise Refused("htm/htu")
    if abs(claims["iat"] - datetime.now(UTC).timestamp()) > 60 or len(claims["jti"]) < 16:
        raise Refused("iat/jti")
    if access_token is not None:
        expected = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()).rstrip(b"=").decode()
        if claims.get("ath") != expected:
            raise Refused("ath")
    if claims.get("nonce") != nonce:
        raise Refused("use_dpop_nonce")
    return {**claims, "jkt": thumbprint(header["jwk"])}


class FakeAuthServer:
    """The authorization server: PAR, token (code and refresh), with DPoP nonces."""

    def __init__(self) -> None:
        self.nonce = "as-nonce-" + secrets.token_hex(4)
        self.pars: dict[str, dict[str, str]] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: dict[str, str] = {}  # live refresh token -> key thumbprint
        self.access_tokens: dict[str, str] = {}  # live access token -> key thumbprint
        self.sub = DID
        self.refused: list[str] = []
        self.replayed = 0

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/oauth/authorize",
            "token_endpoint": f"{ISSUER}/oauth/token",
            "pushed_authorization_request_endpoint": f"{ISSUER}/oauth/par",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
            "scopes_supported": ["atproto", "transition:generic"],
            "dpop_signing_alg_values_supported": ["ES256"],
            "authorization_response_iss_parameter_supported": True,
            "require_pushed_authorization_requests": True,
            "client_id_metadata_document_supported": True,
        }

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add("GET", f"{ISSUER}/.well-known/oauth-authorization-server", json=self.metadata())
        mock.add_callback("POST", f"{ISSUER}/oauth/par", self.par)
        mock.add_callback("POST", f"{ISSUER}/oauth/token", self.token)

    def _proof(self, request: Any) -> dict[str, Any] | tuple[int, dict[str, str], str]:
        try:
            return verified_proof(request, nonce=self.nonce)
        except Refused as refused:
            self.refused.append(str(refused))
            error = "use_dpop_nonce" if str(refused) == "use_dpop_nonce" else "invalid_dpop_proof"
            return 400, {"DPoP-Nonce": self.nonce}, json.dumps({"error": error})

    def par(self, request: Any) -> tuple[int, dict[str, str], str]:
        proof = self._proof(request)
        if isinstance(proof, tuple):
            return proof
        form = form_of(request)
        request_uri = "urn:ietf:params:oauth:request_uri:req-" + secrets.token_hex(8)
        self.pars[request_uri] = {**form, "jkt": proof["jkt"]}
        return 201, {"DPoP-Nonce": self.nonce}, json.dumps({"request_uri": request_uri, "expires_in": 299})

    def authorize(self, request_uri: str) -> str:
        """The employee signs in and allows: the code the server sends back to the redirect URI."""
        code = "cod-" + secrets.token_hex(8)
        self.codes[code] = self.pars[request_uri]
        return code

    def _issue(self, jkt: str) -> tuple[int, dict[str, str], str]:
        access, refresh = "acc-" + secrets.token_hex(8), "ref-" + secrets.token_hex(8)
        self.access_tokens[access] = jkt
        self.refresh_tokens[refresh] = jkt
        body = {
            "access_token": access,
            "token_type": "DPoP",
            "expires_in": 1800,
            "refresh_token": refresh,
            "scope": "atproto transition:generic",
            "sub": self.sub,
        }
        return 200, {"DPoP-Nonce": self.nonce}, json.dumps(body)

    def token(self, request: Any) -> tuple[int, dict[str, str], str]:
        proof = self._proof(request)
        if isinstance(proof, tuple):
            return proof
        form = form_of(request)
        if form.get("client_id") != CLIENT_ID:
            return 400, {}, json.dumps({"error": "invalid_client"})
        if form["grant_type"] == "authorization_code":
            par = self.codes.pop(form["code"], None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest())
            if (
                par is None
                or par["jkt"] != proof["jkt"]
                or par["code_challenge"] != challenge.rstrip(b"=").decode()
                or par["redirect_uri"] != form["redirect_uri"]
            ):
                return 400, {}, json.dumps({"error": "invalid_grant"})
            return self._issue(proof["jkt"])
        bound = self.refresh_tokens.pop(form["refresh_token"], None)
        if bound is None:
            # A replayed refresh token ends the whole session (as Bluesky's server does).
            self.replayed += 1
            self.refresh_tokens.clear()
            return 400, {}, json.dumps({"error": "invalid_grant", "error_description": "refresh token replayed"})
        if bound != proof["jkt"]:
            return 400, {}, json.dumps({"error": "invalid_dpop_key_binding"})
        return self._issue(proof["jkt"])


class FakeOAuthPds:
    """The PDS (a resource server): names the authorization server; writes records for a valid
    DPoP-bound token with a proof carrying its own nonce and the token's hash."""

    def __init__(self, server: FakeAuthServer) -> None:
        self.server = server
        self.nonce = "pds-nonce-" + secrets.token_hex(4)
        self.records: dict[str, dict[str, Any]] = {}
        self.refused: list[str] = []

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add("GET", f"https://{HANDLE}/.well-known/atproto-did", body=DID, content_type="text/plain")
        for did, pds, handle in ((DID, PDS, HANDLE), (OTHER_DID, OTHER_PDS, "someone.example.org")):
            document = {
                "id": did,
                "alsoKnownAs": [f"at://{handle}"],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}],
            }
            mock.add("GET", f"https://plc.directory/{did}", json=document)
        mock.add("GET", f"{PDS}/.well-known/oauth-protected-resource", json={"authorization_servers": [ISSUER]})
        # Another account's PDS trusts another authorization server.
        mock.add(
            "GET",
            f"{OTHER_PDS}/.well-known/oauth-protected-resource",
            json={"authorization_servers": ["https://auth.other.example.org"]},
        )
        other = {**self.server.metadata(), "issuer": "https://auth.other.example.org"}
        for name in ("authorization_endpoint", "token_endpoint", "pushed_authorization_request_endpoint"):
            other[name] = other[name].replace(ISSUER, "https://auth.other.example.org")
        mock.add("GET", "https://auth.other.example.org/.well-known/oauth-authorization-server", json=other)
        mock.add_callback("POST", f"{PDS}/xrpc/com.atproto.repo.createRecord", self.create_record)

    def create_record(self, request: Any) -> tuple[int, dict[str, str], str]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "DPoP" or token not in self.server.access_tokens:
            self.refused.append("token")
            return 401, {"WWW-Authenticate": 'DPoP error="invalid_token"'}, json.dumps({"error": "InvalidToken"})
        try:
            proof = verified_proof(request, nonce=self.nonce, access_token=token)
        except Refused as refused:
            self.refused.append(str(refused))
            headers = {"WWW-Authenticate": f'DPoP error="{refused}"', "DPoP-Nonce": self.nonce}
            return 401, headers, json.dumps({"error": "use_dpop_nonce"})
        if proof["jkt"] != self.server.access_tokens[token]:
            return 401, {}, json.dumps({"error": "InvalidToken"})
        sent = json.loads(request.body)
        self.records[sent["rkey"]] = sent["record"]
        uri = f"at://{DID}/app.bsky.feed.post/{sent['rkey']}"
        return 200, {"DPoP-Nonce": self.nonce}, json.dumps({"uri": uri, "cid": "bafyrei"})


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    FakeDns(
        {
            HANDLE: [["93.184.215.14"]],
            "plc.directory": [["104.21.0.1"]],
            "pds.example.net": [["93.184.215.15"]],
            "auth.example.net": [["93.184.215.16"]],
            "other-pds.example.org": [["93.184.215.17"]],
            "auth.other.example.org": [["93.184.215.18"]],
        }
    ).install(monkeypatch)
    server = FakeAuthServer()
    pds = FakeOAuthPds(server)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("https://")  # moto is in-process; anything else unexpected fails loudly
        server.install(mock)
        pds.install(mock)
        yield server, pds, mock


@pytest.fixture
def world(aws: dict[str, Any], servers: Any) -> dict[str, Any]:
    seed(
        aws,
        [{"id": "lyon", "title": "Lyon", "url": "https://example.com/lyon", "text": "Open"}],
        [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris", "locale": "fr"}],
    )
    return aws


def start(handle: str = HANDLE) -> Any:
    path, token = connect_url()
    subject = form_subject(employee_id(ADA), connect_scope(activity_scope(content_id("lyon"))), "connect:bluesky")
    form = sign_form(RING, subject, datetime.now(UTC) - timedelta(minutes=1))
    body = urlencode({"form": form, "action": "connect", "handle": handle})
    return call("POST", path, route="/connect/{network}", query={"t": token}, body=body)


def browser_cookie(response: Any) -> str:
    [cookie] = response["cookies"]
    return cookie.split(";")[0]


def come_back(query: dict[str, str], cookie: str | None) -> Any:
    event = http_event(
        "GET",
        "/oauth/callback/bluesky",
        route="/oauth/callback/{network}",
        claims=None,
        query=query,
        headers={"host": "chorus.example.com"},
    )
    if cookie:
        event["cookies"] = [cookie]
    return web_handler.lambda_handler(event, FakeLambdaContext())


def authorised(server: FakeAuthServer, started: Any) -> dict[str, str]:
    """The authorization server's redirect back: code, state, iss."""
    location = urlsplit(started["headers"]["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    par = server.pars[query["request_uri"]]
    return {"code": server.authorize(query["request_uri"]), "state": par["state"], "iss": ISSUER}


def sent(mock: responses.RequestsMock, url: str) -> list[Any]:
    return [c.request for c in mock.calls if c.request.url.split("?")[0] == url]


def connected(world: dict[str, Any], servers: Any) -> None:
    server, _, _ = servers
    started = start()
    answer = come_back(authorised(server, started), browser_cookie(started))
    assert answer["statusCode"] == 303, answer.get("body")
    assert connection_item(world) is not None


class TestConnecting:
    def test_the_page_offers_oauth_first_and_the_app_password_as_the_fallback(self, world: Any) -> None:
        path, token = connect_url()
        body = call("GET", path, route="/connect/{network}", query={"t": token})["body"]
        assert body.index('id="oauth_handle"') < body.index("<details>") < body.index('id="app_password"')
        assert "Continue to Bluesky" in body and "Or connect with an app password" in body

    def test_the_client_metadata_is_served_at_the_client_id(self, world: Any) -> None:
        response = call("GET", "/oauth/bluesky/client-metadata.json", route="/oauth/bluesky/client-metadata.json")
        assert response["statusCode"] == 200
        assert response["headers"]["Content-Type"] == "application/json"
        assert json.loads(response["body"]) == {
            "client_id": CLIENT_ID,
            "client_name": "Chorus",
            "client_uri": "https://chorus.example.com",
            "application_type": "web",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": "atproto transition:generic",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "dpop_bound_access_tokens": True,
        }

    def test_the_whole_flow_stores_the_sealed_dpop_session(self, world: Any, servers: Any) -> None:
        server, _, mock = servers
        # When the employee gives their handle
        started = start("@Ada.Example.org")
        # Then the browser goes to their authorization server with only the request_uri
        assert started["statusCode"] == 303
        location = urlsplit(started["headers"]["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/oauth/authorize"
        query = parse_qs(location.query)
        assert set(query) == {"client_id", "request_uri"} and query["client_id"] == [CLIENT_ID]
        assert "HttpOnly" in started["cookies"][0] and "__Host-chorus-oauth-bluesky=" in started["cookies"][0]
        # And PAR was sent twice: refused for the nonce, then accepted with it
        first, second = sent(mock, f"{ISSUER}/oauth/par")
        assert server.refused == ["use_dpop_nonce"]
        assert first.body == second.body
        form = form_of(second)
        assert {k: v for k, v in form.items() if k not in ("state", "code_challenge")} == {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "atproto transition:generic",
            "code_challenge_method": "S256",
            "login_hint": HANDLE,
        }
        assert len(form["state"]) >= 32 and len(form["code_challenge"]) == 43
        # When the server sends the employee back
        answer = come_back(authorised(server, started), browser_cookie(started))
        # Then the tokens are stored sealed, bound to the flow's key, for two weeks
        assert answer["statusCode"] == 303 and answer["headers"]["Location"].startswith("/a/")
        [exchange] = sent(mock, f"{ISSUER}/oauth/token")
        body = form_of(exchange)
        assert set(body) == {"grant_type", "code", "redirect_uri", "code_verifier", "client_id"}
        assert body["grant_type"] == "authorization_code" and body["redirect_uri"] == REDIRECT_URI
        item = connection_item(world)
        assert item is not None
        assert item["member_id"]["S"] == DID and item["instance_url"]["S"] == PDS
        expires = datetime.fromisoformat(item["expires_at"]["S"])
        assert timedelta(days=13, hours=23) < expires - datetime.now(UTC) <= timedelta(days=14)
        sealed = repr(item)
        assert not any(token in sealed for token in [*server.access_tokens, *server.refresh_tokens])
        assert '"d"' not in sealed and "P-256" not in sealed

    def test_a_forged_state_connects_nothing_and_spends_no_code(self, world: Any, servers: Any) -> None:
        server, _, mock = servers
        started = start()
        answer = come_back({**authorised(server, started), "state": "forged"}, browser_cookie(started))
        assert answer["statusCode"] == 400
        assert not sent(mock, f"{ISSUER}/oauth/token") and connection_item(world) is None

    def test_the_right_state_in_another_browser_connects_nothing(self, world: Any, servers: Any) -> None:
        server, _, mock = servers
        started = start()
        answer = come_back(authorised(server, started), "__Host-chorus-oauth-bluesky=someone-elses")
        assert answer["statusCode"] == 400
        assert not sent(mock, f"{ISSUER}/oauth/token") and connection_item(world) is None

    def test_an_answer_naming_another_issuer_is_refused(self, world: Any, servers: Any) -> None:
        server, _, mock = servers
        started = start()
        query = {**authorised(server, started), "iss": "https://auth.other.example.org"}
        answer = come_back(query, browser_cookie(started))
        assert answer["statusCode"] == 502 and "did not come from your Bluesky server" in answer["body"]
        assert not sent(mock, f"{ISSUER}/oauth/token") and connection_item(world) is None

    def test_a_sub_whose_pds_trusts_another_server_is_refused(self, world: Any, servers: Any) -> None:
        # Given an authorization server that answers for an account hosted elsewhere
        server, _, _ = servers
        server.sub = OTHER_DID
        started = start()
        answer = come_back(authorised(server, started), browser_cookie(started))
        # Then nothing is stored
        assert answer["statusCode"] == 502 and "nothing was stored" in answer["body"]
        assert connection_item(world) is None

    def test_a_pds_naming_a_private_authorization_server_is_refused(self, world: Any, servers: Any) -> None:
        _, _, mock = servers
        mock.replace(
            "GET",
            f"{PDS}/.well-known/oauth-protected-resource",
            json={"authorization_servers": ["https://metadata.example.net"]},
        )
        assert start()["statusCode"] == 400
        assert connection_item(world) is None


class TestPosting:
    def test_the_post_goes_out_with_a_dpop_bound_token_and_the_pds_nonce(self, world: Any, servers: Any) -> None:
        _, pds, mock = servers
        connected(world, servers)
        approve_bluesky("Avec OAuth")
        assert publisher(world).publish(TARGET) is Outcome.PUBLISHED
        [record] = pds.records.values()
        assert record["text"].startswith("Avec OAuth\n\n")
        first, second = sent(mock, f"{PDS}/xrpc/com.atproto.repo.createRecord")
        assert pds.refused == ["use_dpop_nonce"]  # the first proof had no PDS nonce
        assert first.body == second.body
        assert second.headers["Authorization"].startswith("DPoP acc-")
        assert approval_item(world)["status"]["S"] == "PUBLISHED"

    def test_an_expired_token_is_refreshed_and_the_rotated_pair_kept(self, world: Any, servers: Any) -> None:
        server, pds, mock = servers
        connected(world, servers)
        approve_bluesky("Après un rafraîchissement")
        # Given the access token is no longer accepted
        [old_refresh] = server.refresh_tokens
        server.access_tokens.clear()
        server.refused.clear()
        # When the post goes out
        assert publisher(world).publish(TARGET) is Outcome.PUBLISHED
        # Then the refresh token was used once, with DPoP (sent again only for the server's nonce)
        refreshes = [form_of(r) for r in sent(mock, f"{ISSUER}/oauth/token") if b"refresh_token=" in r.body]
        expected = {"grant_type": "refresh_token", "refresh_token": old_refresh, "client_id": CLIENT_ID}
        assert refreshes == [expected, expected] and server.refused == ["use_dpop_nonce"]
        # And its successor is the one stored
        assert server.replayed == 0 and len(server.refresh_tokens) == 1 and old_refresh not in server.refresh_tokens
        assert connection_item(world)["token_version"]["N"] == "2"
        assert len(pds.records) == 1

    def test_a_refresh_claimed_elsewhere_is_not_spent_twice(self, world: Any, servers: Any) -> None:
        server, _, mock = servers
        connected(world, servers)
        approve_bluesky("Pendant un autre rafraîchissement")
        server.access_tokens.clear()
        # Given another invocation claimed the refresh a moment ago
        key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": "CONN#bluesky"}}
        until = int((datetime.now(UTC) + timedelta(seconds=30)).timestamp())
        world["dynamodb"].update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET refresh_claimed_until = :u",
            ExpressionAttributeValues={":u": {"N": str(until)}},
        )
        # When this one needs a refresh too
        outcome = publisher(world).publish(TARGET)
        # Then it spends nothing and tries again later; the session survives
        assert outcome is Outcome.RESCHEDULED
        assert not [r for r in sent(mock, f"{ISSUER}/oauth/token") if b"refresh_token=" in r.body]
        assert server.replayed == 0 and server.refresh_tokens
        assert approval_item(world)["last_failure"]["S"] == "transient"

    def test_a_revoked_session_asks_the_employee_to_reconnect(self, world: Any, servers: Any) -> None:
        server, pds, _ = servers
        connected(world, servers)
        approve_bluesky("Jamais publié")
        server.access_tokens.clear()
        server.refresh_tokens.clear()  # the employee revoked Chorus in Bluesky
        assert publisher(world).publish(TARGET) is Outcome.NEEDS_RECONNECT
        assert not pds.records
        assert approval_item(world)["status"]["S"] == "NEEDS_RECONNECT"


class TestConcurrentRefresh:
    def test_tokens_rotated_by_the_claim_holder_are_used_not_refreshed_again(self, world: Any, servers: Any) -> None:
        server, pds, mock = servers
        connected(world, servers)
        approve_bluesky("Avec les jetons de l'autre")
        service = bootstrap.build_connections_service(
            PublisherSettings.from_env(ENV), dynamodb_client=world["dynamodb"]
        )
        stored = service._records.get(employee_id(ADA), TARGET.network)
        # Given another invocation claimed the refresh and has rotated the tokens since we read them
        server.access_tokens.clear()
        winner = service.credentials(employee_id(ADA), TARGET.network, force_refresh=True)
        assert winner is not None and connection_item(world)["token_version"]["N"] == "2"
        refreshes = len([r for r in sent(mock, f"{ISSUER}/oauth/token") if b"refresh_token=" in r.body])
        # When this invocation, holding the old read, needs a refresh
        assert stored is not None
        loser = service._refresh(
            stored, Tokens.from_plaintext(service._vault.open(stored.ciphertext, employee_id(ADA), "bluesky"))
        )
        # Then it uses the winner's tokens and spends no refresh token
        assert loser is not None and loser.access_token.get_secret_value() == winner.access_token
        assert len([r for r in sent(mock, f"{ISSUER}/oauth/token") if b"refresh_token=" in r.body]) == refreshes
        assert server.replayed == 0 and not pds.records
