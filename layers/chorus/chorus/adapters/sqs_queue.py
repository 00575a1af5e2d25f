"""SQS: the digest planner hands batches of recipients to the sender; the admin API hands report
requests to the report function; schedules and the sweeper hand due posts to the publisher."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SEND_BATCH_LIMIT = 10  # SendMessageBatch entries per call
# A batch's entries SQS could not take are sent again this many times in all.
SEND_ATTEMPTS = 3


class QueueError(StoreError):
    code = "queue_error"


class MessageQueue:
    def __init__(self, client: SQSClient, queue_url: str, what: str = "digest batches") -> None:
        self._client = client
        self._url = queue_url
        self._what = what

    def send_all(self, bodies: Sequence[str]) -> int:
        """Sends every body, ten per call; returns the number of calls made."""
        calls = 0
        for start in range(0, len(bodies), SEND_BATCH_LIMIT):
            chunk = bodies[start : start + SEND_BATCH_LIMIT]
            entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)]
            for _attempt in range(SEND_ATTEMPTS):
                calls += 1
                try:
                    response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)  # type: ignore[arg-type]
                except ClientError as exc:
                    raise QueueError(f"could not enqueue {self._what}") from exc
                failed = {entry["Id"] for entry in response.get("Failed", [])}
                entries = [entry for entry in entries if entry["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise QueueError(f"{len(entries)} {self._what} could not be enqueued")
        return calls
