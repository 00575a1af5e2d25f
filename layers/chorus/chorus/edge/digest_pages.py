"""The digest planner's two triggers: the wave schedule (every quarter hour) starts the waves of
the employees whose digest time (theirs, or the company's) it is in their zone, and each SQS
message of the plan queue plans one roster page, reporting failed messages only (partial batch
response): SQS delivers those again, and the page claim plans nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chorus import clock
from chorus.domain.digest import PlanPage
from chorus.services.digest import DigestPlanner

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


def scheduled_time(event: dict[str, Any]) -> datetime:
    """The tick's scheduled time (EventBridge Scheduler's <aws.scheduler.scheduled-time>), so a
    late retry stands for its own quarter hour; the clock when the event does not carry it."""
    try:
        return datetime.fromisoformat(str(event["scheduled_time"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, ValueError):
        return clock.now()


class DigestPages:
    def __init__(self, planner: DigestPlanner) -> None:
        self._planner = planner

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if "Records" not in event:
            return self._planner.tick(scheduled_time(event)).as_json()

        def plan(record: SQSRecord) -> int:
            message = PlanPage.model_validate_json(record.body)
            return self._planner.plan_page(message, owner=record.message_id, now=clock.now()).batches

        processor = BatchProcessor(event_type=EventType.SQS)
        return dict(process_partial_response(event=event, record_handler=plan, processor=processor, context=context))
