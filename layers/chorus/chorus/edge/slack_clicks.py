"""SQS messages of the Slack click queue -> SlackOneClick, reporting failed messages only
(partial batch response). A click delivered twice approves once: the second finds it recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chorus.domain.slack import ButtonClick

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from chorus.services.slack import SlackOneClick


class SlackClicks:
    def __init__(self, one_click: SlackOneClick) -> None:
        self._one_click = one_click

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        def approve(record: SQSRecord) -> None:
            self._one_click.click(ButtonClick.model_validate_json(record.body))

        processor = BatchProcessor(event_type=EventType.SQS)
        return dict(process_partial_response(event=event, record_handler=approve, processor=processor, context=context))
