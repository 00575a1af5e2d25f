"""S3 event notifications from moto to in-process functions.

Choice: moto already evaluates bucket notification configurations (event names, prefix and
suffix filter rules) on every PutObject/CopyObject/CompleteMultipartUpload. The provisioner
therefore writes each bucket's ``NotificationConfiguration`` from the template's ``Type: S3``
function events, pointing at the functions' ARNs, exactly as SAM would. moto would then try to
run a moto-hosted Lambda (which does not exist, and needs Docker); instead
:class:`S3NotificationHook` wraps ``moto.s3.notifications.send_event``: Lambda targets that
are local functions are routed to our async invoker (with the real-shaped event, including
``versionId`` and ``sequencer`` moto omits), everything else (SQS, SNS, EventBridge targets)
still goes through moto's own code. Polling the bucket or diffing listings would miss
overwrites and add latency; a moto patch keeps the filter semantics moto already implements.
Writes under ``reports/`` do not match the ``uploads/...`` prefix rules so they trigger nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from chorus import clock
from chorus_local.functions import FunctionSpec
from chorus_local.log import get_logger

logger = get_logger(__name__)

Router = Callable[[FunctionSpec, dict[str, Any]], None]

_sequencer_lock = threading.Lock()
_sequencer = [0]


def encode_key(key: str) -> str:
    """Object key as it appears in S3 event notifications: form-encoded, slashes kept."""
    return quote_plus(key, safe="/")


def next_sequencer() -> str:
    with _sequencer_lock:
        _sequencer[0] += 1
        return f"{_sequencer[0]:016X}"


def build_s3_event(
    *,
    event_name: str,
    region: str,
    bucket: str,
    key: str,
    size: int,
    etag: str,
    version_id: str | None,
    configuration_id: str,
    source_ip: str = "127.0.0.1",
    now: datetime | None = None,
) -> dict[str, Any]:
    when = now or clock.now()
    obj: dict[str, Any] = {"key": encode_key(key), "size": size, "eTag": etag.strip('"')}
    if version_id and version_id != "null":
        obj["versionId"] = version_id
    obj["sequencer"] = next_sequencer()
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "eventName": event_name.removeprefix("s3:"),
                "userIdentity": {"principalId": "AWS:AIDALOCALCHORUS"},
                "requestParameters": {"sourceIPAddress": source_ip},
                "responseElements": {
                    "x-amz-request-id": next_sequencer(),
                    "x-amz-id-2": "local",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3LOCALCHORUS"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


def _unset(*_args: Any) -> None:
    return None


class S3NotificationHook:
    """Installs/uninstalls the moto patch described in the module docstring."""

    def __init__(self, resolve_function: Callable[[str], FunctionSpec | None], router: Router) -> None:
        self._resolve = resolve_function
        self._router = router
        self._original_send_event: Callable[..., None] | None = None
        self._original_invoke: Callable[..., None] = _unset

    def install(self) -> None:
        from moto.s3 import notifications

        if self._original_send_event is not None:
            return
        self._original_send_event = notifications.send_event
        self._original_invoke = notifications._invoke_awslambda
        original_send: Callable[..., None] = notifications.send_event
        original_invoke: Callable[..., None] = notifications._invoke_awslambda

        def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
            config = bucket.notification_configuration
            if config is not None:
                for notification in config.cloud_function:
                    spec = self._resolve(notification.arn)
                    if spec is not None and notification.matches(event_name, key.name):
                        name = str(getattr(event_name, "value", event_name))
                        self._dispatch(spec, name, bucket, key, notification.id)
            original_send(account_id, event_name, bucket, key)

        def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
            if self._resolve(fn_arn) is None:  # local functions were handled above
                original_invoke(account_id, event_body, fn_arn, region_name)

        notifications.send_event = send_event
        notifications._invoke_awslambda = invoke_awslambda

    def uninstall(self) -> None:
        from moto.s3 import notifications

        if self._original_send_event is not None:
            notifications.send_event = self._original_send_event
            notifications._invoke_awslambda = self._original_invoke
            self._original_send_event = None
            self._original_invoke = _unset

    def _dispatch(self, spec: FunctionSpec, event_name: str, bucket: Any, key: Any, configuration_id: str) -> None:
        event = build_s3_event(
            event_name=event_name,
            region=str(bucket.region_name),
            bucket=str(bucket.name),
            key=str(key.name),
            size=int(key.size),
            etag=str(key.etag),
            version_id=getattr(key, "version_id", None),
            configuration_id=configuration_id,
        )
        logger.info("s3 notification", function=spec.name, bucket=bucket.name, event=event_name)
        try:
            self._router(spec, event)
        except Exception:  # never fail the PutObject that triggered us
            logger.exception("s3 notification routing failed", function=spec.name)
