"""Metrics are EMF lines on stdout (one per count, with its own dimensions); tracing wraps each
handler once, without its response; the OAuth libraries never log token bodies."""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chorus import observability
from chorus.observability import count, traced
from tests.support.emf import emf_records

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def test_a_count_is_one_emf_line_with_its_own_dimensions(monkeypatch, capsys) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Chorus/unit")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "chorus")

    count({"Approvals": 1}, network="x")
    count({"Approvals": 1}, network="mastodon")
    count({"DigestsSent": 3, "DigestsFailed": 0})

    records = emf_records(capsys.readouterr().out)
    assert records == [
        {"Approvals": [1.0], "network": "x", "service": "chorus", "_namespace": "Chorus/unit"},
        {"Approvals": [1.0], "network": "mastodon", "service": "chorus", "_namespace": "Chorus/unit"},
        {"DigestsSent": [3.0], "DigestsFailed": [0.0], "service": "chorus", "_namespace": "Chorus/unit"},
    ]


def test_without_a_namespace_the_metric_is_lost_not_the_action(monkeypatch, capsys) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)

    count({"Approvals": 1}, network="x")  # does not raise

    assert emf_records(capsys.readouterr().out) == []


class FakeTracer:
    def __init__(self) -> None:
        self.wrapped: list[dict[str, Any]] = []

    def capture_lambda_handler(self, handler: Any, **options: Any) -> Any:
        self.wrapped.append(options)

        def run(event: Any, context: Any) -> Any:
            return {"traced": handler(event, context)}

        return run


def test_a_handler_is_wrapped_once_on_its_first_invocation_without_its_response(monkeypatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    tracer = FakeTracer()
    monkeypatch.setattr(observability, "tracer", lambda: tracer)

    @traced
    def lambda_handler(event: dict[str, int], context: Any) -> int:
        return event["n"] * 2

    assert tracer.wrapped == []  # nothing made at import
    assert [lambda_handler({"n": n}, None) for n in (1, 2)] == [{"traced": 2}, {"traced": 4}]
    assert tracer.wrapped == [{"capture_response": False}]
    assert lambda_handler.__name__ == "lambda_handler"


def test_with_tracing_off_no_tracer_is_made(monkeypatch) -> None:
    # Given tracing off (the template's default)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    tracer = FakeTracer()
    monkeypatch.setattr(observability, "tracer", lambda: tracer)

    @traced
    def lambda_handler(event: dict[str, int], context: Any) -> int:
        return event["n"] * 2

    # When the handler runs, Then it answers itself and no Tracer was asked for
    assert [lambda_handler({"n": n}, None) for n in (1, 2)] == [2, 4]
    assert tracer.wrapped == []


@pytest.mark.parametrize(("disabled", "loaded"), [("true", False), ("false", True)])
def test_the_x_ray_sdk_is_loaded_only_when_tracing_is_on(disabled: str, loaded: bool) -> None:
    """What a cold start pays: a fresh interpreter, a traced handler's first invocation."""
    program = (
        "import sys\n"
        "from chorus.observability import traced\n"
        "traced(lambda event, context: None)({}, None)\n"
        "print('aws_xray_sdk' in sys.modules)\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(FUNCTIONS.parent / "layers" / "chorus"),
        "POWERTOOLS_TRACE_DISABLED": disabled,
        "AWS_REGION": "eu-west-1",
    }
    ran = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    assert ran.stdout.strip().splitlines()[-1] == str(loaded)


@pytest.mark.parametrize("path", sorted(FUNCTIONS.glob("*/*_handler.py")), ids=lambda path: path.stem)
def test_every_handler_logs_and_is_traced(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    (handler,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "lambda_handler"]
    decorators = [ast.unparse(decorator) for decorator in handler.decorator_list]
    assert decorators[0].startswith("logger.inject_lambda_context(") and decorators[1] == "traced"
    # The only other: SnapStart's daily keep-active event answered inside them (logged, traced).
    assert decorators[2:] in ([], ["answers_keep_active"])


def test_the_oauth_libraries_never_log_token_bodies_even_at_debug() -> None:
    # Given a function running at DEBUG (what an operator sets while investigating)
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        # Then the loggers requests-oauthlib and oauthlib print token responses through stay silent
        for name in ("requests_oauthlib.oauth2_session", "oauthlib.oauth2.rfc6749.clients.base"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
    finally:
        root.setLevel(previous)
