"""SnapStart: each API-facing handler primes its function before the snapshot without a network
call, and every restore reseeds ``random`` (chorus.snapstart, bootstrap's prime_* hooks).

Lambda's ``snapshot_restore_py`` exists only in its managed runtime: here a stand-in with the same
two registration functions records the hooks, and the test runs them as the runtime would.
"""

from __future__ import annotations

import importlib
import json
import random
import socket
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from bench.aws_calls import count_aws_calls

from chorus import bootstrap, snapstart
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext


@dataclass
class RuntimeHooks:
    """What Lambda's runtime holds: the hooks registered, run before the snapshot and after a restore."""

    before_snapshot: list[Callable[[], None]] = field(default_factory=list)
    after_restore: list[Callable[[], None]] = field(default_factory=list)

    def snapshot(self) -> None:
        for hook in reversed(self.before_snapshot):  # as Lambda: reverse order of registration
            hook()

    def restore(self) -> None:
        for hook in self.after_restore:
            hook()


@pytest.fixture
def runtime_hooks(monkeypatch: pytest.MonkeyPatch) -> RuntimeHooks:
    hooks = RuntimeHooks()
    module = types.ModuleType(snapstart.HOOKS_MODULE)
    module.register_before_snapshot = hooks.before_snapshot.append  # type: ignore[attr-defined]
    module.register_after_restore = hooks.after_restore.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, snapstart.HOOKS_MODULE, module)
    return hooks


@dataclass
class NetworkRecord:
    connections: list[Any] = field(default_factory=list)
    aws_calls: list[str] = field(default_factory=list)


@pytest.fixture
def network_refused(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkRecord]:
    """No socket connects, no name resolves, and every AWS API call botocore starts is recorded
    (a call fails anyway: no moto here, and the sockets are refused)."""
    record = NetworkRecord()

    def refuse(_socket: socket.socket, address: Any) -> None:
        record.connections.append(address)
        raise ConnectionRefusedError(f"no network before a snapshot: {address}")

    def resolve(*args: Any, **_: Any) -> Any:
        record.connections.append(args[0])
        raise socket.gaierror(f"no name resolution before a snapshot: {args[0]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    def called(event_name: str, **_: Any) -> None:
        record.aws_calls.append(event_name)

    events = boto3._get_default_session().events
    events.register("before-call", called, unique_id="snapstart-network")
    try:
        yield record
    finally:
        events.unregister("before-call", unique_id="snapstart-network")


def imported_in_lambda(handler: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler module imported afresh, as at a version's initialisation."""
    monkeypatch.delitem(sys.modules, handler, raising=False)
    return importlib.import_module(handler)


def made_clients(recorded: list[str]) -> Callable[..., None]:
    def record(event_name: str, **_: Any) -> None:
        recorded.append(event_name.rpartition(".")[2])

    return record


SLACK_ON = {
    "SLACK_BOT_TOKEN_SECRET_ID": "chorus-test-slack-bot",
    "SLACK_SIGNING_SECRET_ID": "chorus-test-slack-signing",
    "SLACK_CLICK_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/chorus-test-slack-clicks",
}

# The stack's own user pool: the console's app client id is looked up by name (ListUserPoolClients).
COGNITO_CONSOLE = {
    "OIDC_CLIENT_ID": "",
    "COGNITO_USER_POOL_ID": "eu-west-1_test",
    "CONSOLE_CLIENT_NAME": "chorus-test-console",
}


@pytest.mark.parametrize(
    ("handler", "settings", "expected_clients"),
    [
        ("web_handler", {}, {"dynamodb", "secrets-manager", "scheduler", "kms"}),
        ("web_handler", SLACK_ON, {"dynamodb", "secrets-manager", "scheduler", "kms", "sqs"}),
        ("admin_api_handler", {}, {"dynamodb", "s3", "scheduler", "sqs"}),
        ("console_handler", {}, {"dynamodb"}),
        ("console_handler", COGNITO_CONSOLE, {"dynamodb"}),
        ("ingest_handler", {}, {"s3", "dynamodb"}),
        ("digest_planner_handler", {}, {"dynamodb", "sqs"}),
        ("digest_sender_handler", {}, {"dynamodb", "secrets-manager", "sesv2"}),
        ("slack_actions_handler", SLACK_ON, {"dynamodb", "scheduler", "secrets-manager"}),
        ("slack_actions_handler", {}, {"dynamodb", "scheduler", "secrets-manager"}),
        ("publisher_handler", {}, {"dynamodb", "kms", "scheduler", "secrets-manager", "sesv2"}),
        ("sweeper_handler", {}, {"dynamodb", "secrets-manager", "sesv2", "sqs"}),
        ("scoring_handler", {}, {"dynamodb"}),
        ("lifecycle_handler", {}, {"dynamodb", "scheduler"}),
        ("reports_handler", {}, {"dynamodb", "s3"}),
        ("retention_handler", {}, {"dynamodb"}),
        ("email_feedback_handler", {}, {"dynamodb"}),
    ],
    ids=[
        "web",
        "web with Slack",
        "admin",
        "console",
        "console with Cognito",
        "ingest",
        "digest planner",
        "digest sender",
        "Slack actions",
        "Slack actions with Slack off",
        "publisher",
        "sweeper",
        "scoring",
        "lifecycle",
        "reports",
        "retention",
        "email feedback",
    ],
)
def test_priming_makes_the_functions_clients_and_calls_nothing(
    runtime_hooks: RuntimeHooks,
    network_refused: NetworkRecord,
    monkeypatch: pytest.MonkeyPatch,
    handler: str,
    settings: dict[str, str],
    expected_clients: set[str],
) -> None:
    # Given the handler module imported in Lambda's runtime (its hooks registered at import)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    made: list[str] = []
    events = boto3._get_default_session().events
    events.register("creating-client-class", made_clients(made), unique_id="snapstart-made")
    try:
        imported_in_lambda(handler, monkeypatch)

        # When Lambda takes the snapshot
        runtime_hooks.snapshot()
    finally:
        events.unregister("creating-client-class", unique_id="snapstart-made")

    # Then the function's clients were made (their models and endpoint rules are in the
    # snapshot), and nothing left the process: no connection, no name lookup, no AWS call
    assert len(runtime_hooks.before_snapshot) == 1
    assert expected_clients <= set(made), sorted(set(made))
    assert network_refused.connections == []
    assert network_refused.aws_calls == []


def test_a_primed_web_function_serves_its_first_page_after_restore(
    aws, runtime_hooks: RuntimeHooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the web function primed and snapshotted, then restored
    web_handler = imported_in_lambda("web_handler", monkeypatch)
    runtime_hooks.snapshot()
    runtime_hooks.restore()

    # When its first request arrives
    answer = web_handler.lambda_handler(http_event("GET", "/assets/chorus.css", claims=None), FakeLambdaContext())

    # Then it is served by the primed app
    assert answer["statusCode"] == 200
    assert "text/css" in answer["headers"]["Content-Type"]


def test_every_restore_draws_its_own_random_sequence(runtime_hooks: RuntimeHooks) -> None:
    # Given a snapshot taken with random's state as it was at init
    bootstrap.snapstart(lambda: None)
    runtime_hooks.snapshot()
    at_snapshot = random.getstate()

    # When two environments are restored from it (each starts from the same state)
    draws = []
    for _ in range(2):
        random.setstate(at_snapshot)
        runtime_hooks.restore()
        draws.append([random.random() for _ in range(4)])

    # Then their draws differ (botocore's retry jitter among them), and differ from what the
    # snapshot's state alone would have drawn
    random.setstate(at_snapshot)
    unreseeded = [random.random() for _ in range(4)]
    assert draws[0] != draws[1]
    assert unreseeded not in draws


def test_outside_lambdas_runtime_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no snapshot_restore_py (a developer's machine, the local cloud)
    monkeypatch.setitem(sys.modules, snapstart.HOOKS_MODULE, None)
    primed: list[bool] = []

    # When a handler registers its priming
    registered = snapstart.register(lambda: primed.append(True))

    # Then nothing is registered and nothing runs: init is what it was without SnapStart
    assert registered is False
    assert primed == []


@pytest.mark.parametrize(
    ("handler", "function", "answers"),
    [
        ("web_handler", "WebFunction", 200),
        ("admin_api_handler", "AdminApiFunction", 401),
        ("console_handler", "ConsoleFunction", 200),
    ],
)
def test_the_daily_request_that_keeps_a_version_active_is_answered_without_any_call(
    aws, handler: str, function: str, answers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the request the template's KeepSnapshot schedule sends
    from tests.support.template import template

    events = template()["Resources"][function]["Properties"]["Events"]
    event = json.loads(events["KeepSnapshot"]["Properties"]["Input"])
    module = imported_in_lambda(handler, monkeypatch)
    # When the function answers it
    with count_aws_calls() as calls:
        answer = module.lambda_handler(event, FakeLambdaContext())
    # Then it is a plain answer (an asset, or "who are you?"), and no AWS API was called
    assert answer["statusCode"] == answers
    assert calls.by_operation() == {}


def kept_active_by_schedule() -> list[tuple[str, str]]:
    """(handler module, function) of each function the template's KeepSnapshot schedules send
    the keep-active event: the event-driven ones no request or schedule of their own reaches daily."""
    from tests.support.template import template

    found = []
    for logical_id, resource in template()["Resources"].items():
        properties = resource.get("Properties", {})
        keep = (properties.get("Events") or {}).get("KeepSnapshot", {}).get("Properties", {})
        if "Input" in keep and json.loads(keep["Input"]) == snapstart.KEEP_ACTIVE_EVENT:
            found.append((properties["Handler"].rpartition(".")[0], logical_id))
    return sorted(found)


KEPT_ACTIVE_BY_SCHEDULE = kept_active_by_schedule()


def test_the_event_driven_functions_are_those_kept_active_by_schedule() -> None:
    assert [function for _, function in KEPT_ACTIVE_BY_SCHEDULE] == sorted(
        [
            "DigestSenderFunction",
            "EmailFeedbackFunction",
            "IngestFunction",
            "LifecycleFunction",
            "PublisherFunction",
            "ScoringFunction",
            "SlackActionsFunction",
        ]
    )


@pytest.mark.parametrize(("handler", "function"), KEPT_ACTIVE_BY_SCHEDULE)
def test_the_daily_event_that_keeps_an_event_driven_version_active_is_answered_without_any_call(
    aws, handler: str, function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the event the template's KeepSnapshot schedule sends the function
    event = dict(snapstart.KEEP_ACTIVE_EVENT)
    module = imported_in_lambda(handler, monkeypatch)

    # When the function handles it
    with count_aws_calls() as calls:
        answer = module.lambda_handler(event, FakeLambdaContext())

    # Then it says so and does nothing else: no AWS API is called
    assert answer == snapstart.KEPT_ACTIVE
    assert calls.by_operation() == {}


@pytest.mark.parametrize(
    "event",
    [
        {"Records": []},
        {"chorus": "keep-snapshot", "approval": {}},
        {"chorus": "keep-snapshot", "detail-type": "Email Bounced"},
        {"chorus": "keep"},
    ],
)
def test_only_the_keep_active_event_itself_skips_the_handler(event: dict[str, Any]) -> None:
    # Given a handler wrapped as the event-driven handlers are
    handled: list[dict[str, Any]] = []

    @snapstart.answers_keep_active
    def handler(received: dict[str, Any], _context: object) -> dict[str, str]:
        handled.append(received)
        return {"handled": "yes"}

    # When it receives an event that merely resembles the keep-active one, then that one
    answer = handler(event, None)
    kept = handler(dict(snapstart.KEEP_ACTIVE_EVENT), None)

    # Then the first reaches the handler's own code, the keep-active event does not
    assert answer == {"handled": "yes"}
    assert handled == [event]
    assert kept == snapstart.KEPT_ACTIVE
