"""Turns pydantic validation errors into the admin-facing (field, reason) pairs."""

from __future__ import annotations

from pydantic import ValidationError

from chorus.errors import FieldProblem

_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_problems(exc: ValidationError, *, prefix: str = "") -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"])
        reason = str(error["msg"])
        if error["type"] == "missing":
            reason = "is required"
        elif error["type"] == "extra_forbidden":
            reason = "is not a known field"
        for known in _PREFIXES:
            if reason.startswith(known):
                reason = reason[len(known) :]
        problems.append(FieldProblem(field=f"{prefix}{location}", reason=reason))
    return problems
