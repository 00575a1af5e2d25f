"""Pages are rendered from this package's templates, by the same Jinja2 set-up as emails."""

from __future__ import annotations

from typing import Any

from chorus.messages.rendering import render_from

PAGE_TEMPLATES = "chorus.web"


def render(template: str, **context: Any) -> str:
    return render_from(PAGE_TEMPLATES, template, context)
