"""Fake boto3 clients for calls moto lacks, held to botocore's service models.

A fake answers only the operations it is given. Every call's parameters are validated against
the operation's input shape and every answer against its output shape (botocore's own
ParamValidator), then botocore's after-call handlers run on it (GetTemplate decodes a JSON
template into a dict, as boto3 does), so the code under test gets what boto3 would hand it.
Recorded answers are the services' JSON response bodies, parsed by botocore's response parser
for the service's protocol (timestamps become datetimes, as from AWS). Errors are ClientErrors
with a code the operation's model declares.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.exceptions import ClientError, ParamValidationError
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.validate import ParamValidator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aws"
# Errors every AWS API may answer, whatever its model lists.
COMMON_ERRORS = frozenset({"AccessDenied", "AccessDeniedException", "ValidationError", "ThrottlingException"})

Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]] | ClientError


class ModelError(AssertionError):
    """A fake was asked or answered something the service model does not allow."""


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def service_model(service: str) -> ServiceModel:
    return _session().get_service_model(service)


def _operation(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def validate_output(service: str, operation: str, answer: Mapping[str, Any]) -> None:
    report = ParamValidator().validate(dict(answer), _operation(service, operation).output_shape)
    if report.has_errors():
        raise ModelError(f"{service} {operation} answer does not match the model:\n{report.generate_report()}")


def recorded(service: str, operation: str, name: str) -> dict[str, Any]:
    """A recorded JSON response body (tests/fixtures/aws/<name>.json), parsed as boto3 parses it."""
    model = service_model(service)
    if model.protocol not in {"rest-json", "json"}:
        raise ModelError(f"recordings are JSON bodies; {service} speaks {model.protocol}")
    body = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["body"]
    parsed = create_parser(model.protocol).parse(
        {"status_code": 200, "headers": {}, "body": json.dumps(body).encode()},
        _operation(service, operation).output_shape,
    )
    parsed.pop("ResponseMetadata", None)
    validate_output(service, operation, parsed)
    return parsed


def client_error(service: str, operation: str, code: str, message: str, status: int = 400) -> ClientError:
    declared = {shape.name for shape in _operation(service, operation).error_shapes}
    if code not in declared | COMMON_ERRORS:
        raise ModelError(f"{service} {operation} does not answer {code} (model: {sorted(declared)})")
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


class ModelledClient:
    """``ModelledClient("sesv2", {"GetAccount": {...}})``; ``calls`` lists (operation, params)."""

    def __init__(self, service: str, answers: Mapping[str, Answer]) -> None:
        self.service = service
        self._model = service_model(service)
        unknown = set(answers) - set(self._model.operation_names)
        if unknown:
            raise ModelError(f"{service} has no operation {sorted(unknown)}")
        self._answers = dict(answers)
        self._methods = {xform_name(name): name for name in self._model.operation_names}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def answer(self, operation: str, answer: Answer) -> None:
        self._answers[operation] = answer

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        operation = self._methods.get(method)
        if operation is None:
            raise AttributeError(method)

        def call(**params: Any) -> dict[str, Any]:
            return self._call(operation, params)

        return call

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        model = self._model.operation_model(operation)
        if model.input_shape is not None:
            report = ParamValidator().validate(params, model.input_shape)
            if report.has_errors():
                raise ParamValidationError(report=report.generate_report())
        elif params:
            raise ParamValidationError(report=f"{operation} takes no parameters, got {sorted(params)}")
        self.calls.append((operation, params))
        if operation not in self._answers:
            raise ModelError(f"the fake {self.service} client was not given an answer to {operation}")
        answer = self._answers[operation]
        if isinstance(answer, ClientError):
            raise answer
        produced = dict(answer(params) if callable(answer) else answer)
        validate_output(self.service, operation, produced)
        # What botocore does after parsing a real response (e.g. GetTemplate's JSON decoding).
        _session().get_component("event_emitter").emit(
            f"after-call.{self._model.service_id.hyphenize()}.{operation}",
            http_response=None,
            parsed=produced,
            model=model,
            context={},
        )
        return produced
