"""Shared fixtures. Unit tests never open a socket; integration tests run on moto in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# Never let a test reach a real AWS account, whatever the developer's shell holds.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)
for _variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_variable, None)

TABLE = "chorus-test-table"
IDEMPOTENCY_TABLE = "chorus-test-idempotency"
BUCKET = "chorus-test-uploads"
ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "UPLOADS_BUCKET": BUCKET,
    "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
    "ADMIN_GROUP": "chorus-admins",
    "GROUPS_CLAIM": "cognito:groups",
    "MAX_UPLOAD_BYTES": str(1024 * 1024),
    "POWERTOOLS_SERVICE_NAME": "chorus",
}


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto-backed AWS with the table, idempotency table and bucket from template.yaml."""
    import boto3
    from moto import mock_aws

    from tests.support.template import create_table

    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        s3 = boto3.client("s3")
        create_table(dynamodb, "Table", TABLE)
        create_table(dynamodb, "IdempotencyTable", IDEMPOTENCY_TABLE)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield {"dynamodb": dynamodb, "s3": s3}


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return ENVIRONMENT
