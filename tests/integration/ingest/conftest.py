from __future__ import annotations

import json
from typing import Any

import pytest

from chorus.bootstrap import build_ingest_service
from chorus.config import IngestSettings
from chorus.services.ingest import IngestService
from tests.conftest import BUCKET, ENVIRONMENT


@pytest.fixture
def service(aws: dict[str, Any]) -> IngestService:
    return build_ingest_service(
        IngestSettings.from_env(ENVIRONMENT), dynamodb_client=aws["dynamodb"], s3_client=aws["s3"]
    )


@pytest.fixture
def upload(aws: dict[str, Any]):
    """Puts a file in the uploads bucket, as an admin's upload would."""

    def put(key: str, data: bytes | str) -> str:
        body = data.encode() if isinstance(data, str) else data
        response = aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)
        return response.get("VersionId")

    return put


@pytest.fixture
def stored_report(aws: dict[str, Any]):
    def read(upload_key: str) -> dict[str, Any]:
        body = aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{upload_key}.json")["Body"].read()
        return json.loads(body)

    return read


@pytest.fixture
def item(aws: dict[str, Any]):
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()

    def get(pk: str, sk: str) -> dict[str, Any] | None:
        found = aws["dynamodb"].get_item(TableName=ENVIRONMENT["TABLE_NAME"], Key={"PK": {"S": pk}, "SK": {"S": sk}})
        if "Item" not in found:
            return None
        return {name: deserializer.deserialize(value) for name, value in found["Item"].items()}

    return get
