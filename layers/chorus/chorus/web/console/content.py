"""/console/content: the library (search, filters, pages), one item with its funnel, its edit
form and its retraction. Edits and retraction go through the services the admin API and the
uploads use (ContentLibrary.edit is an upload of one row; RetractionService.retract)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chorus import clock
from chorus.domain.content import Content, ContentStatus, Network
from chorus.domain.funnel import Funnel
from chorus.domain.library import MAX_SEARCH, LibraryFilter, Window
from chorus.domain.networks import upload_columns
from chorus.errors import Conflict, FieldProblem, InvalidInput
from chorus.observability import logger
from chorus.services.content_library import editable_fields, row_values
from chorus.web.console.pages import FLASHES, console_page, session_id
from chorus.web.cursors import decode_cursor, encode_cursor
from chorus.web.pages import FormSpec, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.console import ConsoleSession
    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.content_library import ContentLibrary
    from chorus.services.retraction import RetractionService

PAGE_SIZE = 25
FUNNEL_CSV_COLUMNS = ("step", "count", "share_of_previous_percent")
EDIT_FORM = FormSpec(single=frozenset({"csrf", "version", *editable_fields()}))
RETRACT_FORM = FormSpec(single=frozenset({"csrf"}))


def networks() -> list[Network]:
    return list(upload_columns().values())


def library_filter(query: dict[str, str]) -> LibraryFilter:
    """The search and filters from the query string; a value that is not one of ours is refused."""
    problems: list[FieldProblem] = []
    state = query.get("state") or ContentStatus.ACTIVE.value
    if state not in {status.value for status in ContentStatus}:
        problems.append(FieldProblem("state", "must be active or retracted"))
    window = query.get("window") or None
    if window is not None and window not in {choice.value for choice in Window}:
        problems.append(FieldProblem("window", "must be current, upcoming or past"))
    network = query.get("network") or None
    if network is not None and network not in {str(known) for known in networks()}:
        problems.append(FieldProblem("network", "is not a network Chorus posts to"))
    search = query.get("q", "")
    if len(search) > MAX_SEARCH:
        problems.append(FieldProblem("q", f"is longer than {MAX_SEARCH} characters"))
    campaign = query.get("campaign", "").strip()
    if len(campaign) > MAX_SEARCH:
        problems.append(FieldProblem("campaign", f"is longer than {MAX_SEARCH} characters"))
    if problems:
        raise InvalidInput("bad filter", problems)
    return LibraryFilter(
        status=ContentStatus(state),
        search=search,
        campaign=campaign,
        network=Network(network) if network else None,
        window=Window(window) if window else None,
    )


def window_of(content: Content, now_iso: str) -> str:
    starts = content.starts_at.isoformat() if content.starts_at else ""
    ends = content.ends_at.isoformat() if content.ends_at else ""
    if ends and ends <= now_iso:
        return "past"
    if starts and starts > now_iso:
        return "upcoming"
    return "current"


def edit_form(
    status_code: int,
    session: ConsoleSession,
    content: Content,
    values: dict[str, Any],
    *,
    version: int,
    problems: list[FieldProblem] | None = None,
    error: str | None = None,
) -> Response[str]:
    return console_page(
        status_code,
        "pages/console/content_edit.html.j2",
        session,
        nav="content",
        content=content,
        values=values,
        version=version,
        network_columns=list(upload_columns().items()),
        problems={problem.field: problem.reason for problem in problems or []},
        error=error,
    )


def funnel_csv_response(content_id: str, funnel: Funnel) -> Response[str]:
    from aws_lambda_powertools.event_handler import Response

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FUNNEL_CSV_COLUMNS)
    for step in funnel.steps():
        writer.writerow([step.label, step.count, "" if step.share is None else step.share])
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=buffer.getvalue(),
        headers={"Content-Disposition": f'attachment; filename="chorus-funnel-{content_id}.csv"'},
    )


def content_router(auth: ConsoleAuth, library: ContentLibrary, retraction: RetractionService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def query() -> dict[str, str]:
        return dict(router.current_event.query_string_parameters or {})

    def flash() -> str | None:
        return FLASHES.get(query().get("done", ""))

    def redirect(location: str) -> Response[str]:
        return Response(status_code=303, headers={"Location": location}, body="")

    @router.route("/content", method=["GET", "HEAD"])
    def library_page() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        asked = query()
        wanted = library_filter(asked)
        page = library.page(wanted, PAGE_SIZE, decode_cursor(asked.get("next")))
        kept = {name: asked[name] for name in ("q", "campaign", "network", "state", "window") if asked.get(name)}
        token = encode_cursor(page.next_token)
        now_iso = clock.now().isoformat()
        return console_page(
            200,
            "pages/console/content_library.html.j2",
            session,
            nav="content",
            wanted=wanted,
            asked=kept,
            networks=networks(),
            windows=list(Window),
            items=[(item, window_of(item, now_iso)) for item in page.items],
            next_url=f"/console/content?{urlencode({**kept, 'next': token})}" if token else None,
            first_url=f"/console/content?{urlencode(kept)}" if asked.get("next") else None,
        )

    @router.route("/content/<content_id>", method=["GET", "HEAD"])
    def detail_page(content_id: str) -> Response[str]:
        session = auth.current(session_id(router.current_event))
        detail = library.detail(content_id)
        return console_page(
            200,
            "pages/console/content_detail.html.j2",
            session,
            nav="content",
            flash=flash(),
            content=detail.content,
            texts=[(net, detail.content.text_for(net), net in detail.content.texts) for net in networks()],
            steps=detail.funnel.steps(),
            window=window_of(detail.content, clock.now().isoformat()),
        )

    @router.route("/content/<content_id>/funnel.csv", method=["GET", "HEAD"])
    def funnel_csv(content_id: str) -> Response[str]:
        auth.current(session_id(router.current_event))
        return funnel_csv_response(content_id, library.detail(content_id).funnel)

    @router.route("/content/<content_id>/edit", method=["GET", "HEAD"])
    def edit_page(content_id: str) -> Response[str]:
        session = auth.current(session_id(router.current_event))
        content = library.detail(content_id).content
        return edit_form(200, session, content, row_values(content), version=content.version)

    @router.post("/content/<content_id>/edit")
    def edit(content_id: str) -> Response[str]:
        session = auth.current(session_id(router.current_event))
        form = read_form(router.current_event, EDIT_FORM)
        auth.check_form(session, form.one("csrf"))
        changes = {name: form.one(name) for name in editable_fields()}
        version = form.one("version")
        if not version.isdigit():
            raise InvalidInput("bad form", [FieldProblem("version", "is missing; open the edit form again")])
        try:
            library.edit(content_id, int(version), changes)
        except InvalidInput as refused:
            # The admin's text stays in the form, with each field's reason beside it.
            content = library.detail(content_id).content
            return edit_form(422, session, content, changes, version=int(version), problems=refused.problems)
        except Conflict as conflict:
            content = library.detail(content_id).content
            return edit_form(409, session, content, changes, version=content.version, error=conflict.message)
        logger.info("console content edit", content_id=content_id, subject=session.subject)
        return redirect(f"/console/content/{content_id}?done=content-edited")

    @router.route("/content/<content_id>/retract", method=["GET", "HEAD"])
    def retract_page(content_id: str) -> Response[str]:
        session = auth.current(session_id(router.current_event))
        content = library.detail(content_id).content
        return console_page(200, "pages/console/content_retract.html.j2", session, nav="content", content=content)

    @router.post("/content/<content_id>/retract")
    def retract(content_id: str) -> Response[str]:
        session = auth.current(session_id(router.current_event))
        form = read_form(router.current_event, RETRACT_FORM)
        auth.check_form(session, form.one("csrf"))
        _content, posts = retraction.retract(content_id)
        logger.info("console retraction", content_id=content_id, subject=session.subject, scheduled_posts=posts)
        return redirect(f"/console/content/{content_id}?done=content-retracted")

    return router
