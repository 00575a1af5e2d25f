"""Lambda event filtering (``FilterCriteria``): the EventBridge pattern syntax on event records.

Supported: exact values (strings, numbers compared numerically, booleans, null), ``prefix``,
``suffix``, ``equals-ignore-case``, ``anything-but`` (value, list or ``{"prefix": ...}``),
``exists`` and ``numeric`` ranges, nested objects, and arrays in the record (any element may
match). A record passes a ``FilterCriteria`` when it matches at least one of its patterns.
For SQS, a JSON body is matched as an object (as Lambda does); a non-JSON body only as a string.
"""

from __future__ import annotations

import contextlib
import json
import operator
from collections.abc import Callable
from typing import Any

_MISSING = object()
_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def parse_filter_criteria(criteria: Any) -> list[dict[str, Any]]:
    """Patterns of a template ``FilterCriteria`` (each ``Pattern`` is a JSON string)."""
    patterns: list[dict[str, Any]] = []
    for item in (criteria or {}).get("Filters") or []:
        pattern = item.get("Pattern")
        parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
        if not isinstance(parsed, dict):
            raise ValueError(f"filter pattern must be a JSON object: {pattern!r}")
        patterns.append(parsed)
    return patterns


def passes(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def matches(pattern: dict[str, Any], data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    for key, expected in pattern.items():
        value = data.get(key, _MISSING)
        if isinstance(expected, dict):
            if value is _MISSING or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not any(_match_rule(rule, value) for rule in expected):
                return False
        else:
            raise ValueError(f"pattern values must be arrays or objects, got {expected!r} for {key}")
    return True


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _equal(rule: Any, value: Any) -> bool:
    if isinstance(rule, bool) or isinstance(value, bool):
        return rule is value
    if isinstance(rule, (int, float)) and isinstance(value, (int, float)):
        return float(rule) == float(value)
    return bool(rule == value)


def _match_rule(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        if "exists" in rule:
            return (value is not _MISSING) is bool(rule["exists"])
        if value is _MISSING:
            return False
        candidates = _values(value)
        if "prefix" in rule:
            return any(isinstance(v, str) and v.startswith(str(rule["prefix"])) for v in candidates)
        if "suffix" in rule:
            return any(isinstance(v, str) and v.endswith(str(rule["suffix"])) for v in candidates)
        if "equals-ignore-case" in rule:
            wanted = str(rule["equals-ignore-case"]).lower()
            return any(isinstance(v, str) and v.lower() == wanted for v in candidates)
        if "anything-but" in rule:
            excluded = rule["anything-but"]
            if isinstance(excluded, dict) and "prefix" in excluded:
                return all(not (isinstance(v, str) and v.startswith(str(excluded["prefix"]))) for v in candidates)
            return all(not any(_equal(e, v) for e in _values(excluded)) for v in candidates)
        if "numeric" in rule:
            return any(_numeric(rule["numeric"], v) for v in candidates)
        raise ValueError(f"unsupported filter operator {sorted(rule)}")
    if value is _MISSING:
        return False
    return any(_equal(rule, v) for v in _values(value))


def _numeric(spec: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    pairs = zip(spec[0::2], spec[1::2], strict=False)
    return all(_NUMERIC_OPS[str(op)](float(value), float(bound)) for op, bound in pairs)


def sqs_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """An SQS record as Lambda filters it: the body parsed when it is JSON."""
    view = dict(record)
    with contextlib.suppress(TypeError, ValueError):
        view["body"] = json.loads(record["body"])
    return view
