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

from chorus.adapters.sqs_queue import MessageQueue, QueueError
from chorus.domain.content import Network
from chorus.domain.publishing import PublishTarget

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


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
        queue = MessageQueue(self._client, self._url(network), f"{network.value} posts")
        return queue.send_all([json.dumps(target.message(), separators=(",", ":")) for target in targets])
