"""/console/people: the active roster page by page, an employee found by address, one employee's
status, groups, posts and points, and deactivation (the lifecycle service every path uses: it
cancels their scheduled posts and deletes their social tokens).

An address is looked up by a POST (it never goes into a URL, where browser histories and logs
would keep it); what follows is the employee's pseudonymous id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from chorus.errors import FieldProblem, InvalidInput
from chorus.observability import logger
from chorus.web.console.pages import FLASHES, console_page, session_id
from chorus.web.cursors import decode_cursor, encode_cursor
from chorus.web.pages import FormSpec, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.lifecycle import LifecycleService
    from chorus.services.people import PeopleService

ROSTER_PAGE_SIZE = 50
FIND_FORM = FormSpec(single=frozenset({"csrf", "email"}))
DEACTIVATE_FORM = FormSpec(single=frozenset({"csrf", "confirm"}))


def person_path(employee_id: str) -> str:
    return f"/console/people/{quote(employee_id, safe='')}"


def people_router(auth: ConsoleAuth, people: PeopleService, lifecycle: LifecycleService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def query() -> dict[str, str]:
        return router.current_event.query_string_parameters or {}

    def see_other(location: str) -> Response[str]:
        return Response(status_code=303, headers={"Location": location}, body="")

    @router.route("/people", method=["GET", "HEAD"])
    def roster() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        page = people.roster_page(ROSTER_PAGE_SIZE, decode_cursor(query().get("next")))
        return console_page(
            200,
            "pages/console/people.html.j2",
            session,
            nav="people",
            flash=FLASHES.get(query().get("done", "")),
            employees=page.items,
            next_token=encode_cursor(page.next_token),
            first_page=not query().get("next"),
        )

    @router.post("/people/find")
    def find() -> Response[str]:
        form = read_form(router.current_event, FIND_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        email = form.one("email").strip()
        if not 3 <= len(email) <= 254 or "@" not in email:
            raise InvalidInput("bad address", [FieldProblem("email", "enter the employee's whole email address")])
        employee = people.find(email)
        return see_other(person_path(employee.employee_id))

    @router.route("/people/<employee_id>", method=["GET", "HEAD"])
    def person(employee_id: str) -> Response[str]:
        session = auth.current(session_id(router.current_event))
        found = people.person(employee_id)
        logger.info("employee viewed in the console", employee_id=employee_id, admin=session.subject)
        return console_page(
            200,
            "pages/console/person.html.j2",
            session,
            nav="people",
            flash=FLASHES.get(query().get("done", "")),
            person=found,
            employee=found.employee,
            here=person_path(employee_id),
        )

    @router.post("/people/<employee_id>/deactivate")
    def deactivate(employee_id: str) -> Response[str]:
        form = read_form(router.current_event, DEACTIVATE_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        if form.one("confirm") != "yes":
            raise InvalidInput(
                "not confirmed", [FieldProblem("confirm", "tick the box to confirm the deactivation; nothing changed")]
            )
        withdrawal = lifecycle.deactivate(employee_id)
        logger.info(
            "employee deactivated in the console",
            employee_id=employee_id,
            admin=session.subject,
            posts_cancelled=withdrawal.posts_cancelled,
        )
        return see_other(f"{person_path(employee_id)}?done=deactivated")

    return router
