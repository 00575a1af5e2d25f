"""/a/{token}: the activity page (GET, HEAD) and the employee's decision (POST).

GET and HEAD only read. Approving, declining and cancelling are POSTs from a button press on a
page we rendered (a signed form token at least two seconds old), then redirect back (303) so a
reload never posts twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from chorus.domain.approval import (
    AlreadyDecided,
    ApprovalStatus,
    ContentChanged,
    DailyLimitReached,
    When,
    approval_id_for,
)
from chorus.domain.content import Network
from chorus.domain.fields import parse_timezone
from chorus.domain.magic_links import Purpose
from chorus.domain.networks import networks, profile_of
from chorus.domain.timing import offered_window
from chorus.domain.tracking import link_code
from chorus.errors import FieldProblem, InvalidInput
from chorus.messages.i18n import local_datetime
from chorus.services.consent import ActivityView, ApprovalRequest, normalise_text
from chorus.web.pages import Form, FormRejected, FormSpec, page, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.approval import Approval
    from chorus.domain.lengths import LengthRule
    from chorus.services.consent import ConsentService
    from chorus.services.funnel import PageOpenings

_LOCKED = {ApprovalStatus.SCHEDULED, ApprovalStatus.IN_REVIEW, ApprovalStatus.PUBLISHING, ApprovalStatus.PUBLISHED}
ACTIONS = ("approve", "decline", "cancel")


def activity_form() -> FormSpec:
    """The fields the activity page's form may send: a text and a revision per network."""
    every = networks()
    return FormSpec(
        single=frozenset(
            {"form", "action", "content_version", "timezone", "when", "at", "reason"}
            | {f"text_{network.value}" for network in every}
            | {f"revision_{network.value}" for network in every}
        ),
        repeated={"network": len(every)},
    )


def _input_value(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


# Networks show a link in a post without its scheme and cut long ones short (X at 23 characters
# of the original's display form, Mastodon at 30): the preview shows it the longer way.
SHOWN_LINK_LENGTH = 30


def shown_link(url: str) -> str:
    """A link as a network shows it in a post: no scheme, no ``www.``, cut with an ellipsis."""
    shown = url.split("://", 1)[-1].removeprefix("www.")
    return shown if len(shown) <= SHOWN_LINK_LENGTH else shown[: SHOWN_LINK_LENGTH - 1] + "…"


def preview(
    network: Network,
    rule: LengthRule,
    text: str,
    *,
    tracked_link: str,
    title: str | None,
    link_url: str | None,
    image_url: str | None,
) -> dict[str, Any]:
    """The post as its network will show it: the text, the link where the network puts it (in
    the text after the rule's separator, or only as the card), and the link card. Everything
    comes from the network's profile and length rule, so a new network needs nothing here."""
    return {
        "network": network.value,
        "label": profile_of(network).label,
        "text": normalise_text(text),
        "separator": rule.separator,
        "link": shown_link(tracked_link),
        "card_title": title or "",
        "card_domain": (urlsplit(link_url).hostname or "").removeprefix("www.") if link_url else "",
        "card_image": image_url,
    }


def tracked_link(link_base: str, employee_id: str, content_id: str, network: Network, revision: int) -> str:
    """The short link the post will carry (chorus.services.publish), known before approving."""
    return f"{link_base}/r/{link_code(approval_id_for(employee_id, content_id, network), revision)}"


def post_summary(approval: Approval, zone: str, locale: str, *, outdated: bool = False) -> dict[str, Any]:
    """What the employee approved, from the approval's own snapshot (never the current content)."""
    return {
        "title": approval.title,
        "link_url": approval.link_url,
        "outdated": outdated,
        "network": approval.network.value,
        "network_label": profile_of(approval.network).label,
        "publish_at_iso": approval.publish_at.isoformat(),
        "publish_at_local": local_datetime(approval.publish_at, zone, locale),
        "status": approval.status.value.replace("_", " ").lower(),
        "text": approval.text,
        "cancellable": approval.cancellable,
        # Approved, waiting for the company's compliance review (ReviewEditedPosts).
        "in_review": approval.status is ApprovalStatus.IN_REVIEW,
        "external_post_url": approval.external_post_url,
    }


def activity_context(
    view: ActivityView,
    token: str,
    forms: Mapping[str, str],
    *,
    connect_token: str,
    policy: str,
    now: datetime,
    errors: list[FieldProblem],
    link_base: str = "",
    approved: bool = False,
) -> dict[str, Any]:
    zone = view.employee.timezone
    content = view.content
    employee_id = view.employee.employee_id
    window = offered_window(now, content.starts_at, content.ends_at)
    choices = []
    for network in view.networks:
        approval = view.approvals.get(network)
        if approval and approval.status in _LOCKED:
            continue
        rule = view.rules.get(network, profile_of(network).length_rule)
        text = approval.text if approval else view.proposed[network]
        revision = (approval.revision if approval else 0) + 1
        choices.append(
            {
                "network": network.value,
                "label": profile_of(network).label,
                "connected": network in view.connected,
                "connect_url": f"/connect/{network.value}?t={connect_token}",
                "limit": rule.room,
                "length": rule.length(normalise_text(text)),
                # The counter in chorus.js applies the same rule (with the patterns of /assets/lengths.js).
                "rule": rule.for_page(),
                "text": text,
                "previous_revision": approval.revision if approval else None,
                "last_failure": approval.failure_reason if approval else None,
                "preview": preview(
                    network,
                    rule,
                    text,
                    tracked_link=tracked_link(link_base, employee_id, content.content_id, network, revision),
                    title=content.title,
                    link_url=content.url,
                    image_url=content.image_url,
                ),
            }
        )
    scheduled = []
    for approval in view.approvals.values():
        if approval.status not in _LOCKED:
            continue
        summary = post_summary(approval, zone, view.employee.locale, outdated=view.outdated(approval))
        summary["preview"] = preview(
            approval.network,
            view.rules.get(approval.network, profile_of(approval.network).length_rule),
            approval.text,
            tracked_link=tracked_link(link_base, employee_id, approval.content_id, approval.network, approval.revision),
            title=approval.title,
            link_url=approval.link_url,
            image_url=approval.image_url,
        )
        scheduled.append(summary)
    return {
        "content": content,
        "policy": policy,
        "errors": errors,
        "approved": approved and bool(scheduled),
        "disclosure": view.disclosure,
        "disclosure_required": view.disclosure_required,
        "declined": view.declined,
        "scheduled": sorted(scheduled, key=lambda item: item["publish_at_iso"]),
        "choices": choices,
        "action": f"/a/{token}",
        "forms": forms,
        "content_version": content.version,
        "timezone": zone,
        "can_choose_time": not window.empty,
        "at_min": _input_value(window.earliest, zone),
        "at_max": _input_value(window.last_minute, zone),
        "at_default": _input_value(window.earliest, zone),
    }


def _parse_at(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise InvalidInput("pick a time", [FieldProblem("at", "is not a date and time")]) from None


def shown_version(form: Form) -> int | None:
    """The content version the page showed (None if the form does not say, or not as a number)."""
    raw = form.one("content_version")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _approval_request(form: Form, user_agent: str) -> ApprovalRequest:
    """The employee's choices and the content version the page showed; the service takes the
    snapshot from that stored version, never from the form."""
    networks: list[Network] = []
    for value in form.all("network"):
        try:
            networks.append(Network(value))
        except ValueError:
            raise InvalidInput("unknown network", [FieldProblem("network", f"'{value}' is not a network")]) from None
    try:
        when = When(form.one("when", "now"))
    except ValueError:
        raise InvalidInput("pick when", [FieldProblem("when", "choose now, a time, or spread")]) from None
    try:
        zone = parse_timezone(form.one("timezone")) or "UTC"
    except ValueError:
        raise InvalidInput("unknown time zone", [FieldProblem("timezone", "is not a time zone")]) from None
    revisions = {}
    for network in networks:
        raw = form.one(f"revision_{network.value}")
        if raw.isdigit():
            revisions[network] = int(raw)
    return ApprovalRequest(
        networks=networks,
        texts={network: form.one(f"text_{network.value}") for network in networks},
        when=when,
        at_local=_parse_at(form.one("at")) if when is When.AT else None,
        timezone=zone,
        user_agent=user_agent,
        content_version=shown_version(form),
        previous_revisions=revisions,
    )


OPENED_FORM = FormSpec(single=frozenset())


def activity_router(
    consent: ConsentService, openings: PageOpenings, policy: str, public_base_url: str = ""
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def render(
        token: str, status: int = 200, errors: list[FieldProblem] | None = None, *, approved: bool = False
    ) -> Response[str]:
        view = consent.view(token)
        claims = consent.claims(token, Purpose.ACTIVITY)
        context = activity_context(
            view,
            token,
            {action: consent.form_token(claims, action) for action in ACTIONS},
            connect_token=consent.connect_token(claims),
            policy=policy,
            now=consent.now(),
            errors=errors or [],
            # Where the posts' short links lead (the publisher's PublicBaseUrl), else the API's
            # own domain, which served this page; only shown, in the preview.
            link_base=public_base_url or f"https://{router.current_event.request_context.domain_name}",
            approved=approved,
        )
        return page(
            status,
            "pages/activity.html.j2",
            view.employee.locale,
            me_link=consent.me_link(claims),
            image_urls=[content_image for content_image in [view.content.image_url] if content_image],
            **context,
        )

    def back_to_page(token: str, *, approved: bool = False) -> Response[str]:
        # "?approved" only says which message to show: the page reads what is recorded.
        location = f"/a/{token}?approved=1" if approved else f"/a/{token}"
        return Response(status_code=303, headers={"Location": location}, body="")

    @router.route("/a/<token>", method=["GET", "HEAD"])
    def show(token: str) -> Response[str]:
        return render(token, approved=router.current_event.get_query_string_value("approved") == "1")

    @router.post("/a/<token>")
    def decide(token: str) -> Response[str]:
        event = router.current_event
        claims = consent.claims(token, Purpose.ACTIVITY)
        form = read_form(event, activity_form())
        action = form.one("action")
        if action not in ACTIONS or (action == "cancel" and len(form.all("network")) != 1):
            raise FormRejected("this form was not sent from the page; nothing was recorded")
        consent.check_form(claims, form.one("form"), action)
        try:
            if action == "approve":
                user_agent = event.headers.get("user-agent") or event.request_context.http.user_agent or ""
                consent.approve(token, _approval_request(form, user_agent))
            elif action == "decline":
                consent.decline(token, form.one("reason"), shown_version(form))
            else:
                consent.cancel(token, None, Network(form.one("network")))
        except InvalidInput as error:
            return render(token, error.http_status, error.problems)
        except DailyLimitReached as error:
            return render(token, 422, [FieldProblem("when", error.message)])
        except ContentChanged as error:
            # Nothing recorded: the page now shows the new version to review.
            return render(token, 409, [FieldProblem("content", error.message)])
        except AlreadyDecided:
            pass  # a double click or a second tab: show what is recorded
        except ValueError:
            return render(token, 422, [FieldProblem("network", "is not a network")])
        return back_to_page(token, approved=action == "approve")

    @router.post("/a/<token>/opened")
    def opened(token: str) -> Response[str]:
        """The page's beacon: counts the employee's first opening of this item's page."""
        claims = consent.claims(token, Purpose.ACTIVITY)
        read_form(router.current_event, OPENED_FORM)
        if claims.content_id:
            openings.record(claims.employee_id, claims.content_id)
        return Response(status_code=204, body="")

    return router
