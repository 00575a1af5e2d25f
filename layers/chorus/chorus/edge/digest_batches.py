"""SQS batches of the digest queue -> DigestSender, reporting failed messages only (partial batch
response): SQS delivers those again, and the digest markers send nothing twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chorus.domain.digest import DigestBatch
from chorus.services.digest import DigestSender

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


class DigestBatches:
    def __init__(self, sender: DigestSender) -> None:
        self._sender = sender

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        def send(record: SQSRecord) -> int:
            return self._sender.send_batch(DigestBatch.model_validate_json(record.body))

        processor = BatchProcessor(event_type=EventType.SQS)
        return dict(process_partial_response(event=event, record_handler=send, processor=processor, context=context))
