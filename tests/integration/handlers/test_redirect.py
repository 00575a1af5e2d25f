"""/r/{code} as API Gateway invokes it: a redirect to the stored target, unique human clicks counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from bench.aws_calls import count_aws_calls

from chorus.domain.tracking import link_code
from chorus.services.clicks import ClickService
from chorus.store.links import LinkStore
from chorus.web.employee.redirect import redirect_router
from chorus.web.pages import register_page_errors, security_headers
from tests.conftest import TABLE
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext

SECRET = b"click-secret-0123456789abcdef0123456789"
CODE = link_code("e-ada#c-lyon#linkedin")
TARGET = "https://example.com/lyon?ref=home&utm_source=newsletter"
IP = "203.0.113.77"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
LANGUAGE = "fr-FR,fr;q=0.9,en;q=0.5"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def world(aws):
    """The link item as the approval transaction writes it."""
    aws["dynamodb"].put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": f"LINK#{CODE}"},
            "SK": {"S": "META"},
            "entity": {"S": "link"},
            "code": {"S": CODE},
            "employee_id": {"S": "e-ada"},
            "content_id": {"S": "c-lyon"},
            "network": {"S": "linkedin"},
            "target": {"S": TARGET},
            "campaign": {"S": ""},
            "created_at": {"S": "2026-11-20T10:00:00+00:00"},
        },
    )
    return aws


@pytest.fixture
def app(world, clock):
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    resolver = APIGatewayHttpResolver()
    resolver.use(middlewares=[security_headers])
    resolver.include_router(redirect_router(ClickService(LinkStore(world["dynamodb"], TABLE), SECRET, now=clock)))
    register_page_errors(resolver)
    return resolver


def follow(
    app, path: str = f"/r/{CODE}", *, method: str = "GET", agent: str = BROWSER, headers=None, ip: str = IP, query=None
):
    event = http_event(
        method,
        path,
        route="/r/{code}",
        claims=None,
        headers={"user-agent": agent, "accept-language": LANGUAGE, **(headers or {})},
        query=query,
        path_parameters={"code": path.removeprefix("/r/")},
    )
    event["requestContext"]["http"]["sourceIp"] = ip
    event["requestContext"]["http"]["userAgent"] = agent
    return app.resolve(event, FakeLambdaContext())


def clicks(aws) -> list[dict]:
    response = aws["dynamodb"].query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :click)",
        ExpressionAttributeValues={":pk": {"S": f"LINK#{CODE}"}, ":click": {"S": "CLICK#"}},
    )
    return response["Items"]


def assert_redirects_to_target(response) -> None:
    assert response["statusCode"] == 302
    headers = response["headers"]
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    location = urlsplit(headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "example.com", "/lyon")
    assert parse_qs(location.query) == {
        "ref": ["home"],
        "utm_source": ["linkedin"],
        "utm_medium": ["employee_advocacy"],
        "utm_campaign": ["chorus"],
        "utm_content": ["c-lyon"],
    }


class TestRedirect:
    def test_unknown_code_is_a_404_page_not_a_redirect(self, app, world):
        response = follow(app, "/r/ZZZZZZZZZZZZ")
        assert response["statusCode"] == 404
        assert "Location" not in response["headers"]
        assert "This link does not exist" in response["body"]
        assert response["headers"]["Cache-Control"] == "no-store"
        assert clicks(world) == []

    def test_a_person_is_redirected_and_counted_once_without_ip_or_agent(self, app, world, caplog):
        response = follow(app)
        assert_redirects_to_target(response)
        [item] = clicks(world)
        assert item["entity"] == {"S": "click"}
        assert item["SK"]["S"].startswith("CLICK#") and len(item["SK"]["S"]) == len("CLICK#") + 32
        assert {name: item[name]["S"] for name in ("code", "employee_id", "content_id", "network", "campaign")} == {
            "code": CODE,
            "employee_id": "e-ada",
            "content_id": "c-lyon",
            "network": "linkedin",
            "campaign": "",
        }
        assert item["clicked_at"] == {"S": "2026-11-23T09:00:00+00:00"}
        assert int(item["expires_at"]["N"]) == int((START + timedelta(hours=24)).timestamp())
        stored = json.dumps(item)
        for secret_of_the_visitor in (IP, BROWSER, "Firefox", LANGUAGE):
            assert secret_of_the_visitor not in stored
        logged = json.dumps([record.__dict__ for record in caplog.records], default=str)
        assert IP not in logged and "Firefox" not in logged
        [log] = [record for record in caplog.records if record.getMessage() == "click"]
        assert (log.code, log.counted, log.automated) == (CODE, True, False)

    def test_the_same_visitor_again_is_redirected_but_not_counted(self, app, world, clock):
        follow(app)
        [first] = clicks(world)
        clock.now = START + timedelta(hours=23, minutes=59)
        assert_redirects_to_target(follow(app))
        assert clicks(world) == [first]

    def test_another_visitor_counts(self, app, world):
        follow(app)
        follow(app, ip="198.51.100.4")
        assert len(clicks(world)) == 2

    def test_after_24_hours_the_same_visitor_counts_again(self, app, world, clock):
        follow(app)
        clock.now = START + timedelta(hours=24, seconds=1)
        assert_redirects_to_target(follow(app))
        [item] = clicks(world)
        assert item["clicked_at"] == {"S": "2026-11-24T09:00:01+00:00"}
        assert int(item["expires_at"]["N"]) == int((clock.now + timedelta(hours=24)).timestamp())

    def test_head_is_redirected_without_a_body_and_not_counted(self, app, world):
        response = follow(app, method="HEAD")
        assert_redirects_to_target(response)
        assert response["body"] == ""
        assert clicks(world) == []

    @pytest.mark.parametrize(
        ("agent", "headers"),
        [
            ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", {}),
            ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", {}),
            ("", {}),
            (BROWSER, {"Sec-Purpose": "prefetch"}),
            (BROWSER, {"X-Purpose": "preview"}),
        ],
    )
    def test_bots_scanners_and_prefetches_are_redirected_not_counted(self, app, world, agent, headers):
        assert_redirects_to_target(follow(app, agent=agent, headers=headers))
        assert clicks(world) == []

    @pytest.mark.parametrize(
        ("path", "headers", "query"),
        [
            ("/r/https:%2F%2Fevil.example", {}, None),
            ("/r/evil.example", {}, None),
            (f"/r/{CODE}%2F%2Fevil.example", {}, None),
            (f"/r/{CODE}", {"host": "evil.example", "x-forwarded-host": "evil.example"}, None),
            (f"/r/{CODE}", {"referer": "https://evil.example/"}, None),
            (f"/r/{CODE}", {}, {"next": "https://evil.example", "url": "//evil.example", "utm_source": "evil"}),
        ],
    )
    def test_nothing_in_the_request_can_send_people_elsewhere(self, app, world, path, headers, query):
        response = follow(app, path, headers=headers, query=query)
        location = response["headers"].get("Location")
        if path == f"/r/{CODE}":
            assert_redirects_to_target(response)
        else:
            assert response["statusCode"] == 404 and location is None
        assert "evil" not in (location or "")

    def test_x_forwarded_for_is_not_the_visitor(self, app, world):
        follow(app, headers={"x-forwarded-for": "192.0.2.1"})
        follow(app, headers={"x-forwarded-for": "192.0.2.2"})
        assert len(clicks(world)) == 1

    def test_a_stored_target_that_is_not_https_is_never_a_redirect(self, app, world):
        world["dynamodb"].update_item(
            TableName=TABLE,
            Key={"PK": {"S": f"LINK#{CODE}"}, "SK": {"S": "META"}},
            UpdateExpression="SET target = :t",
            ExpressionAttributeValues={":t": {"S": "javascript:alert(1)"}},
        )
        response = follow(app)
        assert response["statusCode"] == 500
        assert "Location" not in response["headers"]
        assert clicks(world) == []


class TestAwsCalls:
    def test_a_counted_click_costs_two_calls(self, app, world):
        with count_aws_calls(world["dynamodb"]) as calls:
            follow(app)
        assert calls.by_operation() == {"dynamodb.GetItem": 1, "dynamodb.PutItem": 1}

    def test_a_repeat_click_costs_two_calls(self, app, world):
        follow(app)
        with count_aws_calls(world["dynamodb"]) as calls:
            follow(app)
        assert calls.total() <= 2

    def test_a_bot_costs_one_call_and_a_crafted_code_none(self, app, world):
        with count_aws_calls(world["dynamodb"]) as calls:
            follow(app, agent="Twitterbot/1.0")
        assert calls.by_operation() == {"dynamodb.GetItem": 1}
        with count_aws_calls(world["dynamodb"]) as calls:
            follow(app, "/r/..%2F..%2Fadmin")
        assert calls.total() == 0


class TestStoreFailure:
    def test_a_click_that_cannot_be_recorded_still_redirects(self, world, clock):
        from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

        from chorus.errors import StoreError

        class FailingClicks(LinkStore):
            def record_click(self, link, visitor, now):
                raise StoreError("could not record the click")

        resolver = APIGatewayHttpResolver()
        resolver.include_router(
            redirect_router(ClickService(FailingClicks(world["dynamodb"], TABLE), SECRET, now=clock))
        )
        assert_redirects_to_target(follow(resolver))
