"""Key layout of the single table. Only the store package builds or reads keys."""

from __future__ import annotations

PROFILE = "PROFILE"
META = "META"
ROSTER_ACTIVE = "ROSTER#active"
CONTENT_ACTIVE = "CONTENT#active"


def employee_pk(employee_id: str) -> str:
    return f"EMP#{employee_id}"


def content_pk(content_id: str) -> str:
    return f"CONTENT#{content_id}"


def email_lookup(email: str) -> str:
    return f"EMAIL#{email}"
