"""HTML responses for employee pages: security headers on every one, errors as pages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from chorus.domain.branding import Brand, https_origin
from chorus.errors import ChorusError, InvalidInput
from chorus.messages.i18n import Counter, language_of, translator
from chorus.observability import logger
from chorus.web.rendering import render

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def content_security_policy(image_origins: Iterable[str] = (), form_origins: Iterable[str] = ()) -> str:
    """Scripts and styles only from us (no inline ones), images from us and the named https
    origins only: the company's logo, and on an activity page its content's image. Forms post to
    us, and to the named origins only (the console's upload form posts to the uploads bucket).
    Scripts may call us only (the approval page's "opened" beacon)."""
    images = " ".join(["'self'", *sorted(set(image_origins))])
    forms = " ".join(["'self'", *sorted(set(form_origins))])
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; connect-src 'self'; "
        f"form-action {forms}; frame-ancestors 'none'; base-uri 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
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


# The company's brand for the request being answered (a Lambda environment answers one at a
# time); set by ``branded`` before anything renders, error pages included.
_UNBRANDED = Brand()  # frozen
_BRAND: ContextVar[Brand] = ContextVar("chorus_brand", default=_UNBRANDED)


def branded(brand: Brand) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response[str]]:
    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
        _BRAND.set(brand)
        return next_middleware(app)

    return middleware


def _origins(urls: Iterable[str]) -> list[str]:
    origins = []
    for url in urls:
        try:
            origins.append(https_origin(url))
        except ValueError:
            continue  # not shown: the CSP does not name it, so the browser does not load it
    return origins


def page(
    status_code: int, template: str, locale: str, *, image_urls: Iterable[str] = (), **context: Any
) -> Response[str]:
    """A page in the employee's language and the company's brand; its CSP names the image
    origins of the images it shows (``image_urls``)."""
    brand = _BRAND.get()
    response = html_response(
        status_code,
        render(
            template, t=translator(locale), lang=language_of(locale), counted=Counter(locale), brand=brand, **context
        ),
    )
    logo = [brand.logo_url] if brand.logo_url else []
    response.headers["Content-Security-Policy"] = content_security_policy(_origins([*logo, *image_urls]))
    return response


# The largest form a person can send from our pages: every network's text at its limit, each
# character a 4-byte emoji percent-encoded as 12 bytes, is far below this (see the unit test).
MAX_FORM_BYTES = 128 * 1024


class FormRejected(ChorusError):
    """A form body our pages never send: a field twice, an unknown or excess field, too large,
    unreadable. Nothing is recorded."""

    http_status = 400
    code = "bad_form"


@dataclass(frozen=True)
class FormSpec:
    """The fields one form may send: each ``single`` field at most once; each ``repeated`` field
    (checkboxes) at most its count of times, every value distinct. ``multipart`` admits
    multipart/form-data (RFC 8058 one-click unsubscribe POSTs may use it)."""

    single: frozenset[str]
    repeated: Mapping[str, int] = field(default_factory=dict)
    multipart: bool = False

    @property
    def max_fields(self) -> int:
        return len(self.single) + sum(self.repeated.values())


@dataclass(frozen=True)
class Form:
    fields: dict[str, list[str]]

    def one(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))


def read_form(event: APIGatewayProxyEventV2, spec: FormSpec) -> Form:
    """The posted form, checked against ``spec`` before anything reads it (FormRejected, 400)."""
    raw = body_bytes(
        event,
        MAX_FORM_BYTES,
        too_large=FormRejected("this form is too large; nothing was recorded"),
        unreadable=FormRejected("this form could not be read; nothing was recorded"),
    )
    content_type = (event.headers.get("content-type") or "").strip()
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in {"", "application/x-www-form-urlencoded"}:
        pairs = _urlencoded_pairs(raw, spec.max_fields)
    elif media_type == "multipart/form-data" and spec.multipart:
        pairs = _multipart_pairs(raw, content_type, spec.max_fields)
    else:
        raise FormRejected("this form could not be read; nothing was recorded")
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    for name, values in fields.items():
        limit = 1 if name in spec.single else spec.repeated.get(name, 0)
        if len(values) > limit or len(set(values)) != len(values):
            raise FormRejected("this form was sent with unexpected or repeated fields; nothing was recorded")
    return Form(fields)


def body_bytes(event: APIGatewayProxyEventV2, max_bytes: int, *, too_large: Exception, unreadable: Exception) -> bytes:
    """The request body exactly as the client sent it (API Gateway's base64 undone), refused with
    ``too_large`` past ``max_bytes`` and with ``unreadable`` when it cannot be decoded."""
    body = event.body or ""
    # Checked before decoding too: base64 is 4/3 of the bytes it carries.
    if len(body) > max_bytes * 4 // 3 + 4:
        raise too_large
    try:
        raw = base64.b64decode(body, validate=True) if event.is_base64_encoded else body.encode("utf-8")
    except (binascii.Error, ValueError):
        raise unreadable from None
    if len(raw) > max_bytes:
        raise too_large
    return raw


def _urlencoded_pairs(raw: bytes, max_fields: int) -> list[tuple[str, str]]:
    try:
        text = raw.decode("utf-8")
        if not text:
            return []
        return parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict", max_num_fields=max_fields)
    except ValueError:  # too many fields, a pair without "=", bytes that are not UTF-8
        raise FormRejected("this form could not be read; nothing was recorded") from None


def _multipart_pairs(raw: bytes, content_type: str, max_fields: int) -> list[tuple[str, str]]:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    if not isinstance(message, EmailMessage) or not message.is_multipart() or message.defects:
        raise FormRejected("this form could not be read; nothing was recorded")
    pairs: list[tuple[str, str]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes) or part.defects or len(pairs) >= max_fields:
            raise FormRejected("this form could not be read; nothing was recorded")
        try:
            pairs.append((name, payload.decode("utf-8")))
        except UnicodeDecodeError:
            raise FormRejected("this form could not be read; nothing was recorded") from None
    return pairs


def _with_page_headers(response: Response[str]) -> None:
    """The security headers on a page answered outside the middlewares; its own CSP stays."""
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)


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
        _with_page_headers(response)
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
        _with_page_headers(response)
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
        _with_page_headers(response)
        return response
