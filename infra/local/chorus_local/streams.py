"""DynamoDB Streams event source mappings: stream records to functions, with filter criteria.

Like Lambda's stream poller: per mapping one iterator on the table's stream (``LATEST`` or
``TRIM_HORIZON`` from ``StartingPosition``), batches of up to ``BatchSize`` records, records not
matching ``FilterCriteria`` dropped (so a function that writes to its own table only sees the
item types it asked for), the batch retried on error (or from the first reported
``batchItemFailures`` sequence number) up to ``MaximumRetryAttempts`` (Lambda's default is
unlimited; locally it stops after ``DEFAULT_RETRIES`` so a bug does not spin forever), then a
``DDBStreamBatchInfo`` record goes to the ``OnFailure`` destination and the poller moves on.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chorus_local.filters import parse_filter_criteria, passes
from chorus_local.functions import FunctionRuntime, FunctionSpec
from chorus_local.log import get_logger

logger = get_logger(__name__)

ClientFactory = Callable[[str], Any]
DEFAULT_RETRIES = 2


@dataclass
class StreamMapping:
    function: FunctionSpec
    stream_arn: str
    starting_position: str
    batch_size: int
    patterns: list[dict[str, Any]]
    report_failures: bool
    max_retries: int
    on_failure: dict[str, Any] | None
    iterator: str | None = field(default=None)
    shard_id: str | None = field(default=None)


def mappings_from_functions(functions: dict[str, FunctionSpec]) -> list[StreamMapping]:
    mappings: list[StreamMapping] = []
    for spec in functions.values():
        for event in spec.events:
            if event.type != "DynamoDB" or event.properties.get("Enabled", True) is False:
                continue
            props = event.properties
            retries = int(props.get("MaximumRetryAttempts", -1))
            mappings.append(
                StreamMapping(
                    function=spec,
                    stream_arn=str(props["Stream"]),
                    starting_position=str(props.get("StartingPosition", "LATEST")),
                    batch_size=int(props.get("BatchSize", 100)),
                    patterns=parse_filter_criteria(props.get("FilterCriteria")),
                    report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    max_retries=DEFAULT_RETRIES if retries < 0 else retries,
                    on_failure=((props.get("DestinationConfig") or {}).get("OnFailure")),
                )
            )
    return mappings


def _jsonable(value: Any) -> Any:
    """boto3-deserialized stream data back to the JSON Lambda receives (bytes as base64, times as epoch)."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(item) for item in value]
    return value


class StreamPoller:
    def __init__(
        self,
        runtime: FunctionRuntime,
        client: ClientFactory,
        mappings: list[StreamMapping],
        region: str,
        poll_interval: float = 0.2,
    ) -> None:
        self._runtime = runtime
        self._client = client
        self.mappings = mappings
        self._region = region
        self._poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Event()
        self._idle_passes = 0

    def start(self) -> None:
        if not self.mappings:
            return
        for mapping in self.mappings:
            self._open(mapping)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="chorus-stream-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _open(self, mapping: StreamMapping) -> None:
        streams = self._client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=mapping.stream_arn)["StreamDescription"]["Shards"]
        mapping.shard_id = str(shards[0]["ShardId"])
        mapping.iterator = streams.get_shard_iterator(
            StreamArn=mapping.stream_arn,
            ShardId=mapping.shard_id,
            ShardIteratorType="TRIM_HORIZON" if mapping.starting_position == "TRIM_HORIZON" else "LATEST",
        )["ShardIterator"]

    def _run(self) -> None:
        while not self._stop.is_set():
            worked = False
            for mapping in self.mappings:
                try:
                    worked = self.poll_once(mapping) or worked
                except Exception:  # keep polling whatever one mapping does
                    logger.exception("stream poll failed", function=mapping.function.name)
            if not worked:
                self._idle_passes += 1
                self._stop.wait(self._poll_interval)

    def poll_once(self, mapping: StreamMapping) -> bool:
        if mapping.iterator is None:
            return False
        self._busy.set()
        try:
            page = self._client("dynamodbstreams").get_records(
                ShardIterator=mapping.iterator, Limit=min(mapping.batch_size, 1000)
            )
            mapping.iterator = page.get("NextShardIterator")
            raw = page.get("Records") or []
            if not raw:
                return False
            records = [
                {**_jsonable(record), "awsRegion": self._region, "eventSourceARN": mapping.stream_arn} for record in raw
            ]
            selected = [record for record in records if passes(mapping.patterns, record)]
            if selected:
                self._deliver(mapping, selected)
            return True
        finally:
            self._busy.clear()

    def _deliver(self, mapping: StreamMapping, records: list[dict[str, Any]]) -> None:
        batch = records
        for attempt in range(1, mapping.max_retries + 2):
            try:
                response = self._runtime.invoke(mapping.function, {"Records": batch})
            except Exception as exc:
                logger.warning(
                    "stream batch failed", function=mapping.function.name, attempt=attempt, error=type(exc).__name__
                )
                continue
            failed = []
            if mapping.report_failures and isinstance(response, dict):
                failed = [str(item.get("itemIdentifier")) for item in response.get("batchItemFailures") or []]
            if not failed:
                return
            sequence_numbers = [str(record["dynamodb"]["SequenceNumber"]) for record in batch]
            first = min((sequence_numbers.index(s) for s in failed if s in sequence_numbers), default=0)
            batch = batch[first:]
        self._on_failure(mapping, batch, mapping.max_retries + 1)

    def _on_failure(self, mapping: StreamMapping, batch: list[dict[str, Any]], attempts: int) -> None:
        destination = mapping.on_failure or {}
        arn = str(destination.get("Destination", ""))
        logger.error("stream batch dropped", function=mapping.function.name, size=len(batch), destination=arn or None)
        if not arn:
            return
        created = [record["dynamodb"].get("ApproximateCreationDateTime", 0) for record in batch]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": mapping.function.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": mapping.shard_id,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": min(created),
                "approximateArrivalOfLastRecord": max(created),
                "batchSize": len(batch),
                "streamArn": mapping.stream_arn,
            },
        }
        body = json.dumps(record, default=str)
        if ":sqs:" in arn:
            sqs = self._client("sqs")
            url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif ":sns:" in arn:
            self._client("sns").publish(TopicArn=arn, Message=body)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until a full pass over every stream, begun after this call, finds nothing new."""
        if self._thread is None:
            return True
        start = self._idle_passes
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle_passes >= start + 2:
                return True
            time.sleep(0.02)
        return False
