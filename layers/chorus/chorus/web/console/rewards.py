"""/console/rewards: the catalogue (create, restock, retire) and the redemptions to hand over
(fulfil), through the admin API's RewardService. Every POST checks the session's CSRF token, then
redirects (303) to the page with a flash key; a refused form is shown again with each field's
reason and what the admin typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from chorus.domain.rewards import RedemptionStatus, RestockInput, RewardInput
from chorus.observability import logger
from chorus.web.console.pages import FLASHES, console_page, session_id
from chorus.web.cursors import decode_cursor, encode_cursor
from chorus.web.pages import FormSpec, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.domain.console import ConsoleSession
    from chorus.services.console_auth import ConsoleAuth
    from chorus.services.rewards import RewardService

PAGE_SIZE = 25
REWARDS_PATH = "/console/rewards"
CREATE_FORM = FormSpec(single=frozenset({"csrf", "name", "description", "cost", "stock"}))
RESTOCK_FORM = FormSpec(single=frozenset({"csrf", "add"}))
CSRF_ONLY_FORM = FormSpec(single=frozenset({"csrf"}))
# What the filter says in the URL and on the page, for each status.
SHOWN = {"pending": RedemptionStatus.REQUESTED, "fulfilled": RedemptionStatus.FULFILLED}


def field_errors(error: ValidationError) -> dict[str, str]:
    """The first reason per field, as the form shows it beside the field."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else "form"
        reason = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "missing":
            reason = "is required"
        errors.setdefault(name, reason)
    return errors


def rewards_router(auth: ConsoleAuth, rewards: RewardService) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def redirect(done: str, show: str = "pending") -> Response[str]:
        query = f"?done={done}" if show == "pending" else f"?show={show}&done={done}"
        return Response(status_code=303, headers={"Location": f"{REWARDS_PATH}{query}"}, body="")

    def page(
        session: ConsoleSession,
        status_code: int = 200,
        *,
        entered: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Response[str]:
        query = router.current_event.query_string_parameters or {}
        show = query.get("show", "pending")
        if show not in SHOWN:
            show = "pending"
        cursor = query.get("next")
        listing = rewards.redemptions_to_hand_over(SHOWN[show], PAGE_SIZE, decode_cursor(cursor))
        next_token = encode_cursor(listing.next_token)
        return console_page(
            status_code,
            "pages/console/rewards.html.j2",
            session,
            nav="rewards",
            flash=FLASHES.get(query.get("done", "")),
            catalog=rewards.list_rewards(),
            redemptions=listing.items,
            show=show,
            first_page=not cursor,
            next_query=f"?show={show}&next={next_token}" if next_token else None,
            entered=entered or {},
            errors=errors or {},
        )

    @router.route("/rewards", method=["GET", "HEAD"])
    def rewards_page() -> Response[str]:
        return page(auth.current(session_id(router.current_event)))

    @router.post("/rewards")
    def create() -> Response[str]:
        form = read_form(router.current_event, CREATE_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        entered = {name: form.one(name) for name in ("name", "description", "cost", "stock")}
        try:
            data = RewardInput.model_validate({**entered, "description": entered["description"] or None})
        except ValidationError as error:
            return page(session, 400, entered=entered, errors=field_errors(error))
        reward = rewards.create_reward(data)
        logger.info("reward created in the console", reward_id=reward.reward_id, admin=session.subject)
        return redirect("reward-created")

    @router.post("/rewards/<reward_id>/restock")
    def restock(reward_id: str) -> Response[str]:
        form = read_form(router.current_event, RESTOCK_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        try:
            data = RestockInput.model_validate({"add": form.one("add")})
        except ValidationError as error:
            return page(session, 400, errors={f"add-{reward_id}": field_errors(error)["add"]})
        rewards.restock(reward_id, data)
        logger.info("reward restocked in the console", reward_id=reward_id, admin=session.subject)
        return redirect("reward-restocked")

    @router.post("/rewards/<reward_id>/retire")
    def retire(reward_id: str) -> Response[str]:
        form = read_form(router.current_event, CSRF_ONLY_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        rewards.retire(reward_id)
        logger.info("reward retired in the console", reward_id=reward_id, admin=session.subject)
        return redirect("reward-retired")

    @router.post("/redemptions/<employee_id>/<redemption_id>/fulfil")
    def fulfil(employee_id: str, redemption_id: str) -> Response[str]:
        form = read_form(router.current_event, CSRF_ONLY_FORM)
        session = auth.current(session_id(router.current_event))
        auth.check_form(session, form.one("csrf"))
        rewards.fulfil(employee_id, redemption_id)
        logger.info("redemption fulfilled in the console", redemption_id=redemption_id, admin=session.subject)
        return redirect("redemption-fulfilled")

    return router
