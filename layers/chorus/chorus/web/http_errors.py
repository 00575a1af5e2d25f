"""Maps typed errors to HTTP responses, in one place for every resolver."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import ValidationError

from chorus.domain.problems import field_problems, problems_of
from chorus.errors import ChorusError, ErrorBody, InvalidInput
from chorus.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def json_response(status_code: int, body: object) -> Response[str]:
    from aws_lambda_powertools.event_handler import Response

    return Response(
        status_code=status_code,
        content_type="application/json",
        body=json.dumps(body, default=str),
        headers=dict(JSON_HEADERS),
    )


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(ChorusError)
    def _chorus_error(error: ChorusError) -> Response[str]:
        if error.http_status >= 500:
            logger.exception("request failed", error_code=error.code)
        problems = error.problems if isinstance(error, InvalidInput) else []
        return json_response(error.http_status, ErrorBody(error.code, error.message, problems).to_dict())

    @app.exception_handler(ValidationError)
    def _invalid_body(error: ValidationError) -> Response[str]:
        body = ErrorBody("invalid_input", "the request body is not valid", field_problems(error))
        return json_response(422, body.to_dict())

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        # The router's own validation (enable_validation): locations start with "body" or "query".
        body = ErrorBody("invalid_input", "the request body is not valid", problems_of(error.errors(), skip=1))
        return json_response(422, body.to_dict())

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(_error: RequestUnsupportedContentType) -> Response[str]:
        body = ErrorBody("unsupported_media_type", "send the body as JSON (content-type: application/json)")
        return json_response(415, body.to_dict())

    @app.not_found
    def _not_found(_error: Exception) -> Response[str]:
        return json_response(404, ErrorBody("not_found", "no such route").to_dict())
