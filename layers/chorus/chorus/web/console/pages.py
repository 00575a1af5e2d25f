"""Console pages: the shell's context, the session cookie, and errors as console pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus.domain.console import SESSION_ABSOLUTE
from chorus.errors import ChorusError, InvalidInput
from chorus.observability import logger
from chorus.services.console_auth import NotSignedIn
from chorus.web.employee.connect import cookie_value
from chorus.web.pages import PAGE_HEADERS, html_response
from chorus.web.rendering import render

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.shared.cookies import Cookie
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from chorus.domain.console import ConsoleSession

# __Host-: Secure, Path=/, no Domain: no sibling host can plant or read it.
SESSION_COOKIE = "__Host-chorus-console"
SIGN_IN_COOKIE = "__Host-chorus-console-signin"
SIGN_IN_PATH = "/console/signin"
SIGNED_OUT_PATH = "/console/signed-out"
# Messages a redirect may ask the next page to show: keys only, never text from the URL.
FLASHES = {
    "signed-out": "You are signed out.",
    "ended": "Your session has ended. Sign in again to continue.",
    "deactivated": "Deactivated: nothing more is posted in their name; their scheduled posts are cancelled.",
    # Rewards
    "reward-created": "The reward is in the catalogue.",
    "reward-restocked": "The stock was added.",
    "reward-retired": "The reward is retired: employees can no longer redeem it.",
    "redemption-fulfilled": "The redemption is marked fulfilled.",
    "content-edited": "The item is saved. Posts already approved go out exactly as approved; "
    "the new version goes out only once an employee approves it.",
    "content-retracted": "The item is retracted: it leaves the digests, and none of its scheduled posts goes out.",
    "digest-test-sent": (
        "A test copy of this digest is on its way to your address. It used up nobody's weekly digest "
        "and counts in no run."
    ),
    "digest-started": (
        "This week's digest is being planned and sent in the background. Whoever already has it "
        "this week is skipped; the history below grows as it goes."
    ),
    "review-approved": "Approved: the post is scheduled exactly as the employee wrote it, and they are told.",
    "review-rejected": "Rejected: nothing will be posted, and the employee is told with your note.",
    "review-lapsed": "This post can no longer go out (its content changed or its sharing period ended, or the "
    "employee left): nothing was scheduled, and the employee is told.",
    "review-already-decided": "This post was already decided or withdrawn: nothing changed.",
    "export-requested": "The export is being produced in the background; this page shows its files once ready.",
}


def console_page(status_code: int, template: str, session: ConsoleSession | None, **context: Any) -> Response[str]:
    shell: dict[str, Any] = {
        "lang": "en",
        "session": session,
        "csrf_token": session.csrf_token if session else "",
        "flash": None,
        "nav": "",
    }
    body = render(template, **(shell | context))
    return html_response(status_code, body)


def message_page(status_code: int, heading: str, message: str) -> Response[str]:
    response = console_page(status_code, "pages/console/message.html.j2", None, heading=heading, message=message)
    response.headers.update(PAGE_HEADERS)
    return response


def session_id(event: APIGatewayProxyEventV2) -> str | None:
    return cookie_value(event, SESSION_COOKIE)


def _cookie(name: str, value: str, max_age: int) -> Cookie:
    from aws_lambda_powertools.shared.cookies import Cookie, SameSite

    # Lax: sent on the issuer's top-level redirect back to us, never on cross-site subrequests.
    return Cookie(name, value, path="/", secure=True, http_only=True, max_age=max_age, same_site=SameSite.LAX_MODE)


def session_cookie(value: str) -> Cookie:
    return _cookie(SESSION_COOKIE, value, int(SESSION_ABSOLUTE.total_seconds()) if value else 0)


def sign_in_cookie(value: str, max_age: int) -> Cookie:
    return _cookie(SIGN_IN_COOKIE, value, max_age)


def register_console_errors(app: APIGatewayHttpResolver) -> None:
    from aws_lambda_powertools.event_handler import Response

    @app.exception_handler(NotSignedIn)
    def _not_signed_in(error: NotSignedIn) -> Response[str]:
        if app.current_event.request_context.http.method in {"GET", "HEAD"}:
            flash = "?done=ended" if session_id(app.current_event) else ""
            # The stale cookie goes too, so the next page does not read it again.
            return Response(
                status_code=303,
                headers={"Location": f"{SIGN_IN_PATH}{flash}", **PAGE_HEADERS},
                body="",
                cookies=[session_cookie("")],
            )
        response = message_page(401, "Signed out", error.message)
        response.cookies.append(session_cookie(""))
        return response

    @app.exception_handler(ChorusError)
    def _chorus_error(error: ChorusError) -> Response[str]:
        if error.http_status >= 500:
            logger.exception("console page failed", error_code=error.code)
        message = error.message
        if isinstance(error, InvalidInput) and error.problems:
            message = "; ".join(problem.reason for problem in error.problems)
        heading = {400: "Something went wrong", 403: "Not allowed", 404: "Not found"}.get(error.http_status, "Error")
        return message_page(error.http_status, heading, message)

    @app.not_found
    def _not_found(_error: Exception) -> Response[str]:
        return message_page(404, "Not found", "There is no such console page.")
