"""API Gateway HTTP API semantics without sockets: routes, v2.0 payloads, responses.

Everything here is pure so unit tests can check it; :mod:`chorus_local.gateway` wires it to a
werkzeug server.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from chorus import clock
from chorus_local.functions import FunctionSpec
from chorus_local.template import Stack

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/problem+json",
)


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # template path, e.g. /admin/reports/{key+}
    function: FunctionSpec
    authorizer: str | None  # name of a JWT authorizer, or None
    api_id: str
    segments: tuple[str, ...] = field(default=())

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters if ``path`` (already percent-decoded) matches, else None."""
        parts = path.split("/")[1:] if path.startswith("/") else path.split("/")
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = parts[index:]
                if not rest or rest == [""]:
                    return None
                params[segment[1:-2]] = "/".join(rest)
                return params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                if parts[index] == "":
                    return None
                params[segment[1:-1]] = parts[index]
            elif segment != parts[index]:
                return None
        return params if len(parts) == len(self.segments) else None

    def specificity(self) -> tuple[tuple[int, ...], int]:
        """Literal segments beat {param}, which beats {greedy+}; an exact method beats ANY."""
        scores = tuple(0 if seg.endswith("+}") else 1 if seg.startswith("{") else 2 for seg in self.segments)
        return scores, 0 if self.method == "ANY" else 1


def make_route(method: str, path: str, function: FunctionSpec, authorizer: str | None, api_id: str) -> Route:
    segments = tuple(path.split("/")[1:]) if path != "/" else ("",)
    return Route(method.upper(), path, function, authorizer, api_id, segments)


@dataclass(frozen=True)
class JwtAuthorizerConfig:
    name: str
    identity_source: str


@dataclass
class HttpApiConfig:
    routes: list[Route]
    authorizers: dict[str, JwtAuthorizerConfig]


def routes_from_template(stack: Stack, functions: dict[str, FunctionSpec]) -> HttpApiConfig:
    """Every ``Type: HttpApi`` function event, with the authorizer it ends up with."""
    routes: list[Route] = []
    authorizers: dict[str, JwtAuthorizerConfig] = {}
    for spec in functions.values():
        for event in spec.events:
            if event.type != "HttpApi":
                continue
            api_ref = event.raw_properties.get("ApiId")
            api_logical = str(api_ref["Ref"]) if isinstance(api_ref, dict) and "Ref" in api_ref else None
            api_auth: dict[str, Any] = {}
            if api_logical is not None:
                api_auth = stack.resolve(stack.resources[api_logical].properties.get("Auth") or {})
            for auth_name, auth in (api_auth.get("Authorizers") or {}).items():
                if "JwtConfiguration" in auth:
                    authorizers[auth_name] = JwtAuthorizerConfig(
                        auth_name, str(auth.get("IdentitySource", "$request.header.Authorization"))
                    )
            route_auth = (event.properties.get("Auth") or {}).get("Authorizer")
            authorizer = route_auth if route_auth is not None else api_auth.get("DefaultAuthorizer")
            if authorizer in (None, "NONE", "AWS_IAM"):
                authorizer = None
            api_id = stack.physical_name(api_logical) if api_logical else stack.physical_name("ServerlessHttpApi")
            routes.append(
                make_route(
                    str(event.properties.get("Method", "ANY")).upper().replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY"),
                    str(event.properties.get("Path", "/")),
                    spec,
                    authorizer,
                    api_id,
                )
            )
    return HttpApiConfig(routes, authorizers)


def find_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Most specific route for ``method`` and the decoded ``path``; HEAD falls back to GET."""
    wanted = method.upper()
    candidates: list[tuple[Route, dict[str, str]]] = []
    for route in routes:
        if route.method not in {wanted, "ANY"} and not (wanted == "HEAD" and route.method == "GET"):
            continue
        params = route.match(path)
        if params is not None:
            candidates.append((route, params))
    if not candidates:
        return None

    def rank(item: tuple[Route, dict[str, str]]) -> tuple[tuple[int, ...], int]:
        route = item[0]
        scores, method_score = route.specificity()
        if route.method == wanted:
            method_score = 2
        return scores, method_score

    return max(candidates, key=rank)


# ----------------------------------------------------------------------------- request event


def is_text_content(content_type: str | None) -> bool:
    if not content_type:
        return True
    lowered = content_type.split(";")[0].strip().lower()
    return lowered.startswith(_TEXT_TYPES) or lowered.endswith(("+json", "+xml"))


@dataclass
class IncomingRequest:
    method: str
    raw_path: str  # as sent, percent-encoded
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


def build_event(
    request: IncomingRequest,
    route: Route,
    path_parameters: dict[str, str],
    *,
    account_id: str,
    authorizer: dict[str, Any] | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload format 2.0 event, keys omitted when API Gateway omits them."""
    when = now or clock.now()
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lname = name.lower()
        if lname == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[lname] = f"{headers[lname]},{value}" if lname in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    host = headers.get("host", "127.0.0.1")
    request_id = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
    route_key = route.route_key
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": route.api_id,
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    context.update(
        {
            "domainName": host,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "http": {
                "method": request.method.upper(),
                "path": unquote(request.raw_path),
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": when.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(when.timestamp() * 1000),
        }
    )
    event["requestContext"] = context
    if request.body:
        if is_text_content(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = path_parameters
    return event


# ----------------------------------------------------------------------------- response


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_response(status: int, payload: Any, extra_headers: list[tuple[str, str]] | None = None) -> GatewayResponse:
    return GatewayResponse(
        status,
        [("content-type", "application/json"), *(extra_headers or [])],
        json.dumps(payload).encode(),
    )


INTERNAL_ERROR = {"message": "Internal Server Error"}


def convert_result(result: Any) -> GatewayResponse:
    """Apply the payload 2.0 response rules to what a handler returned.

    A dict with ``statusCode`` is used as is; any other JSON value (a dict without
    ``statusCode``, a string, a number) becomes a 200 with ``content-type: application/json``
    whose body is the value (strings verbatim, others JSON-encoded).
    """
    if isinstance(result, dict) and "statusCode" in result:
        try:
            status = int(result["statusCode"])
        except (TypeError, ValueError):
            return json_response(500, INTERNAL_ERROR)
        headers: list[tuple[str, str]] = []
        for name, value in (result.get("headers") or {}).items():
            headers.append((str(name).lower(), str(value)))
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(name).lower(), str(value)) for value in values)
        if not any(name == "content-type" for name, _ in headers):
            headers.append(("content-type", "application/json"))
        headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
        raw_body = result.get("body")
        if raw_body is None:
            body = b""
        elif result.get("isBase64Encoded"):
            body = base64.b64decode(str(raw_body))
        elif isinstance(raw_body, str):
            body = raw_body.encode()
        else:
            body = json.dumps(raw_body).encode()
        return GatewayResponse(status, headers, body)
    if result is None:
        return GatewayResponse(200, [("content-type", "application/json")], b"")
    if isinstance(result, str):
        return GatewayResponse(200, [("content-type", "application/json")], result.encode())
    try:
        return GatewayResponse(200, [("content-type", "application/json")], json.dumps(result).encode())
    except (TypeError, ValueError):
        return json_response(500, INTERNAL_ERROR)


def epoch_ms() -> int:
    return int(clock.timestamp() * 1000)
