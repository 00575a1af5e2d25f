"""Conversion between plain Python values and DynamoDB's typed attribute values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_dynamo(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal (ours are whole), binaries as a Binary wrapper."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, Binary):
        return value.__bytes__()
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, dict):
        return {name: _plain(element) for name, element in value.items()}
    return value


def iso_seconds(moment: datetime) -> str:
    """A stored time: UTC, to the second (sorts as text, as the listings need)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
