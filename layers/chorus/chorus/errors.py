"""Typed errors of the whole package.

Domain and services raise these; the HTTP edge maps them to status codes in one place
(``chorus.web.http_errors``). Adapters translate SDK errors into them (``raise ... from exc``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    """One reason a field was refused, in words an admin can act on."""

    field: str
    reason: str


class ChorusError(Exception):
    """Base of every error Chorus raises on purpose."""

    http_status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ChorusError):
    """The caller sent something we will not accept; nothing was changed."""

    http_status = 422
    code = "invalid_input"

    def __init__(self, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[FieldProblem] = problems or []


class NotAuthenticated(ChorusError):
    http_status = 401
    code = "not_authenticated"


class NotAllowed(ChorusError):
    http_status = 403
    code = "forbidden"


class NotFound(ChorusError):
    http_status = 404
    code = "not_found"


class Conflict(ChorusError):
    http_status = 409
    code = "conflict"


class PayloadTooLarge(ChorusError):
    http_status = 413
    code = "payload_too_large"


class StoreError(ChorusError):
    """DynamoDB refused or failed an operation (after the SDK's own retries)."""

    code = "store_error"


class ObjectStoreError(ChorusError):
    """S3 refused or failed an operation."""

    code = "object_store_error"


@dataclass
class ErrorBody:
    """The JSON body every error response carries."""

    code: str
    message: str
    problems: list[FieldProblem] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "message": self.message}
        if self.problems:
            body["problems"] = [{"field": p.field, "reason": p.reason} for p in self.problems]
        return body
