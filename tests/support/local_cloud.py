"""Steps the in-process local cloud tests share: seed through an upload, mint links, wait."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlencode

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from chorus.adapters.secrets_keys import SecretsKeyRing
from chorus.domain.magic_links import KeyRing, activity_scope, form_subject, sign_form, sign_link
from chorus_local.cloud import LocalCloud


def clear_runtime_caches() -> None:
    """Handlers cache their clients per warm container (chorus.bootstrap): a local cloud on new
    ports, or one a benchmark ran in this process, needs fresh ones."""
    bootstrap = sys.modules.get("chorus.bootstrap")
    for value in vars(bootstrap).values() if bootstrap is not None else ():
        clear = getattr(value, "cache_clear", None)
        if callable(clear):
            clear()


def eventually[T](check: Callable[[], T], timeout: float = 15.0) -> T:
    """``check()`` once it is truthy, or its last value after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def upload(cloud: LocalCloud, kind: str, name: str, body: str) -> None:
    """What an admin's upload does: the file lands in the bucket, ingest runs, all rows pass."""
    key = f"uploads/{kind}/tests/{name}"
    s3 = cloud.client("s3")
    bucket = cloud.resources["UploadsBucket"]
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    assert cloud.settle(30)
    report = json.loads(s3.get_object(Bucket=bucket, Key=f"reports/{key}.json")["Body"].read())
    assert report["counts"]["rejected"] == 0, report


def key_ring(cloud: LocalCloud) -> KeyRing:
    secrets = SecretsProvider(boto3_client=cloud.client("secretsmanager"))
    return SecretsKeyRing(secrets, cloud.resources["MagicLinkSecret"]).key_ring()


def activity_link(cloud: LocalCloud, employee_id: str, content_id: str, expires_at: datetime) -> str:
    ring = SecretsKeyRing(
        SecretsProvider(boto3_client=cloud.client("secretsmanager")), cloud.resources["MagicLinkSecret"]
    ).key_ring()
    return sign_link(ring, employee_id, activity_scope(content_id), expires_at)


def approval_form(
    cloud: LocalCloud, employee_id: str, content_id: str, *, content_version: int = 1, **fields: str
) -> str:
    """The body the activity page posts, for a page rendered a minute ago (a person read it) that
    showed ``content_version`` (1: the content as first uploaded)."""
    ring = SecretsKeyRing(
        SecretsProvider(boto3_client=cloud.client("secretsmanager")), cloud.resources["MagicLinkSecret"]
    ).key_ring()
    subject = form_subject(employee_id, activity_scope(content_id), "approve")
    form = sign_form(ring, subject, cloud.clock.now() - timedelta(minutes=1))
    return urlencode(
        {
            "form": form,
            "action": "approve",
            "content_version": str(content_version),
            "timezone": "Europe/Paris",
            **fields,
        }
    )
