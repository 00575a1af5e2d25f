"""EventBridge Scheduler's input for an approved post ({"approval": {...}}) -> one publication attempt."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from chorus.services.publish import PublishService, PublishTarget


class _ScheduleInput(BaseModel):
    """What ``services.publish.schedule_payload`` put in the schedule."""

    model_config = ConfigDict(frozen=True)

    approval: PublishTarget


class ScheduledPosts:
    def __init__(self, service: PublishService) -> None:
        self._service = service

    def handle(self, event: dict[str, Any]) -> dict[str, str]:
        target = _ScheduleInput.model_validate(event).approval
        return {"outcome": self._service.publish(target).value}
