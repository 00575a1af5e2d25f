"""SQS: one publish queue per network, which the publisher reads at that network's concurrency;
a shared one for the sandbox and any network registered without a queue of its own.

A schedule delivers a due post to its network's queue; the sweeper sends the ones it finds here.
The message is the post's ``PublishTarget`` (``{"approval": {...}}``), as a schedule's input is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.domain.content import Network
from chorus.domain.publishing import PublishTarget
from chorus.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SEND_BATCH_LIMIT = 10  # SendMessageBatch entries per call
# A batch's entries SQS could not take are sent again this many times in all.
SEND_ATTEMPTS = 3


class QueueError(StoreError):
    code = "queue_error"


class SqsPublishQueues:
    def __init__(self, client: SQSClient, urls: Mapping[Network, str], *, shared: str) -> None:
        self._client = client
        self._urls = dict(urls)
        self._shared = shared

    def _url(self, network: Network) -> str:
        return self._urls.get(network, self._shared)

    def waiting(self, network: Network) -> int:
        """Messages waiting to be read in the network's queue (not those being read now)."""
        try:
            attributes = self._client.get_queue_attributes(
                QueueUrl=self._url(network), AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
        except ClientError as exc:
            raise QueueError(f"could not read the {network.value} publish queue") from exc
        return int(attributes.get("ApproximateNumberOfMessages", "0"))

    def send(self, network: Network, targets: Sequence[PublishTarget]) -> int:
        """Every target, ten per call; returns the number of calls made."""
        calls = 0
        for start in range(0, len(targets), SEND_BATCH_LIMIT):
            chunk = targets[start : start + SEND_BATCH_LIMIT]
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(index), "MessageBody": json.dumps(target.message(), separators=(",", ":"))}
                for index, target in enumerate(chunk)
            ]
            for _attempt in range(SEND_ATTEMPTS):
                calls += 1
                try:
                    response = self._client.send_message_batch(QueueUrl=self._url(network), Entries=entries)
                except ClientError as exc:
                    raise QueueError(f"could not enqueue {network.value} posts") from exc
                failed = {entry["Id"] for entry in response.get("Failed", [])}
                entries = [entry for entry in entries if entry["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise QueueError(f"{len(entries)} {network.value} posts could not be enqueued")
        return calls
