"""/admin/rewards (catalogue) and /admin/redemptions (what employees asked for, to hand over)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from chorus.domain.rewards import RestockInput, RewardInput
from chorus.observability import logger
from chorus.web.cursors import decode_cursor, encode_cursor, page_size
from chorus.web.http_errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.rewards import RewardService


def rewards_router(service: RewardService) -> APIGatewayHttpRouter:
    """Mounted at prefix "/admin"."""
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.post("/rewards")
    def create_reward(data: RewardInput) -> Response[str]:
        reward = service.create_reward(data)
        logger.info("reward created by admin", reward_id=reward.reward_id, admin=router.context.get("admin_subject"))
        return json_response(201, reward.model_dump(mode="json"))

    @router.get("/rewards")
    def list_rewards() -> Response[str]:
        return json_response(200, {"items": [reward.model_dump(mode="json") for reward in service.list_rewards()]})

    @router.post("/rewards/<reward_id>/restock")
    def restock(reward_id: str, data: RestockInput) -> Response[str]:
        reward = service.restock(reward_id, data)
        logger.info("reward restocked by admin", reward_id=reward_id, admin=router.context.get("admin_subject"))
        return json_response(200, reward.model_dump(mode="json"))

    @router.post("/rewards/<reward_id>/retire")
    def retire(reward_id: str) -> Response[str]:
        reward = service.retire(reward_id)
        logger.info("reward retired by admin", reward_id=reward_id, admin=router.context.get("admin_subject"))
        return json_response(200, reward.model_dump(mode="json"))

    @router.get("/redemptions")
    def open_redemptions() -> Response[str]:
        query = router.current_event.query_string_parameters or {}
        page = service.open_redemptions(page_size(query.get("limit")), decode_cursor(query.get("next")))
        return json_response(
            200,
            {
                "items": [redemption.model_dump(mode="json") for redemption in page.items],
                "next": encode_cursor(page.next_token),
            },
        )

    @router.post("/redemptions/<employee_id>/<redemption_id>/fulfil")
    def fulfil(employee_id: str, redemption_id: str) -> Response[str]:
        redemption = service.fulfil(employee_id, redemption_id)
        logger.info(
            "redemption fulfilled by admin", redemption_id=redemption_id, admin=router.context.get("admin_subject")
        )
        return json_response(200, redemption.model_dump(mode="json"))

    return router
