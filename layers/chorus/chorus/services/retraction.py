"""Retracting content: it leaves the catalogue and none of its scheduled posts goes out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chorus import clock
from chorus.domain.approval import Approval
from chorus.domain.content import Content
from chorus.observability import logger


class Catalog(Protocol):
    def retract_content(self, content_id: str) -> Content: ...


class ApprovalRecords(Protocol):
    def approvals_of_content(self, content_id: str) -> list[tuple[str, str]]: ...
    def retract(self, pk: str, sk: str, now: datetime) -> Approval | None: ...


class ScheduleDeleter(Protocol):
    def delete(self, name: str) -> None: ...


class RetractionService:
    def __init__(
        self,
        catalog: Catalog,
        approvals: ApprovalRecords,
        scheduler: ScheduleDeleter,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._catalog = catalog
        self._approvals = approvals
        self._scheduler = scheduler
        self._now = now

    def retract(self, content_id: str) -> tuple[Content, int]:
        """Retracts the content first (the publisher re-checks it), then every scheduled post of it.

        Safe to repeat: posts already retracted, cancelled or published are left as they are.
        """
        content = self._catalog.retract_content(content_id)
        retracted = 0
        for pk, sk in self._approvals.approvals_of_content(content_id):
            approval = self._approvals.retract(pk, sk, self._now())
            if approval is not None:
                self._scheduler.delete(approval.schedule_name)
                retracted += 1
        logger.info("content retracted", content_id=content_id, scheduled_posts_retracted=retracted)
        return content, retracted
