"""Is a recorded AWS call allowed by a function's policy in template.yaml?

Resources are resolved to the test account's names (tests/conftest.py); ``dynamodb:LeadingKeys``
conditions are checked against the partition key of every item a call names. This covers the
statements Chorus writes (Allow, Action lists, GetAtt/Sub resources, ForAllValues:StringLike),
not IAM in general: an unknown form of resource or condition never matches, so a gap fails.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from tests.conftest import ACCOUNT, BUCKET, TABLE
from tests.support.template import resource

REGION = "eu-west-1"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
QUEUES = {
    "ReportQueue": "chorus-test-reports",
    "DigestQueue": "chorus-test-digests",
    "DigestPlanQueue": "chorus-test-digest-pages",
    "SlackClickQueue": "chorus-test-slack-clicks",
}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _resource_arns(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    arns = []
    for item in values:
        get_att = item.get("Fn::GetAtt") if isinstance(item, dict) else None
        sub = item.get("Fn::Sub") if isinstance(item, dict) else None
        if get_att == ["Table", "Arn"]:
            arns.append(TABLE_ARN)
        elif isinstance(get_att, list) and get_att[0] in QUEUES and get_att[1] == "Arn":
            arns.append(f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUES[get_att[0]]}")
        elif isinstance(sub, str):
            text = sub.replace("${Table.Arn}", TABLE_ARN).replace("${AWS::Partition}", "aws")
            text = re.sub(r"chorus-\$\{Stage\}-uploads-\$\{AWS::AccountId\}-\$\{AWS::Region\}", BUCKET, text)
            arns.append(text)
        else:
            arns.append(f"<unresolved {item!r}>")
    return arns


def statements(function: str) -> list[dict[str, Any]]:
    found = []
    for policy in resource(function)["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if statement.get("Effect") == "Allow":
                actions = statement["Action"]
                found.append(
                    {
                        "actions": set(actions if isinstance(actions, list) else [actions]),
                        "resources": _resource_arns(statement["Resource"]),
                        "leading_keys": (statement.get("Condition") or {})
                        .get("ForAllValues:StringLike", {})
                        .get("dynamodb:LeadingKeys"),
                        "other_conditions": set(statement.get("Condition") or {}) - {"ForAllValues:StringLike"},
                    }
                )
    return found


def needs(operation: str, params: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(IAM action, resource ARN, partition keys named) the call needs, one per resource touched."""
    service, _, name = operation.partition(".")
    if service == "dynamodb":
        if name == "TransactWriteItems":
            return [
                (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", TABLE_ARN, [_pk(op.get("Key") or op.get("Item"))])
                for item in params["TransactItems"]
                for kind, op in item.items()
            ]
        if name == "BatchGetItem":
            return [
                ("dynamodb:BatchGetItem", TABLE_ARN, [_pk(key) for key in spec["Keys"]])
                for spec in params["RequestItems"].values()
            ]
        arn = TABLE_ARN + (f"/index/{params['IndexName']}" if params.get("IndexName") else "")
        key = params.get("Key") or params.get("Item")
        return [(f"dynamodb:{name}", arn, [_pk(key)] if key else [])]
    if service == "s3":
        arn = f"arn:aws:s3:::{params.get('Bucket')}/{params.get('Key', '')}"
        multipart = {"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}
        return [("s3:PutObject" if name in multipart else f"s3:{name}", arn, [])]
    if service == "sqs":
        queue = str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
        action = "sqs:SendMessage" if name == "SendMessageBatch" else f"sqs:{name}"
        return [(action, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}", [])]
    return [(f"{service}:{name}", "*", [])]


def _pk(key: dict[str, Any] | None) -> str:
    return str((key or {}).get("PK", {}).get("S", ""))


def denied(function: str, calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, list[str]]]:
    """The needs of ``calls`` that no Allow statement of ``function`` grants."""
    allows = statements(function)
    refused = []
    for operation, params in calls:
        for action, arn, leading in needs(operation, params):
            if not any(
                action in statement["actions"]
                and any(fnmatchcase(arn, pattern) for pattern in statement["resources"])
                and not statement["other_conditions"]
                and (
                    statement["leading_keys"] is None
                    or all(any(fnmatchcase(key, p) for p in statement["leading_keys"]) for key in leading)
                )
                for statement in allows
            ):
                refused.append((action, arn, leading))
    return refused
