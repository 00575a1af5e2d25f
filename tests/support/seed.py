"""Seeds content and employees through the real ingest path (what an admin upload does)."""

from __future__ import annotations

import json
from typing import Any

from chorus.bootstrap import build_ingest_service
from chorus.config import IngestSettings
from chorus.domain.content import content_id_for
from chorus.domain.employee import employee_id_for
from tests.conftest import BUCKET, ENVIRONMENT


def seed(aws: dict[str, Any], contents: list[dict[str, Any]], employees: list[dict[str, Any]]) -> None:
    service = build_ingest_service(
        IngestSettings.from_env(ENVIRONMENT), dynamodb_client=aws["dynamodb"], s3_client=aws["s3"]
    )
    for kind, rows in (("content", contents), ("employees", employees)):
        if not rows:
            continue
        key = f"uploads/{kind}/seed.jsonl"
        aws["s3"].put_object(Bucket=BUCKET, Key=key, Body="\n".join(json.dumps(row) for row in rows).encode())
        report = service.ingest_object(key)
        assert report.counts.rejected == 0, report.errors


def content_id(external_id: str) -> str:
    return content_id_for(external_id, "", "")


def employee_id(email: str) -> str:
    return employee_id_for(email)
