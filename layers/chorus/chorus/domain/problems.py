"""Turns pydantic validation errors into the admin-facing (field, reason) pairs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from chorus.errors import FieldProblem

_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_problems(exc: ValidationError, *, prefix: str = "") -> list[FieldProblem]:
    return problems_of(exc.errors(include_url=False), prefix=prefix)


def problems_of(errors: Iterable[Mapping[str, Any]], *, prefix: str = "", skip: int = 0) -> list[FieldProblem]:
    """pydantic's error details (``skip``: leading parts of each location left out, such as
    the "body" or "query" a router puts first)."""
    problems: list[FieldProblem] = []
    for error in errors:
        location = ".".join(str(part) for part in tuple(error["loc"])[skip:]) or str(error["loc"][0])
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
