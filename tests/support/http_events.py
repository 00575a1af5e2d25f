"""Builds API Gateway HTTP API (payload 2.0) events from the sample in events/."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ADMIN_CLAIMS = {"sub": "admin-1", "email": "admin@example.com", "cognito:groups": "[chorus-admins]"}


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
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
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
