"""One page of a listing, and where the next one starts (None: this was the last)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_token: dict[str, Any] | None
