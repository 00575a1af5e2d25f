"""Lambda FilterCriteria patterns on stream and queue records."""

from __future__ import annotations

import json

import pytest

from chorus_local.filters import matches, parse_filter_criteria, passes, sqs_filter_view

RECORD = {
    "eventName": "INSERT",
    "dynamodb": {
        "NewImage": {"SK": {"S": "APPROVAL#c1#linkedin"}, "status": {"S": "PUBLISHED"}, "points": {"N": "5"}},
        "Keys": {"PK": {"S": "EMP#1"}},
    },
    "tags": ["a", "b"],
    "size": 12,
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT", "MODIFY"]}, True),
        ({"eventName": ["REMOVE"]}, False),
        ({"dynamodb": {"NewImage": {"SK": {"S": [{"prefix": "APPROVAL#"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"SK": {"S": [{"prefix": "POINTS#"}]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["FAILED", "CANCELLED"]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": {"prefix": "PUB"}}]}}}}, False),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, True),
        ({"dynamodb": {"OldImage": [{"exists": True}]}}, False),
        ({"tags": ["b"]}, True),
        ({"size": [{"numeric": [">", 10, "<=", 12]}]}, True),
        ({"size": [{"numeric": ["<", 10]}]}, False),
        ({"size": [12.0]}, True),
        ({"eventName": [{"equals-ignore-case": "insert"}]}, True),
        ({"eventName": [{"suffix": "ERT"}]}, True),
        ({"missing": ["x"]}, False),
    ],
)
def test_patterns(pattern: dict[str, object], expected: bool) -> None:
    assert matches(pattern, RECORD) is expected


def test_criteria_are_json_strings_and_any_pattern_passes() -> None:
    patterns = parse_filter_criteria(
        {"Filters": [{"Pattern": json.dumps({"eventName": ["REMOVE"]})}, {"Pattern": '{"size": [12]}'}]}
    )
    assert passes(patterns, RECORD)
    assert passes([], RECORD)
    assert not passes(patterns[:1], RECORD)


def test_sqs_json_bodies_are_matched_as_objects() -> None:
    record = {"body": json.dumps({"kind": "digest"}), "messageId": "1"}
    assert matches({"body": {"kind": ["digest"]}}, sqs_filter_view(record))
    assert not matches({"body": {"kind": ["digest"]}}, sqs_filter_view({"body": "plain"}))
