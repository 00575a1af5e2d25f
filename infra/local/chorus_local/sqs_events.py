"""SQS event source mappings: poll the template's queues and invoke their functions.

Like Lambda's SQS poller: messages are received in batches of ``BatchSize`` (at most 10), the
function is invoked synchronously with an ``aws:sqs`` event, and on success the batch is deleted
except the ``batchItemFailures`` the function reports (when ``FunctionResponseTypes`` has
``ReportBatchItemFailures``). A failed invocation deletes nothing: the messages come back after
the queue's visibility timeout and moto applies the queue's redrive policy (``maxReceiveCount``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chorus_local.filters import parse_filter_criteria, passes, sqs_filter_view
from chorus_local.functions import FunctionRuntime, FunctionSpec
from chorus_local.log import get_logger
from chorus_local.problems import Problems

logger = get_logger(__name__)

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class SqsMapping:
    function: FunctionSpec
    queue_arn: str
    batch_size: int
    report_failures: bool
    enabled: bool = True
    patterns: tuple[dict[str, Any], ...] = ()

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]


def mappings_from_functions(functions: dict[str, FunctionSpec]) -> list[SqsMapping]:
    mappings: list[SqsMapping] = []
    for spec in functions.values():
        for event in spec.events:
            if event.type != "SQS":
                continue
            props = event.properties
            mappings.append(
                SqsMapping(
                    function=spec,
                    queue_arn=str(props["Queue"]),
                    batch_size=min(int(props.get("BatchSize", 10)), 10),
                    report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    enabled=props.get("Enabled", True) is not False,
                    patterns=tuple(parse_filter_criteria(props.get("FilterCriteria"))),
                )
            )
    return mappings


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attributes = {
        key: value
        for key, value in (message.get("Attributes") or {}).items()
        if key
        in {
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
            "MessageGroupId",
            "MessageDeduplicationId",
            "SequenceNumber",
            "AWSTraceHeader",
        }
    }
    message_attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class SqsPoller:
    def __init__(
        self,
        runtime: FunctionRuntime,
        client: ClientFactory,
        mappings: list[SqsMapping],
        region: str,
        *,
        poll_interval: float = 0.2,
        problems: Problems | None = None,
    ) -> None:
        self.problems = problems or Problems()
        self._runtime = runtime
        self._client = client
        self.mappings = [mapping for mapping in mappings if mapping.enabled]
        self._region = region
        self._poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Event()
        self._urls: dict[str, str] = {}

    def start(self) -> None:
        if not self.mappings:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="chorus-sqs-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _url(self, mapping: SqsMapping) -> str:
        if mapping.queue_name not in self._urls:
            self._urls[mapping.queue_name] = self._client("sqs").get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
        return self._urls[mapping.queue_name]

    def _run(self) -> None:
        while not self._stop.is_set():
            worked = False
            for mapping in self.mappings:
                try:
                    worked = self.poll_once(mapping) or worked
                except Exception as exc:  # keep polling whatever one queue does
                    logger.exception("sqs poll failed", queue=mapping.queue_name)
                    self.problems.record("sqs poller", f"{type(exc).__name__}: {exc}", mapping.function.name)
            if not worked:
                self._stop.wait(self._poll_interval)

    def poll_once(self, mapping: SqsMapping) -> bool:
        """Receive and process one batch; True if there was one."""
        sqs = self._client("sqs")
        url = self._url(mapping)
        self._busy.set()
        try:
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=mapping.batch_size,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return False
            records = [sqs_record(message, mapping.queue_arn, self._region) for message in messages]
            patterns = list(mapping.patterns)
            dropped = [m for m, r in zip(messages, records, strict=True) if not passes(patterns, sqs_filter_view(r))]
            if dropped:  # Lambda deletes messages its filter criteria reject
                self._delete(url, dropped)
                kept = {m["MessageId"] for m in messages} - {m["MessageId"] for m in dropped}
                messages = [m for m in messages if m["MessageId"] in kept]
                records = [r for r in records if r["messageId"] in kept]
                if not messages:
                    return True
            event = {"Records": records}
            try:
                response = self._runtime.invoke(mapping.function, event)
            except Exception as exc:
                logger.warning(
                    "sqs batch failed", function=mapping.function.name, size=len(messages), error=type(exc).__name__
                )
                return True
            failed: set[str] = set()
            if mapping.report_failures and isinstance(response, dict):
                failed = {str(item.get("itemIdentifier")) for item in response.get("batchItemFailures") or []}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self._delete(url, done)
            logger.info("sqs batch", function=mapping.function.name, size=len(messages), failed=len(failed))
            return True
        finally:
            self._busy.clear()

    def _delete(self, url: str, messages: list[dict[str, Any]]) -> None:
        self._client("sqs").delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Until no mapped queue has visible messages and no batch is being processed."""
        if not self.mappings:
            return True
        sqs = self._client("sqs")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            visible = 0
            for mapping in self.mappings:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=self._url(mapping), AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                visible += int(attributes.get("ApproximateNumberOfMessages", 0))
            if visible == 0 and not self._busy.is_set():
                return True
            time.sleep(0.05)
        return False
