"""DynamoDB Streams event source mappings: stream records to functions, with filter criteria.

Like Lambda's stream poller: per mapping a position in the table's stream (``LATEST`` or
``TRIM_HORIZON`` from ``StartingPosition``), batches of up to ``BatchSize`` records, records not
matching ``FilterCriteria`` dropped (so a function that writes to its own table only sees the
item types it asked for), the batch retried on error (or from the first reported
``batchItemFailures`` sequence number) up to ``MaximumRetryAttempts`` (Lambda's default is
unlimited; locally it stops after ``DEFAULT_RETRIES`` so a bug does not spin forever), then a
``DDBStreamBatchInfo`` record goes to the ``OnFailure`` destination and the poller moves on.

The position is the last sequence number handled, and every poll reads the stream of the table
as it is now, from there. moto cancels a transaction by putting a copy of the table in place of
the one it wrote to: a shard iterator kept from before keeps reading the abandoned copy, and
nothing would be delivered again; so would an iterator asked for just before the rollback and
read just after (it would even deliver the cancelled writes). The stream is therefore read
straight from moto's backend in this process (``MotoStreams``), under the same lock that runs
moto's DynamoDB requests one at a time (``cloud.py``): a read never sees half a transaction,
nothing is lost, nothing is delivered twice (a batch is re-delivered only when its function
failed, as Lambda does), and no shard iterator piles up in moto at each poll.

``ApproximateCreationDateTime`` is moto's wall-clock time moved by the virtual clock's offset,
so functions that date what they do by the record (scoring) follow ``chorus local tick``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from chorus import clock
from chorus_local.filters import parse_filter_criteria, passes
from chorus_local.functions import FunctionRuntime, FunctionSpec
from chorus_local.log import get_logger
from chorus_local.problems import Problems

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
    shard_id: str | None = field(default=None)
    # The last sequence number handled (delivered, filtered out or given up on); None: the start.
    position: str | None = field(default=None)


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


class StreamSource(Protocol):
    def shard_id(self, stream_arn: str) -> str: ...
    def read(self, stream_arn: str, after: int | None, limit: int) -> list[dict[str, Any]]: ...


class MotoStreams:
    """The streams of moto's tables, read in this process under moto's DynamoDB lock.

    Records come out as GetRecords would return them (DynamoDB JSON, binary as base64, times
    as epoch seconds).
    """

    def __init__(self, account_id: str, region: str, lock: AbstractContextManager[Any]) -> None:
        self._account_id = account_id
        self._region = region
        self._lock = lock

    def _shard(self, stream_arn: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        table_name = stream_arn.split(":", 5)[5].split("/")[1]
        shard = dynamodb_backends[self._account_id][self._region].get_table(table_name).stream_shard
        if shard is None:
            raise LookupError(f"table {table_name} has no stream")
        return shard

    def shard_id(self, stream_arn: str) -> str:
        with self._lock:
            return str(self._shard(stream_arn).id)

    def read(self, stream_arn: str, after: int | None, limit: int) -> list[dict[str, Any]]:
        from moto.dynamodb.models.utilities import dynamo_json_dump

        with self._lock:
            shard = self._shard(stream_arn)
            start = shard.starting_sequence_number if after is None else after + 1
            records: list[dict[str, Any]] = json.loads(dynamo_json_dump(shard.get(start, limit)))
            return records


class StreamPoller:
    def __init__(
        self,
        runtime: FunctionRuntime,
        client: ClientFactory,
        source: StreamSource,
        mappings: list[StreamMapping],
        region: str,
        *,
        poll_interval: float = 0.2,
        problems: Problems | None = None,
        clock_offset: Callable[[], timedelta] = lambda: timedelta(0),
    ) -> None:
        self._runtime = runtime
        self._client = client
        self._source = source
        self.mappings = mappings
        self._region = region
        self._poll_interval = poll_interval
        self.problems = problems or Problems()
        self._clock_offset = clock_offset
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # One poll at a time, from the thread or from drain(): a batch is never delivered twice.
        self._polling = threading.Lock()

    def start(self) -> None:
        if not self.mappings:
            return
        for mapping in self.mappings:
            self.open(mapping)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="chorus-stream-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def open(self, mapping: StreamMapping) -> None:
        """Finds the shard, and for ``LATEST`` the last record already there (``TRIM_HORIZON``
        starts before the first)."""
        mapping.shard_id = self._source.shard_id(mapping.stream_arn)
        mapping.position = None
        if mapping.starting_position == "TRIM_HORIZON":
            return
        while records := self._read(mapping, limit=1000):
            mapping.position = str(records[-1]["dynamodb"]["SequenceNumber"])

    def _read(self, mapping: StreamMapping, limit: int) -> list[dict[str, Any]]:
        after = int(mapping.position) if mapping.position is not None else None
        return self._source.read(mapping.stream_arn, after, limit)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.poll_all():
                self._stop.wait(self._poll_interval)

    def poll_all(self) -> bool:
        """One pass over every mapping; True if any had records. Errors are recorded, not raised."""
        worked = False
        for mapping in self.mappings:
            try:
                worked = self.poll_once(mapping) or worked
            except Exception as exc:  # keep polling whatever one mapping does
                logger.exception("stream poll failed", function=mapping.function.name)
                self.problems.record("stream poller", f"{type(exc).__name__}: {exc}", mapping.function.name)
        return worked

    def drain(self, timeout: float = 30.0) -> bool:
        """Delivers, in the caller's thread, everything already in the streams; True once a pass
        finds nothing new."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.poll_all():
                return True
        return False

    def poll_once(self, mapping: StreamMapping) -> bool:
        with self._polling:
            raw = self._read(mapping, limit=min(mapping.batch_size, 1000))
            if not raw:
                return False
            offset = self._clock_offset().total_seconds()
            records = [{**record, "awsRegion": self._region, "eventSourceARN": mapping.stream_arn} for record in raw]
            for record in records:
                created = record["dynamodb"].get("ApproximateCreationDateTime")
                if created is not None:
                    record["dynamodb"]["ApproximateCreationDateTime"] = int(float(created) + offset)
            selected = [record for record in records if passes(mapping.patterns, record)]
            if selected:
                self._deliver(mapping, selected)
            mapping.position = str(raw[-1]["dynamodb"]["SequenceNumber"])
            return True

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
        self.problems.record(
            "stream poller",
            f"{len(batch)} record(s) given up on after {attempts} attempt(s)"
            + (f", sent to {arn.rsplit(':', 1)[-1]}" if arn else ", no OnFailure destination"),
            mapping.function.name,
        )
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
            "timestamp": clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
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
