"""Asynchronous invocation semantics (S3 notifications, schedules) for in-process handlers.

Like Lambda's async invoke: the caller gets control back at once, the event is queued, a failed
attempt is retried up to the function's ``EventInvokeConfig.MaximumRetryAttempts`` (default 2),
then the event goes to the ``OnFailure`` destination (SQS, SNS or another function) or the
``DeadLetterQueue``, wrapped in the same invocation record Lambda sends. Successes go to
``OnSuccess`` when one is configured. Retries are immediate-ish (``retry_delay`` seconds)
instead of Lambda's minutes so local feedback stays fast.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chorus import clock
from chorus_local.functions import FunctionRuntime, FunctionSpec
from chorus_local.log import get_logger

logger = get_logger(__name__)

ClientFactory = Callable[[str], Any]


@dataclass
class AsyncResult:
    function: str
    attempts: int
    ok: bool
    error: str | None = None
    response: Any = None


def _error_payload(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_exception(exc)[-5:],
    }


class AsyncInvoker:
    def __init__(self, runtime: FunctionRuntime, client: ClientFactory, retry_delay: float = 0.2) -> None:
        self._runtime = runtime
        self._client = client
        self._retry_delay = retry_delay
        self._queue: queue.Queue[tuple[FunctionSpec, Any, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.results: list[AsyncResult] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chorus-async-invoker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, spec: FunctionSpec, event: Any, source: str) -> None:
        logger.info("queued async invoke", function=spec.name, source=source)
        self._queue.put((spec, event, source))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued event has been handled (tests and the clock use it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                spec, event, _source = item
                self.invoke_now(spec, event)
            except Exception:  # the worker must survive anything a destination does
                logger.exception("async worker failure")
            finally:
                self._queue.task_done()

    # ------------------------------------------------------------------ one async invocation

    def invoke_now(self, spec: FunctionSpec, event: Any) -> AsyncResult:
        """Run one async invocation inline: retries, then destinations."""
        attempts = 0
        last_error: BaseException | None = None
        while attempts <= spec.max_retry_attempts:
            attempts += 1
            try:
                response = self._runtime.invoke(spec, event)
            except Exception as exc:
                last_error = exc
                logger.warning("async attempt failed", function=spec.name, attempt=attempts, error=type(exc).__name__)
                if attempts <= spec.max_retry_attempts:
                    time.sleep(self._retry_delay)
                continue
            result = AsyncResult(spec.name, attempts, True, response=response)
            self._deliver(spec, "OnSuccess", event, attempts, response=response)
            self.results.append(result)
            return result
        assert last_error is not None
        result = AsyncResult(spec.name, attempts, False, error=f"{type(last_error).__name__}: {last_error}")
        self._deliver(spec, "OnFailure", event, attempts, error=last_error)
        self.results.append(result)
        return result

    def _record(
        self, spec: FunctionSpec, event: Any, attempts: int, response: Any, error: BaseException | None
    ) -> dict[str, Any]:
        return {
            "version": "1.0",
            "timestamp": clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{spec.arn}:$LATEST",
                "condition": "RetriesExhausted" if error is not None else "Success",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({"functionError": "Unhandled"} if error is not None else {}),
            },
            "responsePayload": _error_payload(error) if error is not None else response,
        }

    def _deliver(  # noqa: PLR0917
        self,
        spec: FunctionSpec,
        kind: str,
        event: Any,
        attempts: int,
        response: Any = None,
        error: BaseException | None = None,
    ) -> None:
        destination = spec.destination(kind)
        if destination is None and error is not None and spec.dead_letter_queue:
            dlq = spec.dead_letter_queue
            self._send(str(dlq.get("Type", "SQS")), str(dlq["TargetArn"]), json.dumps(event, default=str))
            return
        if destination is None:
            if error is not None:
                logger.error("async invoke failed, no destination", function=spec.name, attempts=attempts)
            return
        record = self._record(spec, event, attempts, response, error)
        body = json.dumps(record, default=str)
        self._send(str(destination.get("Type", "")), str(destination.get("Destination", "")), body)

    def _send(self, kind: str, arn: str, body: str) -> None:
        service = arn.split(":")[2] if arn.count(":") >= 5 else kind.lower()
        if service == "sqs":
            queue_name = arn.rsplit(":", maxsplit=1)[-1]
            sqs = self._client("sqs")
            url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif service == "sns":
            self._client("sns").publish(TopicArn=arn, Message=body)
        elif service == "lambda":
            target = self._runtime.by_name_or_arn(arn)
            if target is not None:
                self.submit(target, json.loads(body), source="destination")
        else:
            logger.warning("unsupported destination", destination_type=kind)
            return
        logger.info("sent to destination", service=service, name=arn.rsplit(":", maxsplit=1)[-1])
