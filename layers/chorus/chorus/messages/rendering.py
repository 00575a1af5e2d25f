"""Jinja2 rendering of emails and pages; autoescape is on for every template."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

EMAIL_TEMPLATES = "chorus.messages"


@cache
def environment(package: str) -> Environment:
    """The templates under ``<package>/templates``: emails here, pages in ``chorus.web``."""
    # Imported on the first render: the publisher and the sweeper wire an email channel but
    # rarely send (about 15 ms of their cold start, bench/cold_start.py).
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader(package, "templates"),
        # Plain-text mail is escaped too: nothing in a .txt template is HTML, but a title with
        # '<' must come out as typed, so text templates opt out explicitly below.
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_from(package: str, template: str, context: Mapping[str, Any]) -> str:
    return environment(package).get_template(template).render(**context)


def render(template: str, **context: Any) -> str:
    return render_from(EMAIL_TEMPLATES, template, context)


def render_text(template: str, **context: Any) -> str:
    """For text/plain mail bodies: no HTML escaping (nothing is interpreted as HTML there)."""
    env = environment(EMAIL_TEMPLATES).overlay(autoescape=False)
    return env.get_template(template).render(**context)
