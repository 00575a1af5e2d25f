"""The HTTP gateway: API Gateway HTTP API routes for the handlers, plus the ``/_local`` pages.

``/_local/*`` is the local cloud's own surface (health, token issuer, clock, outbox); every other
path is matched against the template's ``HttpApi`` routes, authorized with the JWT authorizer
when the route has one (401 ``{"message":"Unauthorized"}`` without calling the handler), turned
into a payload 2.0 event and answered with the handler's result.

The access log line has the method, the matched route key (``GET /a/{token}``, never the
concrete path: paths carry magic-link tokens) and the status; never query strings or headers.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from chorus_local.auth import Unauthorized, authorizer_context
from chorus_local.clock import parse_instant
from chorus_local.console_login import LoginRefused
from chorus_local.feed import FeedPost, feed_posts
from chorus_local.http_api import (
    INTERNAL_ERROR,
    GatewayResponse,
    IncomingRequest,
    build_event,
    convert_result,
    find_route,
    json_response,
)
from chorus_local.log import get_logger
from chorus_local.outbox import sent_messages
from chorus_local.server import ThreadedServer

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from chorus_local.cloud import LocalCloud

logger = get_logger(__name__)

# What the console's authorization request carries, kept through the login form.
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)
_templates = Environment(
    loader=PackageLoader("chorus_local", "static/templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its request log (it prints query strings)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":  # the message may quote the request line (tokens): not logged
            logger.warning("http server error")


class GatewayApp:
    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            if request.path == "/_local" or request.path.startswith("/_local/"):
                response = self._local(request)
            else:
                response = self._api(request)
        except Exception:
            logger.exception("gateway failure", method=request.method)
            response = self._to_werkzeug(json_response(500, INTERNAL_ERROR))
        return response(environ, start_response)

    # ------------------------------------------------------------------ API routes

    def _api(self, request: Request) -> Response:
        found = find_route(self.cloud.routes, request.method, request.path)
        if found is None:
            logger.info("request", method=request.method, route="(no route)", status=404)
            return self._to_werkzeug(json_response(404, {"message": "Not Found"}))
        route, params = found
        authorizer: dict[str, Any] | None = None
        if route.authorizer is not None:
            try:
                claims = self.cloud.issuer.verify(request.headers.get("Authorization"))
            except Unauthorized as exc:
                logger.info("request", method=request.method, route=route.route_key, status=401, reason=str(exc))
                return self._to_werkzeug(
                    json_response(401, {"message": "Unauthorized"}, [("www-authenticate", "Bearer")])
                )
            authorizer = authorizer_context(claims)
        raw_uri = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path)
        raw_path = raw_uri.split("?", 1)[0]
        incoming = IncomingRequest(
            method=request.method,
            raw_path=raw_path,
            raw_query=request.query_string.decode("latin-1"),
            headers=list(request.headers.items()),
            body=request.get_data(),
            source_ip=request.remote_addr or "127.0.0.1",
            protocol=str(request.environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
        )
        event = build_event(incoming, route, params, account_id=self.cloud.stack.account_id, authorizer=authorizer)
        try:
            result = self.cloud.runtime.invoke(route.function, event)
            gateway_response = convert_result(result)
        except Exception:
            logger.exception("handler failed", function=route.function.name)
            gateway_response = json_response(500, INTERNAL_ERROR)
        gateway_response.headers.append(("apigw-requestid", event["requestContext"]["requestId"]))
        logger.info("request", method=request.method, route=route.route_key, status=gateway_response.status)
        return self._to_werkzeug(gateway_response)

    @staticmethod
    def _to_werkzeug(response: GatewayResponse) -> Response:
        result = Response(response.body, status=response.status)
        result.headers.clear()
        for name, value in response.headers:
            result.headers.add(name, value)
        return result

    # ------------------------------------------------------------------ /_local

    def _local(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/_local"
        method = request.method
        issuer = self.cloud.issuer
        if path == "/_local" and method in {"GET", "HEAD"}:
            return self._html("index.html", **self.cloud.index_context())
        if path == "/_local/health" and method in {"GET", "HEAD"}:
            return self._json(self.cloud.health())
        if path == "/_local/.well-known/openid-configuration":
            return self._json(issuer.openid_configuration())
        if path == "/_local/.well-known/jwks.json":
            return self._json(issuer.jwks())
        if path == "/_local/token" and method == "POST":
            return self._token(request)
        if path == "/_local/authorize" and method in {"GET", "HEAD", "POST"}:
            return self._authorize(request)
        if path == "/_local/oauth2/token" and method == "POST":
            status, answer = self.cloud.console_logins.token(request.form.to_dict())
            return self._json(answer, status)
        if path == "/_local/logout" and method in {"GET", "HEAD"}:
            return self._logout(request)
        if path == "/_local/clock" and method == "POST":
            return self._clock(request)
        if path == "/_local/clock" and method == "GET":
            return self._json({"now": self.cloud.clock.now().isoformat()})
        if path == "/_local/outbox" and method in {"GET", "HEAD"}:
            return self._html("outbox.html", messages=self._messages())
        if path == "/_local/feed" and method in {"GET", "HEAD"}:
            return self._html("feed.html", posts=self._feed())
        if path == "/_local/feed.json":
            return self._json({"posts": [asdict(post) for post in self._feed()]})
        if path == "/_local/outbox.json":
            return self._json({"messages": [message.to_dict() for message in self._messages()]})
        return self._json({"message": "Not Found"}, 404)

    def _feed(self) -> list[FeedPost]:
        zone = str(self.cloud.stack.parameters.get("DigestTimezone") or "UTC")
        return feed_posts(self.cloud.client("dynamodb"), self.cloud.stack.physical_name("Table"), zone)

    def _messages(self) -> list[Any]:
        return sent_messages(self.cloud.stack.account_id, self.cloud.stack.region)

    def _token(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
        except json.JSONDecodeError:
            return self._json({"message": "body must be JSON"}, 400)
        if not isinstance(body, dict):
            return self._json({"message": "body must be a JSON object"}, 400)
        groups = body.get("groups")
        if groups is None:
            groups = [self.cloud.admin_group]
        claims: dict[str, Any] = {
            "sub": str(body.get("sub") or "local-admin"),
            self.cloud.groups_claim: list(groups),
        }
        if body.get("email"):
            claims["email"] = str(body["email"])
        extra = body.get("claims")
        if isinstance(extra, dict):
            claims.update(extra)
        ttl = int(body.get("ttl_seconds") or 3600)
        return self._json({"token": self.cloud.issuer.issue(claims, ttl), "expires_in": ttl})

    def _authorize(self, request: Request) -> Response:
        """The console's sign-in page at this issuer: GET shows the form, POST checks the demo admin."""
        source = request.form if request.method == "POST" else request.args
        params = {name: source.get(name, "") for name in AUTHORIZE_PARAMS if source.get(name)}
        logins = self.cloud.console_logins
        try:
            logins.check(params)
        except LoginRefused as refused:
            return self._html(
                "login.html", params=None, error=f"This sign-in request is refused: {refused}", status=400
            )
        if request.method != "POST":
            return self._html("login.html", params=params, error=None)
        location = logins.log_in(params, request.form.get("username", ""), request.form.get("password", ""))
        if location is None:
            return self._html("login.html", params=params, error="Wrong email or password.", status=401)
        return Response(status=303, headers={"Location": location})

    def _logout(self, request: Request) -> Response:
        # This issuer keeps no session of its own: it only sends the browser back to the console.
        back = request.args.get("post_logout_redirect_uri", "")
        if back.startswith(f"{self.cloud.api_url}/console/"):
            return Response(status=303, headers={"Location": back})
        return self._json({"message": "signed out"})

    def _clock(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
            target = parse_instant(str(body["to"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            return self._json({"message": 'body must be {"to": "<ISO 8601 instant>"}'}, 400)
        now, fired = self.cloud.scheduler.tick_to(target)
        return self._json({"now": now.isoformat(), "fired": [item.to_dict() for item in fired]})

    @staticmethod
    def _json(payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload, indent=2, default=str), status=status, mimetype="application/json")

    @staticmethod
    def _html(template: str, status: int = 200, **context: Any) -> Response:
        return Response(_templates.get_template(template).render(**context), status=status, mimetype="text/html")


def gateway_server(app: GatewayApp, host: str, port: int) -> ThreadedServer:
    return ThreadedServer(app, host, port, name="chorus-gateway", request_handler=_QuietHandler)
