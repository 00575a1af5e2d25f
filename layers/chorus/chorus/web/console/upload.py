"""/console/upload: a content or roster file goes from the browser straight to the uploads bucket
(a presigned POST form: it works without JavaScript, and a form post needs no CORS); then
/console/upload/{key}: its report, "processing" until the ingest has written it.

S3 sends the browser back to /console/upload/received with the object's key in the query (the
form names the key's prefix; S3 puts the file's name after it), which goes on to the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from chorus.domain.report import UploadKind
from chorus.errors import FieldProblem, InvalidInput
from chorus.services.uploads import checked_upload_key
from chorus.web.console.pages import console_page, session_id
from chorus.web.pages import content_security_policy

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.uploads import UploadDesk
    from chorus.web.employee.connect import CallbackBase

REPORT_PREFIX = "/console/upload/"
ROWS_PER_PAGE = 50
# How often the "processing" page asks again (a meta refresh: no script needed).
REFRESH_SECONDS = 3


def form_origin(url: str) -> str:
    """The origin a form posts to, as a CSP source (the bucket's endpoint)."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.netloc or "@" in parts.netloc:
        raise ValueError("the uploads bucket's URL is not an http(s) origin")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def report_path(key: str) -> str:
    return REPORT_PREFIX + quote(key, safe="/")


def page_number(raw: str | None, pages: int) -> int:
    if raw is None:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= max(pages, 1):
        raise InvalidInput("bad page", [FieldProblem("page", f"must be a page from 1 to {max(pages, 1)}")])
    return int(raw)


def upload_router(auth: ConsoleAuth, desk: UploadDesk, callback_base: CallbackBase) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.route("/upload", method=["GET", "HEAD"])
    def upload_page() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        context = router.current_event.request_context
        received = f"{callback_base.url(context.api_id, context.stage)}{REPORT_PREFIX}received"
        forms = [desk.form(kind, received) for kind in (UploadKind.CONTENT, UploadKind.EMPLOYEES)]
        response = console_page(200, "pages/console/upload.html.j2", session, nav="upload", forms=forms)
        response.headers["Content-Security-Policy"] = content_security_policy(
            form_origins={form_origin(form.url) for form in forms}
        )
        return response

    @router.route("/upload/received", method=["GET", "HEAD"])
    def received() -> Response[str]:
        auth.current(session_id(router.current_event))
        key = checked_upload_key((router.current_event.query_string_parameters or {}).get("key", ""))
        return Response(status_code=303, headers={"Location": report_path(key)}, body="")

    @router.route("/upload/.+", method=["GET", "HEAD"])
    def report_page() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        key = checked_upload_key(unquote(router.current_event.raw_path.split(REPORT_PREFIX, 1)[-1]))
        report = desk.report(key)
        if report is None:
            return console_page(
                200,
                "pages/console/upload_processing.html.j2",
                session,
                nav="upload",
                key=key,
                here=report_path(key),
                refresh_seconds=REFRESH_SECONDS,
            )
        pages = (len(report.errors) + ROWS_PER_PAGE - 1) // ROWS_PER_PAGE
        page = page_number((router.current_event.query_string_parameters or {}).get("page"), pages)
        first = (page - 1) * ROWS_PER_PAGE
        return console_page(
            200,
            "pages/console/upload_report.html.j2",
            session,
            nav="upload",
            key=key,
            here=report_path(key),
            report=report,
            rows=report.errors[first : first + ROWS_PER_PAGE],
            first_row=first + 1,
            page=page,
            pages=pages,
            download=desk.report_download(key),
        )

    return router
