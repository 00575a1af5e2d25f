"""``chorus report --stack`` reads the bucket from a deployed stack's outputs (moto in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from chorus_local.cli import main

STACK_TEMPLATE = {
    "Resources": {"Uploads": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "deployed-uploads"}}},
    "Outputs": {"UploadsBucketName": {"Value": {"Ref": "Uploads"}}},
}


@pytest.fixture
def deployed_stack() -> Iterator[None]:
    with mock_aws():
        boto3.client("cloudformation", region_name="eu-west-1").create_stack(
            StackName="chorus-prod", TemplateBody=json.dumps(STACK_TEMPLATE)
        )
        yield


def test_report_from_a_deployed_stack(deployed_stack: None, capsys: pytest.CaptureFixture[str]) -> None:
    report = {"key": "uploads/content/x.csv", "status": "completed", "counts": {"rows": 2, "rejected": 0}}
    boto3.client("s3", region_name="eu-west-1").put_object(
        Bucket="deployed-uploads", Key="reports/uploads/content/x.csv.json", Body=json.dumps(report).encode()
    )
    code = main(["report", "uploads/content/x.csv", "--stack", "chorus-prod", "--region", "eu-west-1"])
    assert code == 0
    assert "uploads/content/x.csv: completed" in capsys.readouterr().out


def test_unknown_stack_is_a_clear_error(deployed_stack: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "k", "--stack", "nope", "--region", "eu-west-1"]) == 1
    assert "cannot describe stack nope" in capsys.readouterr().err
