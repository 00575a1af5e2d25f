"""The model-validated fakes refuse what AWS would: a test built on them can fail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.support.aws_fakes import ModelError, ModelledClient, client_error, recorded


def test_an_answer_off_the_model_is_refused() -> None:
    # MaxSendRate is a number in the model; Max24HourSend spelt wrong is no member.
    sesv2 = ModelledClient("sesv2", {"GetAccount": {"SendQuota": {"Max24HourSends": 200.0, "MaxSendRate": "1"}}})

    with pytest.raises(ModelError, match="Max24HourSends"):
        sesv2.get_account()


def test_a_call_off_the_model_is_refused() -> None:
    cloudformation = ModelledClient("cloudformation", {"ListStackResources": {"StackResourceSummaries": []}})

    with pytest.raises(ParamValidationError, match="StackName"):
        cloudformation.list_stack_resources(NextToken="1")


def test_an_error_the_operation_never_answers_is_refused() -> None:
    with pytest.raises(ModelError, match="NoSuchBucket"):
        client_error("sesv2", "GetEmailIdentity", "NoSuchBucket", "no")
    assert isinstance(client_error("sesv2", "GetEmailIdentity", "NotFoundException", "no", 404), ClientError)


def test_a_processed_template_comes_back_decoded_as_boto3_does() -> None:
    cloudformation = ModelledClient(
        "cloudformation", {"GetTemplate": {"TemplateBody": '{"Resources": {}}', "StagesAvailable": ["Processed"]}}
    )

    assert cloudformation.get_template(StackName="s", TemplateStage="Processed")["TemplateBody"] == {"Resources": {}}


def test_recordings_are_parsed_as_boto3_parses_them() -> None:
    identity = recorded("sesv2", "GetEmailIdentity", "sesv2-get-email-identity-verified")

    assert identity["DkimAttributes"]["LastKeyGenerationTimestamp"] == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
