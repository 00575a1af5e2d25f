"""/me?t=...: the employee's own page (pending, scheduled with Cancel, published), and their
data: GET shows the "Download my data" button, its POST answers the file."""

from __future__ import annotations

import json
import re
import secrets
from datetime import time
from typing import TYPE_CHECKING, Any

from chorus.domain.content import Network
from chorus.domain.digest import WEEKDAYS, DigestTime
from chorus.domain.magic_links import LinkRejected, Purpose
from chorus.domain.networks import profile_of
from chorus.domain.scoring import Period
from chorus.domain.slack import DigestChannel
from chorus.errors import ChorusError, FieldProblem, InvalidInput
from chorus.messages.i18n import clock_time, translator
from chorus.web.employee.activity import post_summary
from chorus.web.pages import Form, FormRejected, FormSpec, page, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.approval import Approval
    from chorus.domain.employee import Employee
    from chorus.services.consent import ConsentService
    from chorus.services.data_export import DataExport
    from chorus.services.digest import DigestTimes
    from chorus.services.rewards import RewardService
    from chorus.services.scoring import ScoringService
    from chorus.services.slack import ChannelChoice

ACTIONS = ("hide", "show", "redeem", "cancel", "download", "digest_time", "channel")
ME_FORM = FormSpec(
    single=frozenset({"form", "action", "content", "network", "reward", "key", "day", "time", "channel"})
)
_QUARTER_HOUR = re.compile(r"^([01][0-9]|2[0-3]):(00|15|30|45)$")


def me_router(
    consent: ConsentService,
    scoring: ScoringService,
    rewards: RewardService,
    exports: DataExport,
    *,
    digest_times: DigestTimes,
    channels: ChannelChoice | None = None,
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def token_param() -> str:
        token = (router.current_event.query_string_parameters or {}).get("t")
        if not token:
            raise LinkRejected("this page needs the link from your email")
        return token

    def render(token: str, status: int = 200, errors: list[FieldProblem] | None = None) -> Response[str]:
        view = consent.me(token)
        claims = consent.claims(token, Purpose.ME)
        connect_token = consent.connect_token(claims)
        zone = view.employee.timezone
        titles = view.titles
        # Visits past a post's click cap are kept apart from the approval (never written per click).
        past_cap = scoring.visits_past_cap(claims.employee_id)

        def visits(approval: Approval) -> int:
            return approval.clicks + past_cap.get((approval.content_id, approval.network.value), 0)

        def summary(approval: Approval) -> dict[str, Any]:
            item = post_summary(approval, zone, view.employee.locale)
            item["content_id"] = approval.content_id
            item["title"] = titles.get(approval.content_id, "") or approval.content_id
            item["clicks"] = visits(approval)
            return item

        pending = [
            {
                "title": content.title,
                "link": "/a/" + consent.activity_token(claims.employee_id, content),
            }
            for content in view.pending
        ]
        standing = scoring.standing(claims.employee_id, Period.MONTH, "*")
        overview = rewards.catalog_for(claims.employee_id)
        return page(
            status,
            "pages/me.html.j2",
            view.employee.locale,
            errors=errors or [],
            pending=pending,
            scheduled=[
                summary(approval)
                for approval in sorted([*view.in_review, *view.scheduled], key=lambda approval: approval.publish_at)
            ],
            published=[summary(approval) for approval in view.published],
            action=f"/me?t={token}",
            forms={action: consent.form_token(claims, action) for action in ACTIONS},
            networks=[
                {"label": profile_of(network).label, "url": f"/connect/{network.value}?t={connect_token}"}
                for network in consent.networks
                if profile_of(network).needs_connection
            ],
            standing=standing,
            hidden=view.hidden,
            balance=overview.balance,
            lifetime=overview.lifetime,
            rewards=[{"reward": reward, "affordable": overview.affordable(reward)} for reward in overview.rewards],
            redemptions=overview.redemptions,
            redeem_key=secrets.token_urlsafe(16),
            total_clicks=sum(visits(approval) for approval in view.published),
            digest_time=digest_time_view(digest_times, view.employee),
            channel_choice=_channel_choice(view.employee, channels),
        )

    @router.route("/me", method=["GET", "HEAD"])
    def show() -> Response[str]:
        return render(token_param())

    @router.post("/me")
    def act() -> Response[str]:
        token = token_param()
        claims = consent.claims(token, Purpose.ME)
        form = read_form(router.current_event, ME_FORM)
        action = form.one("action")
        if action not in ACTIONS:
            raise FormRejected("this form was not sent from the page; nothing was recorded")
        consent.check_form(claims, form.one("form"), action)
        if action == "download":
            return download(exports.document(claims.employee_id))
        try:
            if action in {"digest_time", "channel"}:
                _choose_delivery(action, claims.employee_id, form, digest_times, channels)
            elif action in {"hide", "show"}:
                scoring.hide(claims.employee_id, action == "hide")
            elif action == "redeem":
                rewards.redeem(claims.employee_id, form.one("reward"), form.one("key"))
            else:
                consent.cancel(token, form.one("content") or None, Network(form.one("network")))
        except ValueError:
            return render(token, 422, [FieldProblem("network", "is not a network")])
        except InvalidInput as error:
            return render(token, 422, error.problems)
        except ChorusError as error:
            if isinstance(error, LinkRejected):
                raise
            return render(token, error.http_status, [FieldProblem("post", error.message)])
        return Response(status_code=303, headers={"Location": f"/me?t={token}"}, body="")

    return router


def _choose_delivery(
    action: str, employee_id: str, form: Form, digest_times: DigestTimes, channels: ChannelChoice | None
) -> None:
    """The employee's choice of when (day and time) or where (email, Slack, both) the digest arrives."""
    if action == "digest_time":
        digest_times.choose(employee_id, chosen_digest_time(form.one("day"), form.one("time")))
        return
    if channels is None:  # the channel form is only on the page when Slack is configured
        raise FormRejected("this form was not sent from the page; nothing was recorded")
    channels.choose(employee_id, parse_channel(form.one("channel")))


def chosen_digest_time(day: str, at: str) -> DigestTime:
    """The posted day and time, strictly: a weekday code and a quarter hour ("MON", "09:15")."""
    match = _QUARTER_HOUR.match(at)
    if day not in WEEKDAYS or match is None:
        raise FormRejected("this form was not sent from the page; nothing was recorded")
    return DigestTime(WEEKDAYS.index(day), time(int(match.group(1)), int(match.group(2))))


def digest_time_view(digest_times: DigestTimes, employee: Employee) -> dict[str, Any]:
    """The /me section's choices, in the employee's words: the days and times on offer, theirs
    selected, the company's marked."""
    words = translator(employee.locale)
    current, company = digest_times.of(employee), digest_times.company
    options = digest_times.options()
    days = sorted({option.weekday for option in options})
    times = sorted({option.at for option in options})

    def marked(label: str, is_company: bool) -> str:
        return f"{label} {words['digest_time_company']}" if is_company else label

    return {
        "zone": employee.timezone,
        "days": [
            {
                "value": WEEKDAYS[day],
                "label": marked(words[f"day_{WEEKDAYS[day]}"], day == company.weekday),
                "selected": day == current.weekday,
            }
            for day in days
        ],
        "times": [
            {
                "value": f"{at:%H:%M}",
                "label": marked(clock_time(at, employee.locale), at == company.at),
                "selected": at == current.at,
            }
            for at in times
        ],
    }


def _channel_choice(employee: Employee, channels: ChannelChoice | None) -> dict[str, str] | None:
    """The digest channel section: only when the stack has Slack and the employee was found there."""
    if channels is None or employee.slack_user_id is None:
        return None
    return {"current": employee.digest_channel.value}


def parse_channel(raw: str) -> DigestChannel:
    try:
        return DigestChannel(raw)
    except ValueError:
        raise InvalidInput("choose a channel", [FieldProblem("channel", "choose email, Slack or both")]) from None


def download(document: dict[str, Any]) -> Response[str]:
    from aws_lambda_powertools.event_handler import Response

    day = str(document["generated_at"])[:10]
    return Response(
        status_code=200,
        content_type="application/json; charset=utf-8",
        body=json.dumps(document, ensure_ascii=False, indent=2, default=str),
        headers={"Content-Disposition": f'attachment; filename="chorus-my-data-{day}.json"'},
    )
