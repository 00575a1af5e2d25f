"""Exports from the console: the consent ledger for an auditor (a search, or every approval decided
in a range of days) and the redemptions. A POST (CSRF checked) records the export and queues it
for the report function, then redirects (303) to the export's status page: pending, ready (the
download links and how long they work), or failed. The status page only reads; its links are
signed anew each time it is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.exports import LedgerCriteria
from chorus.domain.ledger import LedgerSearch, SearchBy
from chorus.domain.points_report import EXPORT_ID, ExportKind
from chorus.errors import InvalidInput, NotFound
from chorus.observability import logger
from chorus.web.console.pages import FLASHES, console_page, session_id
from chorus.web.pages import FormSpec, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.points_report import Export
    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.exports import ExportDesk
    from chorus.services.ledger import ConsentLedger

LEDGER_EXPORT_FORM = FormSpec(single=frozenset({"csrf", "scope", "by", "q", "from", "to"}))
CSRF_ONLY_FORM = FormSpec(single=frozenset({"csrf"}))


def describe(export: Export) -> str:
    """What the export holds, as its status page names it."""
    if export.kind is ExportKind.LEDGER:
        return "Consent ledger: " + LedgerCriteria.model_validate(export.criteria).describe()
    if export.kind is ExportKind.REDEMPTIONS:
        return "Redemptions: every one still to hand over and every one fulfilled"
    return f"Points report: {export.period_key}"


def exports_router(auth: ConsoleAuth, exports: ExportDesk, ledger: ConsentLedger) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def to_status(export: Export) -> Response[str]:
        location = f"/console/exports/{export.export_id}?done=export-requested"
        return Response(status_code=303, headers={"Location": location}, body="")

    @router.post("/consent/export")
    def export_ledger() -> Response[str]:
        form = read_form(router.current_event, LEDGER_EXPORT_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        entered = {name: form.one(name) for name in ("by", "q", "from", "to")}
        try:
            if form.one("scope") == "days":
                criteria = LedgerCriteria.of_days(entered["from"], entered["to"], exports.today())
            else:
                criteria = LedgerCriteria.of_search(ledger.pinned(LedgerSearch.parse(entered["by"], entered["q"])))
        except InvalidInput as refused:
            return console_page(
                400,
                "pages/console/consent.html.j2",
                session,
                nav="consent",
                by=entered["by"] or SearchBy.EMPLOYEE.value,
                q=entered["q"],
                entries=None,
                problem=None,
                next_query=None,
                export_entered=entered,
                export_errors={problem.field: problem.reason for problem in refused.problems},
            )
        export = exports.request(ExportKind.LEDGER, criteria.as_record())
        logger.info("ledger export requested in the console", export_id=export.export_id, admin=session.subject)
        return to_status(export)

    @router.post("/rewards/export")
    def export_redemptions() -> Response[str]:
        form = read_form(router.current_event, CSRF_ONLY_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        export = exports.request(ExportKind.REDEMPTIONS)
        logger.info("redemptions export requested in the console", export_id=export.export_id, admin=session.subject)
        return to_status(export)

    @router.route("/exports/<export_id>", method=["GET", "HEAD"])
    def export_status(export_id: str) -> Response[str]:
        session = auth.current(session_id(router.current_event))
        if not EXPORT_ID.fullmatch(export_id):
            raise NotFound("no such export (exports are kept 7 days)")
        view = exports.view(export_id)
        query = router.current_event.query_string_parameters or {}
        return console_page(
            200,
            "pages/console/export.html.j2",
            session,
            nav="consent" if view.export.kind is ExportKind.LEDGER else "rewards",
            flash=FLASHES.get(query.get("done", "")),
            view=view,
            title=describe(view.export),
            expires_minutes=view.expires_in // 60,
        )

    return router
