"""/console/review: the compliance review queue (ReviewEditedPosts), and a reviewer's decision.

The form names an approval (employee, content, network, revision) and a decision, never a text:
what is scheduled is the employee's approved snapshot as recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chorus.domain.approval import Approval
from chorus.domain.content import Network
from chorus.domain.networks import profile_of
from chorus.domain.review import ReviewDecision, Reviewer, text_diff
from chorus.errors import FieldProblem, InvalidInput
from chorus.services.review import ReviewRequest, ReviewResult
from chorus.web.console.pages import FLASHES, console_page, session_id
from chorus.web.cursors import decode_cursor, encode_cursor
from chorus.web.pages import FormSpec, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.review import ReviewService
    from chorus.web.employee.connect import CallbackBase

REVIEW_FORM = FormSpec(
    single=frozenset({"csrf", "employee_id", "content_id", "network", "revision", "decision", "note"})
)


def review_item(approval: Approval, now: datetime) -> dict[str, Any]:
    """One waiting approval as the page shows it: the times in the employee's zone and in UTC."""
    local = approval.publish_at.astimezone(ZoneInfo(approval.timezone))
    return {
        "approval": approval,
        "network": profile_of(approval.network).label,
        "publish_local": f"{local:%a %d %b %Y, %H:%M} ({approval.timezone})",
        "publish_utc": f"{approval.publish_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        "approved_utc": f"{approval.approved_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        "time_passed": approval.publish_at <= now,
        "diff": text_diff(approval.offered_text or "", approval.text),
    }


def review_request(fields: dict[str, str]) -> ReviewRequest:
    problems = []
    try:
        network = Network(fields["network"])
    except ValueError:
        problems.append(FieldProblem("network", "is not a network"))
    try:
        decision = ReviewDecision(fields["decision"])
    except ValueError:
        problems.append(FieldProblem("decision", "choose approve or reject"))
    revision = fields["revision"]
    if not revision.isdigit():
        problems.append(FieldProblem("revision", "is not a revision"))
    if not fields["employee_id"] or not fields["content_id"]:
        problems.append(FieldProblem("post", "names no post"))
    if problems:
        raise InvalidInput("this decision could not be read; nothing changed", problems)
    return ReviewRequest(
        employee_id=fields["employee_id"],
        content_id=fields["content_id"],
        network=network,
        revision=int(revision),
        decision=decision,
        note=fields["note"],
    )


def review_router(
    auth: ConsoleAuth, reviews: ReviewService, callback_base: CallbackBase, *, enabled: bool
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.route("/review", method=["GET", "HEAD"])
    def queue() -> Response[str]:
        session = auth.current(session_id(router.current_event))
        query = router.current_event.query_string_parameters or {}
        page = reviews.queue(decode_cursor(query.get("next")))
        now = reviews.now()
        return console_page(
            200,
            "pages/console/review.html.j2",
            session,
            nav="review",
            flash=FLASHES.get(query.get("done", "")),
            enabled=enabled,
            items=[review_item(approval, now) for approval in page.items],
            next_cursor=encode_cursor(page.next_token),
            first_page=not query.get("next"),
        )

    @router.post("/review")
    def decide() -> Response[str]:
        form = read_form(router.current_event, REVIEW_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        request = review_request({name: form.one(name) for name in REVIEW_FORM.single})
        context = router.current_event.request_context
        links_base = callback_base.url(context.api_id, context.stage)
        result = reviews.decide(Reviewer(session.subject, session.display_name), request, links_base=links_base)
        return Response(status_code=303, headers={"Location": f"/console/review?done={_FLASH[result]}"}, body="")

    return router


_FLASH = {
    ReviewResult.APPROVED: "review-approved",
    ReviewResult.REJECTED: "review-rejected",
    ReviewResult.LAPSED: "review-lapsed",
    ReviewResult.ALREADY_DECIDED: "review-already-decided",
}
