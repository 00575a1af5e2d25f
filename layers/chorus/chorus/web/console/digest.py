"""/console/digest: preview this week's digest as an employee (inert links), send a test copy to
the signed-in admin, send the week's digest now (as POST /admin/digests does), and the history of
the weeks' runs with their counts."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chorus import clock
from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger
from chorus.web.console.pages import FLASHES, console_page, session_id
from chorus.web.pages import FormSpec, html_response, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.digest import DigestPlanner, DigestPreviews

DIGEST_PATH = "/console/digest"
FIND_FORM = FormSpec(single=frozenset({"csrf", "employee"}))
TEST_FORM = FormSpec(single=frozenset({"csrf", "employee"}))
SEND_FORM = FormSpec(single=frozenset({"csrf", "confirm"}))
# Employee ids in the console's URLs: pseudonymous, never an address (URLs reach history and logs).
_EMPLOYEE_ID = re.compile(r"^[A-Za-z0-9_.:#-]{1,128}$")
# The preview's HTML is the email, inline styles and remote images included; sandbox (no
# allow-*): no script, no form, no navigation; it may be framed by the console only.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src https:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox"
)
DIGEST_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _employee_id(raw: str | None) -> str | None:
    if not raw:
        return None
    if not _EMPLOYEE_ID.fullmatch(raw):
        raise InvalidInput("bad employee", [FieldProblem("employee", "is not an employee id")])
    return raw


def digest_router(auth: ConsoleAuth, previews: DigestPreviews, planner: DigestPlanner) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def query(name: str) -> str | None:
        return (router.current_event.query_string_parameters or {}).get(name)

    def see(location: str) -> Response[str]:
        return Response(status_code=303, headers={"Location": location}, body="")

    @router.route("/digest", method=["GET", "HEAD"])
    def digest_page() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        employee_id = _employee_id(query("employee"))
        preview = previews.preview(employee_id) if employee_id else None
        response = console_page(
            200,
            "pages/console/digest.html.j2",
            session,
            nav="digest",
            flash=FLASHES.get(query("done") or ""),
            preview=preview,
            preview_src=f"{DIGEST_PATH}/preview.html?{urlencode({'employee': employee_id})}" if employee_id else "",
            history=planner.history(clock.now()),
            can_test=bool(session.email),
        )
        response.headers["Content-Security-Policy"] = DIGEST_PAGE_CSP
        return response

    @router.route("/digest/preview.html", method=["GET", "HEAD"])
    def preview_html() -> Response[str]:
        auth.current(session_id(router.current_event))
        employee_id = _employee_id(query("employee"))
        if employee_id is None:
            raise InvalidInput("whose digest?", [FieldProblem("employee", "an employee id")])
        response = html_response(200, previews.preview(employee_id).message.html)
        response.headers["Content-Security-Policy"] = PREVIEW_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    @router.post("/digest/find")
    def find() -> Response[str]:
        form = read_form(router.current_event, FIND_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        # An address is looked up here and the page reloads by id: the address never reaches a URL.
        employee = previews.find(form.one("employee"))
        return see(f"{DIGEST_PATH}?{urlencode({'employee': employee.employee_id})}")

    @router.post("/digest/test")
    def send_test() -> Response[str]:
        form = read_form(router.current_event, TEST_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        employee_id = _employee_id(form.one("employee"))
        if employee_id is None:
            raise InvalidInput("whose digest?", [FieldProblem("employee", "an employee id")])
        week_id = previews.send_test(employee_id, session.email)
        logger.info("digest test requested", admin=session.subject, employee_id=employee_id, week_id=week_id)
        return see(f"{DIGEST_PATH}?{urlencode({'employee': employee_id, 'done': 'digest-test-sent'})}")

    @router.post("/digest/send")
    def send_now() -> Response[str]:
        form = read_form(router.current_event, SEND_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        if form.one("confirm") != "yes":
            raise InvalidInput("not confirmed", [FieldProblem("confirm", "tick the box to confirm; nothing was sent")])
        started = planner.start(clock.now(), uuid.uuid4().hex)
        logger.info("digest requested", admin=session.subject, week_id=started.week_id, run_id=started.run_id)
        return see(f"{DIGEST_PATH}?done=digest-started")

    return router
