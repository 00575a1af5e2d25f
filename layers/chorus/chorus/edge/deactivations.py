"""The table's stream, filtered to employees whose ``active`` went from true to false -> withdraw
each (cancel their scheduled posts, delete their tokens). A failed record is reported alone
(partial batch response) and retried by the event source mapping; withdrawing twice is safe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chorus.services.lifecycle import LifecycleService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


def deactivated_employee(record: DynamoDBRecord) -> str | None:
    """The employee a stream record deactivates; None for any other change (the event source
    mapping's filter should let none through, but this does not rely on it)."""
    stream = record.dynamodb
    if stream is None:
        return None
    new, old = stream.new_image, stream.old_image
    if new.get("entity") != "employee" or not isinstance(new.get("employee_id"), str):
        return None
    if new.get("active") is not False or old.get("active") is not True:
        return None
    return str(new["employee_id"])


class Deactivations:
    def __init__(self, service: LifecycleService) -> None:
        self._service = service

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        def withdraw(record: DynamoDBRecord) -> int:
            employee_id = deactivated_employee(record)
            if employee_id is None:
                return 0
            return self._service.withdraw(employee_id).posts_cancelled

        processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
        return dict(
            process_partial_response(event=event, record_handler=withdraw, processor=processor, context=context)
        )
