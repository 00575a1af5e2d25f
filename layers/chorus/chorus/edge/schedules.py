"""Due posts -> one publication attempt each.

A post's ``PublishTarget`` arrives as a message of its network's publish queue (an SQS batch;
a schedule fired, or the sweeper sent it), each message published on its own and reported alone
when it fails (partial batch response): SQS delivers it again, and the publisher's conditional
transitions publish it once whatever the deliveries. Schedules created before posts went
through the queues still invoke the publisher directly with the same ``{"approval": {...}}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chorus.domain.publishing import PublishMessage
from chorus.services.publish import PublishService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


class ScheduledPosts:
    def __init__(self, service: PublishService) -> None:
        self._service = service

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if "Records" not in event:
            target = PublishMessage.model_validate(event).approval
            return {"outcome": self._service.publish(target).value}

        def publish(record: SQSRecord) -> str:
            return self._service.publish(PublishMessage.model_validate_json(record.body).approval).value

        processor = BatchProcessor(event_type=EventType.SQS)
        return dict(process_partial_response(event=event, record_handler=publish, processor=processor, context=context))
