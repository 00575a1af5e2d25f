"""Template reader: short tags, intrinsic functions, conditions, names, the real template.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from chorus_local.functions import load_functions
from chorus_local.template import Stack, TemplateError, UnresolvableError, load_template, load_template_text

ROOT = Path(__file__).resolve().parents[3]

SMALL = """
Parameters:
  Stage: {Type: String, Default: dev}
  Size: {Type: Number, Default: 42}
  Issuer: {Type: String, Default: ""}
Conditions:
  NoIssuer: !Equals [!Ref Issuer, ""]
  HasIssuer: !Not [!Condition NoIssuer]
  Both: !And [!Condition NoIssuer, !Equals [!Ref Stage, dev]]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {KeySchema: []}
  Named:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "chorus-${Stage}-${AWS::AccountId}-${AWS::Region}"
  Anonymous:
    Type: AWS::S3::Bucket
  Queue:
    Type: AWS::SQS::Queue
  Fifo:
    Type: AWS::SQS::Queue
    Properties: {FifoQueue: true}
  Topic:
    Type: AWS::SNS::Topic
  OnlyWithIssuer:
    Type: AWS::SNS::Topic
    Condition: HasIssuer
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: m.h
      Environment:
        Variables:
          TABLE_ARN: !GetAtt Table.Arn
          SUB_ARN: !Sub "${Table.Arn}/index/GSI1"
          LITERAL: !Sub "${!NotAVar}-${AWS::Partition}-${AWS::StackName}"
          PICK: !If [NoIssuer, !Ref Size, !Ref Issuer]
          JOINED: !Join ["-", [a, !Ref Stage, !Select [1, [x, y]]]]
          SPLIT: !Select [0, !Split [",", "p,q"]]
          VARS: !Sub ["${A}/${Queue.QueueName}", {A: !Ref Stage}]
          QUEUE: !Ref Queue
          TOPIC: !Ref Topic
          GONE: !If [HasIssuer, "x", !Ref AWS::NoValue]
          FLAG: !Condition Both
Outputs:
  Bucket: {Value: !Ref Named}
  Url: {Value: !Sub "https://${AWS::URLSuffix}"}
  Hidden: {Condition: HasIssuer, Value: x}
  Import: {Value: !ImportValue other}
"""


@pytest.fixture
def stack() -> Stack:
    return Stack(load_template_text(SMALL))


def test_short_tags_become_long_form() -> None:
    data = load_template_text("A: !Ref X\nB: !GetAtt T.Arn\nC: !Sub 'x'\nD: !If [c, 1, 2]\nE: !Condition C\n")
    assert data == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["T", "Arn"]},
        "C": {"Fn::Sub": "x"},
        "D": {"Fn::If": ["c", 1, 2]},
        "E": {"Condition": "C"},
    }


def test_physical_names_follow_explicit_names_else_prefix(stack: Stack) -> None:
    assert stack.physical_name("Named") == "chorus-dev-123456789012-eu-west-1"
    assert stack.physical_name("Anonymous") == "chorus-local-anonymous"
    assert stack.physical_name("Table") == "chorus-local-Table"
    assert stack.physical_name("Fifo") == "chorus-local-Fifo.fifo"


def test_refs_follow_cloudformation_return_values(stack: Stack) -> None:
    assert stack.ref("Table") == "chorus-local-Table"
    assert stack.ref("Queue") == "https://sqs.eu-west-1.amazonaws.com/123456789012/chorus-local-Queue"
    assert stack.ref("Topic") == "arn:aws:sns:eu-west-1:123456789012:chorus-local-Topic"
    assert stack.ref("AWS::Region") == "eu-west-1"
    assert stack.ref("Size") == "42"


def test_function_environment_is_resolved(stack: Stack) -> None:
    env = load_functions(stack, ROOT)["Fn"].environment
    assert env["TABLE_ARN"] == "arn:aws:dynamodb:eu-west-1:123456789012:table/chorus-local-Table"
    assert env["SUB_ARN"] == env["TABLE_ARN"] + "/index/GSI1"
    assert env["LITERAL"] == "${NotAVar}-aws-chorus-local"
    assert env["PICK"] == "42"
    assert env["JOINED"] == "a-dev-y"
    assert env["SPLIT"] == "p"
    assert env["VARS"] == "dev/chorus-local-Queue"
    assert env["QUEUE"].startswith("https://sqs.")
    assert "GONE" not in env
    assert env["FLAG"] == "true"


def test_conditions_and_overrides() -> None:
    with_issuer = Stack(load_template_text(SMALL), parameter_overrides={"Issuer": "https://idp"})
    assert with_issuer.condition("HasIssuer")
    assert "OnlyWithIssuer" in with_issuer.resources
    assert load_functions(with_issuer, ROOT)["Fn"].environment["PICK"] == "https://idp"
    with pytest.raises(TemplateError):
        Stack(load_template_text(SMALL), parameter_overrides={"Nope": "x"})


def test_disabled_resources_are_left_out(stack: Stack) -> None:
    assert "OnlyWithIssuer" not in stack.resources
    with pytest.raises(UnresolvableError):
        stack.ref("OnlyWithIssuer")


def test_outputs_keep_only_resolvable_and_enabled(stack: Stack) -> None:
    assert stack.outputs() == {"Bucket": "chorus-dev-123456789012-eu-west-1", "Url": "https://amazonaws.com"}


def test_real_template_resolves_every_function_environment() -> None:
    stack = Stack(load_template(ROOT / "template.yaml"))
    for logical_id, res in stack.resources.items():
        if res.type == "AWS::KMS::Key":  # a key's id exists once provisioning created it
            stack.set_ref(logical_id, f"key-id-of-{logical_id}")
        if res.type == "AWS::DynamoDB::Table":  # so does a stream's ARN
            stack.set_attribute(
                logical_id, "StreamArn", f"arn:aws:dynamodb:eu-west-1:123456789012:table/{logical_id}/stream/x"
            )
    functions = load_functions(stack, ROOT)
    assert functions, "template.yaml declares functions"
    for spec in functions.values():
        assert spec.environment["TABLE_NAME"] == stack.physical_name("Table")
        assert spec.code_uri.is_dir(), spec.code_uri
        assert spec.layer_dirs and all(folder.is_dir() for folder in spec.layer_dirs)
    outputs = stack.outputs()
    assert outputs["UploadsBucketName"] == stack.physical_name("UploadsBucket")
    assert outputs["TableName"] == "chorus-local-Table"
