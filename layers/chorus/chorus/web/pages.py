"""HTML responses for employee pages: security headers on every one, errors as pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from chorus.errors import ChorusError, InvalidInput
from chorus.observability import logger
from chorus.web.i18n import language_of, translator
from chorus.web.rendering import render

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def html_response(status_code: int, body: str) -> Response[str]:
    from aws_lambda_powertools.event_handler import Response

    return Response(status_code=status_code, content_type="text/html; charset=utf-8", body=body)


def page(status_code: int, template: str, locale: str, **context: Any) -> Response[str]:
    return html_response(status_code, render(template, t=translator(locale), lang=language_of(locale), **context))


def form_fields(body: str | None) -> dict[str, list[str]]:
    return parse_qs(body or "", keep_blank_values=True, max_num_fields=200)


def first(fields: dict[str, list[str]], name: str, default: str = "") -> str:
    values = fields.get(name)
    return values[0] if values else default


def request_locale(app: APIGatewayHttpResolver) -> str:
    header = app.current_event.headers.get("accept-language") or "en"
    return header.split(",", 1)[0].strip() or "en"


def security_headers(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    response = next_middleware(app)
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    if app.current_event.request_context.http.method == "HEAD":
        response.body = ""
    return response


def _cross_site(app: APIGatewayHttpResolver) -> bool:
    headers = app.current_event.headers
    # Fetch metadata is the reliable signal: with Referrer-Policy no-referrer, browsers send
    # "Origin: null" even for our own forms, so Origin is only compared when it is a real origin.
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in {"same-origin", "none"}
    origin = headers.get("origin")
    host = headers.get("host") or app.current_event.request_context.domain_name
    return bool(origin) and origin != "null" and urlsplit(origin).netloc != host


def same_origin_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    """A form posted from another site is refused. Mail clients' RFC 8058 one-click unsubscribe
    (a server-side POST without fetch metadata or Origin) passes."""
    if app.current_event.request_context.http.method == "POST" and _cross_site(app):
        logger.warning("cross-site form refused")
        response = page(
            403,
            "pages/message.html.j2",
            request_locale(app),
            heading="Forbidden",
            message="This form must be sent from the Chorus page.",
            me_link=None,
        )
        response.headers.update(PAGE_HEADERS)
        return response
    return next_middleware(app)


def register_page_errors(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(ChorusError)
    def _chorus_error(error: ChorusError) -> Response[str]:
        if error.http_status >= 500:
            logger.exception("page failed", error_code=error.code)
        locale = request_locale(app)
        t = translator(locale)
        message = error.message
        if isinstance(error, InvalidInput) and error.problems:
            message = "; ".join(problem.reason for problem in error.problems)
        response = page(
            error.http_status, "pages/message.html.j2", locale, heading=t["error_title"], message=message, me_link=None
        )
        response.headers.update(PAGE_HEADERS)
        return response

    @app.not_found
    def _not_found(_error: Exception) -> Response[str]:
        response = page(
            404,
            "pages/message.html.j2",
            request_locale(app),
            heading="Not found",
            message="There is no such page.",
            me_link=None,
        )
        response.headers.update(PAGE_HEADERS)
        return response
