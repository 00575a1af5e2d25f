"""/a/{token}: the activity page (GET, HEAD) and the employee's decision (POST).

GET and HEAD only read. Approving, declining and cancelling are POSTs from a button press on a
page we rendered (a signed form token at least two seconds old), then redirect back (303) so a
reload never posts twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chorus.domain.approval import ApprovalStatus, When
from chorus.domain.content import Network
from chorus.domain.fields import parse_timezone
from chorus.domain.timing import offered_window
from chorus.errors import FieldProblem, InvalidInput
from chorus.services.consent import ActivityView, ApprovalRequest, text_limit
from chorus.store.consent import AlreadyDecided, DailyLimitReached
from chorus.web.pages import first, form_fields, page

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.approval import Approval
    from chorus.services.consent import ConsentService

NETWORK_LABELS = {
    Network.LINKEDIN: "LinkedIn",
    Network.X: "X",
    Network.MASTODON: "Mastodon",
    Network.SANDBOX: "Sandbox",
}
_LOCKED = {ApprovalStatus.SCHEDULED, ApprovalStatus.PUBLISHING, ApprovalStatus.PUBLISHED}


def local_label(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M")


def _input_value(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def post_summary(approval: Approval, zone: str) -> dict[str, Any]:
    return {
        "network": approval.network.value,
        "network_label": NETWORK_LABELS[approval.network],
        "publish_at_iso": approval.publish_at.isoformat(),
        "publish_at_local": local_label(approval.publish_at, zone),
        "status": approval.status.value.replace("_", " ").lower(),
        "text": approval.text,
        "cancellable": approval.cancellable,
        "external_post_url": approval.external_post_url,
    }


def activity_context(
    view: ActivityView, token: str, form_token: str, *, policy: str, now: datetime, errors: list[FieldProblem]
) -> dict[str, Any]:
    zone = view.employee.timezone
    content = view.content
    window = offered_window(now, content.starts_at, content.ends_at)
    choices = []
    for network in view.networks:
        approval = view.approvals.get(network)
        if approval and approval.status in _LOCKED:
            continue
        choices.append(
            {
                "network": network.value,
                "label": NETWORK_LABELS[network],
                "connected": network in view.connected,
                "connect_url": f"/connect/{network.value}?t={token}",
                "limit": text_limit(network),
                "text": approval.text if approval else content.text_for(network),
                "previous_revision": approval.revision if approval else None,
                "last_failure": approval.failure_reason if approval else None,
            }
        )
    scheduled = [post_summary(approval, zone) for approval in view.approvals.values() if approval.status in _LOCKED]
    return {
        "content": content,
        "policy": policy,
        "errors": errors,
        "declined": view.declined,
        "scheduled": sorted(scheduled, key=lambda item: item["publish_at_iso"]),
        "choices": choices,
        "action": f"/a/{token}",
        "form_token": form_token,
        "timezone": zone,
        "can_choose_time": not window.empty,
        "at_min": _input_value(window.earliest, zone),
        "at_max": _input_value(window.last_minute, zone),
        "at_default": _input_value(window.earliest, zone),
        "window_start": content.starts_at.isoformat() if content.starts_at else "",
        "window_end": content.ends_at.isoformat() if content.ends_at else "",
    }


def _parse_at(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise InvalidInput("pick a time", [FieldProblem("at", "is not a date and time")]) from None


def _parse_window(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None  # only used to explain times; the store checks the real window


def _approval_request(fields: dict[str, list[str]], user_agent: str) -> ApprovalRequest:
    """Everything comes from the form, so approving costs no read: the store re-checks what
    matters (content active, inside its window, revision) inside the approval transaction."""
    networks: list[Network] = []
    for value in fields.get("network", []):
        try:
            networks.append(Network(value))
        except ValueError:
            raise InvalidInput("unknown network", [FieldProblem("network", f"'{value}' is not a network")]) from None
    try:
        when = When(first(fields, "when", "now"))
    except ValueError:
        raise InvalidInput("pick when", [FieldProblem("when", "choose now, a time, or spread")]) from None
    try:
        zone = parse_timezone(first(fields, "timezone")) or "UTC"
    except ValueError:
        raise InvalidInput("unknown time zone", [FieldProblem("timezone", "is not a time zone")]) from None
    revisions = {}
    for network in networks:
        raw = first(fields, f"revision_{network.value}")
        if raw.isdigit():
            revisions[network] = int(raw)
    return ApprovalRequest(
        networks=networks,
        texts={network: first(fields, f"text_{network.value}") for network in networks},
        when=when,
        at_local=_parse_at(first(fields, "at")) if when is When.AT else None,
        timezone=zone,
        user_agent=user_agent,
        previous_revisions=revisions,
        window_start=_parse_window(first(fields, "window_start")),
        window_end=_parse_window(first(fields, "window_end")),
    )


def activity_router(consent: ConsentService, policy: str) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def render(token: str, status: int = 200, errors: list[FieldProblem] | None = None) -> Response[str]:
        view = consent.view(token)
        claims = consent.claims(token)
        context = activity_context(
            view, token, consent.form_token(claims), policy=policy, now=consent.now(), errors=errors or []
        )
        return page(status, "pages/activity.html.j2", view.employee.locale, me_link=consent.me_link(claims), **context)

    def back_to_page(token: str) -> Response[str]:
        return Response(status_code=303, headers={"Location": f"/a/{token}"}, body="")

    @router.route("/a/<token>", method=["GET", "HEAD"])
    def show(token: str) -> Response[str]:
        return render(token)

    @router.post("/a/<token>")
    def decide(token: str) -> Response[str]:
        event = router.current_event
        fields = form_fields(event.decoded_body)
        claims = consent.claims(token)
        consent.check_form(claims, first(fields, "form"))
        action = first(fields, "action")
        try:
            if action == "approve":
                user_agent = event.headers.get("user-agent") or event.request_context.http.user_agent or ""
                consent.approve(token, _approval_request(fields, user_agent))
            elif action == "decline":
                consent.decline(token, first(fields, "reason"))
            elif action == "cancel":
                consent.cancel(token, None, Network(first(fields, "network")))
            else:
                raise InvalidInput("unknown action", [FieldProblem("action", "press Approve, Not for me or Cancel")])
        except InvalidInput as error:
            return render(token, 422, error.problems)
        except DailyLimitReached as error:
            return render(token, 422, [FieldProblem("when", error.message)])
        except AlreadyDecided:
            pass  # a double click or a second tab: show what is recorded
        except ValueError:
            return render(token, 422, [FieldProblem("network", "is not a network")])
        return back_to_page(token)

    return router
