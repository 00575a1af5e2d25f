"""/console/signin (GET: the page, POST: go to the issuer), /console/callback (the issuer's answer)
and /console/signout (POST with the CSRF token).

GET never writes: the sign-in record is made by the POST, which also gives the browser the
HttpOnly cookie binding the record to it. Tokens never reach a URL we make or a log line; the
issuer's code and state are in the callback's query, as OIDC requires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.console import SIGN_IN_LIFETIME
from chorus.errors import NotAllowed
from chorus.services.console_auth import NotSignedIn, SignInRefused
from chorus.web.console.pages import (
    FLASHES,
    SIGN_IN_COOKIE,
    SIGNED_OUT_PATH,
    console_page,
    message_page,
    session_cookie,
    session_id,
    sign_in_cookie,
)
from chorus.web.employee.connect import cookie_value
from chorus.web.pages import FormSpec, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.console_auth import ConsoleAuth
    from chorus.web.employee.connect import CallbackBase

SIGN_IN_FORM = FormSpec(single=frozenset())
SIGN_OUT_FORM = FormSpec(single=frozenset({"csrf"}))


def signin_router(auth: ConsoleAuth, callback_base: CallbackBase) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def base_url() -> str:
        context = router.current_event.request_context
        return callback_base.url(context.api_id, context.stage)

    def redirect(location: str) -> Response[str]:
        return Response(status_code=303, headers={"Location": location}, body="")

    @router.route("/signin", method=["GET", "HEAD"])
    def signin_page() -> Response[str]:
        done = (router.current_event.query_string_parameters or {}).get("done", "")
        return console_page(200, "pages/console/signin.html.j2", None, flash=FLASHES.get(done))

    # Where the issuer's end-session returns (no query: Cognito matches its sign-out URLs exactly).
    @router.route("/signed-out", method=["GET", "HEAD"])
    def signed_out_page() -> Response[str]:
        return console_page(200, "pages/console/signin.html.j2", None, flash=FLASHES["signed-out"])

    @router.post("/signin")
    def start() -> Response[str]:
        read_form(router.current_event, SIGN_IN_FORM)
        started = auth.begin(f"{base_url()}/console/callback")
        response = redirect(started.authorization_url)
        response.cookies.append(sign_in_cookie(started.browser_secret, int(SIGN_IN_LIFETIME.total_seconds())))
        return response

    @router.get("/callback")
    def callback() -> Response[str]:
        query = router.current_event.query_string_parameters or {}
        browser_secret = cookie_value(router.current_event, SIGN_IN_COOKIE)
        try:
            if query.get("error"):
                raise SignInRefused("the sign-in was cancelled or refused by the identity provider; nothing changed")
            code, state = query.get("code"), query.get("state")
            if not code or not state:
                raise SignInRefused("this sign-in answer is incomplete; sign in again")
            opened = auth.complete(code=code, state=state, browser_secret=browser_secret)
            auth.replace(session_id(router.current_event))
        except (SignInRefused, NotAllowed) as error:
            heading = "Not an administrator" if isinstance(error, NotAllowed) else "Not signed in"
            refused = message_page(error.http_status, heading, error.message)
            # Whatever the outcome, the one-use binding cookie is spent.
            refused.cookies.append(sign_in_cookie("", 0))
            return refused
        response = redirect("/console")
        response.cookies.extend([sign_in_cookie("", 0), session_cookie(opened.session_id)])
        return response

    @router.post("/signout")
    def signout() -> Response[str]:
        form = read_form(router.current_event, SIGN_OUT_FORM)
        try:
            session = auth.current(session_id(router.current_event))
        except NotSignedIn:
            response = redirect(SIGNED_OUT_PATH)
            response.cookies.append(session_cookie(""))
            return response
        end_session = auth.sign_out(session, form.one("csrf"), return_to=f"{base_url()}{SIGNED_OUT_PATH}")
        response = redirect(end_session or SIGNED_OUT_PATH)
        response.cookies.append(session_cookie(""))
        return response

    return router
