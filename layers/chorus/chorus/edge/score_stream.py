"""The table's stream (approvals and clicks, filtered by the event source mapping) -> awards.

Profiles and content are read once per batch; a failed record is reported alone (partial batch
response) and retried by the event source mapping, which the ledger makes safe. Visits past a
post's click cap are counted once per batch, for the records the stream will not deliver again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBStreamEvent

from chorus import clock
from chorus.services.scoring import Change, ScoringService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def change_of(record: DynamoDBRecord) -> Change:
    stream = record.dynamodb
    # The raw value: a stream may give it to the microsecond, and ties on a board go by time.
    when = stream.get("ApproximateCreationDateTime") if stream is not None else None
    return Change(
        # Deserialized by Powertools (numbers as Decimal: scoring reads the images' strings only).
        old=(stream.old_image or None) if stream is not None else None,
        new=(stream.new_image or None) if stream is not None else None,
        occurred_at=datetime.fromtimestamp(float(when), UTC) if when else clock.now(),
        record_id=record.event_id or "",
    )


class ScoreStream:
    def __init__(self, service: ScoringService) -> None:
        self._service = service

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        records = list(DynamoDBStreamEvent(event).records)
        changes = {record.event_id: change_of(record) for record in records}
        batch_context = self._service.context_for(list(changes.values()))

        def apply(record: DynamoDBRecord) -> int:
            return self._service.apply(changes[record.event_id], batch_context)

        processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
        response = process_partial_response(event=event, record_handler=apply, processor=processor, context=context)
        # Lambda redelivers from the first failed record on: only those before it are settled.
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        settled = [record.event_id or "" for record in records]
        for index, record in enumerate(records):
            if record.dynamodb is not None and record.dynamodb.sequence_number in failed:
                settled = settled[:index]
                break
        self._service.count_visits(batch_context, settled)
        return dict(response)
