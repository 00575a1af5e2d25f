"""Page cursors of the admin API and the console: a listing's DynamoDB LastEvaluatedKey, opaque
to the client (URL-safe base64 of its JSON), and the page size an admin API caller may ask for.

Only admins page through listings, and DynamoDB itself refuses a start key outside the queried
partition or index; a cursor that is not one we issued is refused as bad input, never a 500."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chorus.errors import FieldProblem, InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

_NOT_OURS = FieldProblem("next", "is not a token from a previous page")


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("bad page token", [_NOT_OURS]) from exc
    if not isinstance(decoded, dict) or not all(isinstance(value, str) for value in decoded.values()):
        raise InvalidInput("bad page token", [_NOT_OURS])
    return decoded


def page_size(raw: str | None) -> int:
    """The ``limit`` an admin API caller asked for (DEFAULT_PAGE_SIZE without one)."""
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput(
            "bad page size", [FieldProblem("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")]
        )
    return int(raw)
