"""/unsubscribe?t=...: GET asks, POST unsubscribes (a button, or a mail client's RFC 8058 one-click).

The unsubscribe link travels in a mail header that providers' machines handle: it only
unsubscribes, and every other page refuses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.magic_links import LinkRejected, Purpose
from chorus.web.pages import FormSpec, page, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.consent import ConsentService

# Our button sends "confirm"; RFC 8058 mail clients send "List-Unsubscribe=One-Click", as
# multipart/form-data (SHOULD) or urlencoded (MAY).
UNSUBSCRIBE_FORM = FormSpec(single=frozenset({"confirm", "List-Unsubscribe"}), multipart=True)


def unsubscribe_router(consent: ConsentService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def token_param() -> str:
        token = (router.current_event.query_string_parameters or {}).get("t")
        if not token:
            raise LinkRejected("this page needs the link from your email")
        return token

    @router.route("/unsubscribe", method=["GET", "HEAD"])
    def ask() -> Response[str]:
        token = token_param()
        consent.claims(token, Purpose.UNSUBSCRIBE)
        return page(200, "pages/unsubscribe.html.j2", "en", done=False, action=f"/unsubscribe?t={token}")

    @router.post("/unsubscribe")
    def unsubscribe() -> Response[str]:
        token = token_param()
        consent.claims(token, Purpose.UNSUBSCRIBE)
        read_form(router.current_event, UNSUBSCRIBE_FORM)
        consent.unsubscribe(token)
        return page(200, "pages/unsubscribe.html.j2", "en", done=True, action="")

    return router
