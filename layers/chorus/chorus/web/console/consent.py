"""/console/consent: the consent ledger, searched by employee (address or id) or by content id.
Each approval shows the exact text per network, its SHA-256 as recorded, when (UTC and the
employee's time zone), where (page or Slack) and what became of it. Read only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.ledger import LedgerSearch, SearchBy
from chorus.errors import InvalidInput
from chorus.web.console.pages import console_page, session_id
from chorus.web.cursors import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.ledger import ConsentLedger

PAGE_SIZE = 20


def consent_router(auth: ConsoleAuth, ledger: ConsentLedger) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.route("/consent", method=["GET", "HEAD"])
    def consent_page() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        query = router.current_event.query_string_parameters or {}
        by, raw = query.get("by", SearchBy.EMPLOYEE.value), query.get("q", "")
        context: dict[str, object] = {"by": by, "q": raw, "entries": None, "problem": None, "next_query": None}
        status = 200
        if raw.strip():
            try:
                search = LedgerSearch.parse(by, raw)
            except InvalidInput as refused:
                status, context["problem"] = 400, "; ".join(problem.reason for problem in refused.problems)
            else:
                cursor = query.get("next")
                page = ledger.search(search, PAGE_SIZE, decode_cursor(cursor))
                context |= {"entries": page.items, "first_page": not cursor}
                if next_token := encode_cursor(page.next_token):
                    context["next_query"] = {"by": search.by.value, "q": raw, "next": next_token}
        return console_page(status, "pages/console/consent.html.j2", session, nav="consent", **context)

    return router
