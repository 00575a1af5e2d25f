"""Routes, payload 2.0 events and response conversion, without a server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chorus_local.functions import FunctionSpec
from chorus_local.http_api import IncomingRequest, build_event, convert_result, find_route, make_route

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = json.loads((ROOT / "events" / "http_api_v2_sample.json").read_text())


def _spec(name: str) -> FunctionSpec:
    return FunctionSpec(
        name, name, f"arn:aws:lambda:eu-west-1:123456789012:function:{name}", ROOT, "m.h", 3, 128, {}, [], []
    )


ROUTES = [
    make_route("GET", "/admin/content", _spec("list"), "AdminJwt", "api"),
    make_route("GET", "/admin/content/{id}", _spec("get"), "AdminJwt", "api"),
    make_route("GET", "/admin/content/special", _spec("special"), None, "api"),
    make_route("DELETE", "/admin/content/{id}", _spec("delete"), "AdminJwt", "api"),
    make_route("GET", "/admin/reports/{key+}", _spec("report"), "AdminJwt", "api"),
    make_route("ANY", "/any/{x}", _spec("any"), None, "api"),
    make_route("POST", "/any/{x}", _spec("post-any"), None, "api"),
]


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/admin/content", "list", {}),
        ("GET", "/admin/content/42", "get", {"id": "42"}),
        ("GET", "/admin/content/special", "special", {}),
        ("DELETE", "/admin/content/42", "delete", {"id": "42"}),
        (
            "GET",
            "/admin/reports/reports/uploads/content/a.csv.json",
            "report",
            {"key": "reports/uploads/content/a.csv.json"},
        ),
        ("HEAD", "/admin/content/7", "get", {"id": "7"}),
        ("PUT", "/any/1", "any", {"x": "1"}),
        ("POST", "/any/1", "post-any", {"x": "1"}),
    ],
)
def test_route_matching(method: str, path: str, function: str, params: dict[str, str]) -> None:
    found = find_route(ROUTES, method, path)
    assert found is not None
    route, path_params = found
    assert route.function.name == function
    assert path_params == params


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/admin/content/1"), ("GET", "/admin/reports/"), ("GET", "/admin/content/1/extra"), ("GET", "/nope")],
)
def test_unmatched_routes(method: str, path: str) -> None:
    assert find_route(ROUTES, method, path) is None


def _request(body: bytes = b'{"a": 1}', content_type: str = "application/json") -> IncomingRequest:
    return IncomingRequest(
        method="GET",
        raw_path="/admin/content/a%20b",
        raw_query="q=1&q=2&r=x",
        headers=[
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "agent"),
            ("Content-Type", content_type),
            ("X-Multi", "1"),
            ("X-Multi", "2"),
            ("Cookie", "c1=a; c2=b"),
        ],
        body=body,
        source_ip="127.0.0.1",
    )


def test_event_has_the_keys_of_a_real_api_gateway_event() -> None:
    route = ROUTES[1]
    authorizer = {"jwt": {"claims": {"sub": "u"}, "scopes": None}}
    event = build_event(_request(), route, {"id": "a b"}, account_id="123456789012", authorizer=authorizer)
    # stageVariables and mTLS authentication only exist when configured.
    expected = set(SAMPLE) - {"stageVariables"}
    assert set(event) == expected
    assert set(event["requestContext"]) == set(SAMPLE["requestContext"]) - {"authentication"}
    assert set(event["requestContext"]["http"]) == set(SAMPLE["requestContext"]["http"])
    assert event["routeKey"] == "GET /admin/content/{id}"
    assert event["requestContext"]["routeKey"] == "GET /admin/content/{id}"
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["http"]["path"] == "/admin/content/a b"
    assert event["rawPath"] == "/admin/content/a%20b"
    assert event["headers"]["x-multi"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["c1=a", "c2=b"]
    assert event["queryStringParameters"] == {"q": "1,2", "r": "x"}
    assert event["pathParameters"] == {"id": "a b"}
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False


def test_binary_bodies_are_base64() -> None:
    event = build_event(
        _request(b"\x00\xff", "application/octet-stream"), ROUTES[1], {}, account_id="1", authorizer=None
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"
    assert "authorizer" not in event["requestContext"]
    assert "pathParameters" not in event


def test_response_with_status_code() -> None:
    response = convert_result({"statusCode": 201, "headers": {"X-A": "1"}, "cookies": ["s=1"], "body": "created"})
    assert response.status == 201
    assert ("x-a", "1") in response.headers
    assert ("set-cookie", "s=1") in response.headers
    assert ("content-type", "application/json") in response.headers
    assert response.body == b"created"


def test_response_base64_and_plain_values() -> None:
    assert convert_result({"statusCode": 200, "isBase64Encoded": True, "body": "AAE="}).body == b"\x00\x01"
    plain = convert_result({"message": "hi"})
    assert plain.status == 200 and json.loads(plain.body) == {"message": "hi"}
    assert convert_result("text").body == b"text"
    assert convert_result({"statusCode": "oops"}).status == 500
