"""EventBridge Scheduler: one one-time ``at()`` schedule per approved post.

A schedule delivers the post's ``PublishTarget`` to its network's publish queue (Scheduler's
SQS target sends the input as the message body), where the publisher reads it at the network's
concurrency (the shared queue for a network without its own). Deleting needs no target:
functions that only delete schedules pass none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError

from chorus.domain.content import Network
from chorus.domain.publishing import PublishTarget
from chorus.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient


class SchedulerError(StoreError):
    code = "scheduler_error"


class PostScheduler:
    def __init__(
        self,
        client: EventBridgeSchedulerClient,
        *,
        group_name: str,
        targets: Mapping[Network, str],
        shared_target: str | None,
        role_arn: str,
        dead_letter_arn: str,
    ) -> None:
        self._client = client
        self._group = group_name
        self._targets = dict(targets)
        self._shared_target = shared_target
        self._role_arn = role_arn
        self._dead_letter_arn = dead_letter_arn

    def schedule_once(self, name: str, at: datetime, timezone: str, target: PublishTarget) -> None:
        """Creates the schedule; an existing one of the same name (a retry) counts as done."""
        queue_arn = self._targets.get(target.network, self._shared_target)
        if queue_arn is None:
            raise SchedulerError(f"no publish queue for {target.network.value}")
        local = at.astimezone(ZoneInfo(timezone))
        try:
            self._client.create_schedule(
                Name=name,
                GroupName=self._group,
                ScheduleExpression=f"at({local:%Y-%m-%dT%H:%M:%S})",
                ScheduleExpressionTimezone=timezone,
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": queue_arn,
                    "RoleArn": self._role_arn,
                    "Input": json.dumps(target.message(), separators=(",", ":")),
                    "DeadLetterConfig": {"Arn": self._dead_letter_arn},
                    "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConflictException":
                return
            raise SchedulerError("could not schedule the post") from exc

    def delete(self, name: str) -> None:
        """Deletes a schedule; one already gone (fired, or deleted before) counts as done."""
        try:
            self._client.delete_schedule(Name=name, GroupName=self._group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise SchedulerError("could not delete the schedule") from exc
