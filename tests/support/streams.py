"""The table's stream as a Lambda event source mapping delivers it: moto's records, JSON as Lambda
receives them, filtered by the mapping's FilterCriteria from template.yaml."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from chorus_local.filters import parse_filter_criteria, passes
from tests.support.template import resource


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(item) for item in value]
    return value


class TableStream:
    """Reads the table's stream from where the previous read stopped (one shard, as moto has)."""

    def __init__(self, aws: dict[str, Any], table: str) -> None:
        import boto3

        self._streams = boto3.client("dynamodbstreams")
        arn = aws["dynamodb"].describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self._iterator = self._streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def records(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            response = self._streams.get_records(ShardIterator=self._iterator)
            self._iterator = response["NextShardIterator"]
            found.extend(_jsonable(record) for record in response["Records"])
            if not response["Records"]:
                return found

    def event_for(self, function: str, event_name: str) -> dict[str, Any]:
        """The new records that function's event source mapping would deliver."""
        properties = resource(function)["Properties"]["Events"][event_name]["Properties"]
        patterns = parse_filter_criteria(properties.get("FilterCriteria"))
        return {"Records": [record for record in self.records() if passes(patterns, record)]}
