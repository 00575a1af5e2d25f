"""Builds API Gateway HTTP API (payload 2.0) events from the sample in events/.

``claims`` are the bearer token's claims (JSON, as the issuer wrote them): the event carries the
token in its Authorization header and the claims as API Gateway's JWT authorizer passes them
(every value a string, arrays as "[a b]"). The token's signature is a placeholder: API Gateway
has checked it before the function runs.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

from chorus_local.auth import authorizer_context

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test"
ADMIN_CLAIMS: dict[str, Any] = {
    "iss": ISSUER,
    "sub": "admin-1",
    "email": "admin@example.com",
    "cognito:groups": ["chorus-admins"],
    "exp": 4102444800,
    "iat": 1795420800,
}


def bearer_token(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'test'})}.{part(claims)}.c2lnbmVkLWJ5LXRoZS1pc3N1ZXI"


def http_event(
    method: str,
    path: str,
    *,
    route: str | None = None,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    claims: dict[str, Any] | None = ADMIN_CLAIMS,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads((ROOT / "events/admin_api/post_content_csv.json").read_text()))
    route_key = f"{method} {route or path}"
    event["routeKey"] = route_key
    event["rawPath"] = path
    event["headers"] = {"host": "api.example.com", **{k.lower(): v for k, v in (headers or {}).items()}}
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    if query:
        event["queryStringParameters"] = query
    if cookies:
        event["cookies"] = list(cookies)
    if path_parameters:
        event["pathParameters"] = path_parameters
    context = event["requestContext"]
    context["routeKey"] = route_key
    context["http"]["method"] = method
    context["http"]["path"] = path
    if claims is None:
        context.pop("authorizer", None)
    else:
        token_claims = {"iss": ISSUER, "exp": 4102444800, **claims}
        context["authorizer"] = authorizer_context(token_claims)
        event["headers"].setdefault("authorization", f"Bearer {bearer_token(token_claims)}")
    if body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    elif isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
        event["isBase64Encoded"] = False
    return event
