"""Jinja2 rendering of pages and emails; autoescape is on for every template."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("chorus.web", "templates"),
        # Plain-text mail is escaped too: nothing in a .txt template is HTML, but a title with
        # '<' must come out as typed, so text templates opt out explicitly below.
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render_text(template: str, **context: Any) -> str:
    """For text/plain mail bodies: no HTML escaping (nothing is interpreted as HTML there)."""
    env = environment().overlay(autoescape=False)
    return env.get_template(template).render(**context)
