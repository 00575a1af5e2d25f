"""Report requests from SQS (one export each, of any kind; a failed one is retried alone, then kept
in ReportFailures), the daily census and the quarter-hourly roll-up from their schedules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chorus.domain.points_report import ExportRequest
from chorus.errors import ChorusError
from chorus.services.exports import ExportDesk
from chorus.services.points_reports import PointsReportService
from chorus.services.rollups import RollupJob

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class ReportRequests:
    def __init__(
        self, service: PointsReportService, max_receives: int, exports: ExportDesk, *, rollup: RollupJob
    ) -> None:
        self._service = service
        self._max_receives = max_receives
        self._exports = exports
        self._rollup = rollup

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if event.get("job") == "rollup":
            return self._rollup.run()
        if "Records" not in event:
            census = self._service.take_census()
            return {"active": census.active, "groups": len(census.groups)}

        def produce(record: SQSRecord) -> str:
            export_id = ExportRequest.model_validate_json(record.body).export_id
            try:
                return self._exports.produce(export_id).status.value
            except ChorusError:
                if int(record.attributes.approximate_receive_count) >= self._max_receives:
                    self._exports.give_up(export_id)  # the message goes to ReportFailures next
                raise

        processor = BatchProcessor(event_type=EventType.SQS)
        return dict(process_partial_response(event=event, record_handler=produce, processor=processor, context=context))
