"""Reads shared by the stores: BatchGetItem with its unprocessed-keys retries."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.listing import Page
from chorus.errors import FieldProblem, InvalidInput, StoreError
from chorus.store.codec import from_dynamo, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET_LIMIT = 100
MAX_ATTEMPTS = 5


def batch_get(
    client: DynamoDBClient,
    table: str,
    wanted: list[dict[str, str]],
    *,
    projection: str | None = None,
    names: dict[str, str] | None = None,
    consistent: bool = False,
) -> list[dict[str, Any]]:
    """Every existing item among ``wanted`` (any number of keys), as plain dicts.

    Keys DynamoDB leaves unprocessed (throttling) are asked again with backoff."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), BATCH_GET_LIMIT):
        spec: dict[str, Any] = {"Keys": [to_dynamo(key) for key in wanted[start : start + BATCH_GET_LIMIT]]}
        if projection:
            spec["ProjectionExpression"] = projection
        if names:
            spec["ExpressionAttributeNames"] = names
        if consistent:
            spec["ConsistentRead"] = True
        request: dict[str, Any] = {table: spec}
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = client.batch_get_item(RequestItems=request)
            except ClientError as exc:
                raise StoreError("could not read items") from exc
            found.extend(from_dynamo(item) for item in response.get("Responses", {}).get(table, []))
            request = dict(response.get("UnprocessedKeys") or {})
            if not request:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise StoreError("DynamoDB kept returning unprocessed keys")
    return found


def query_items(client: DynamoDBClient, request: dict[str, Any], *, failure: str) -> Iterator[dict[str, Any]]:
    """Every item a Query answers, page after page (DynamoDB pages past 1 MB), as DynamoDB typed
    values, one page in memory at a time."""
    request = dict(request)
    while True:
        try:
            response = client.query(**request)
        except ClientError as exc:
            raise StoreError(failure) from exc
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def query_all(client: DynamoDBClient, request: dict[str, Any], *, failure: str) -> list[dict[str, Any]]:
    """Every item a Query answers (``query_items``), as a list."""
    return list(query_items(client, request, failure=failure))


def listing_page[T](
    client: DynamoDBClient,
    table: str,
    partition: str,
    *,
    limit: int,
    start: dict[str, Any] | None,
    parse: Callable[[dict[str, Any]], T],
    sort_prefix: str | None = None,
    newest_first: bool = False,
) -> Page[T]:
    """One page of a sparse GSI2 listing (roster, active content, open redemptions...), or of the
    part of it whose sort keys begin with ``sort_prefix``; in descending sort key order with
    ``newest_first`` (for listings whose sort keys begin with a time)."""
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": "GSI2",
        "KeyConditionExpression": "GSI2PK = :pk",
        "ExpressionAttributeValues": to_dynamo({":pk": partition}),
        "Limit": limit,
        "ScanIndexForward": not newest_first,
    }
    if sort_prefix is not None:
        query["KeyConditionExpression"] += " AND begins_with(GSI2SK, :prefix)"
        query["ExpressionAttributeValues"] = to_dynamo({":pk": partition, ":prefix": sort_prefix})
    if start:
        if start.get("GSI2PK") != partition:
            # A cursor of another listing (or made up): DynamoDB would refuse it as a server error.
            raise InvalidInput("bad page token", [FieldProblem("next", "is not a token from a previous page")])
        query["ExclusiveStartKey"] = to_dynamo(start)
    try:
        response = client.query(**query)
    except ClientError as exc:
        raise StoreError(f"could not read the {partition} listing") from exc
    last = response.get("LastEvaluatedKey")
    return Page(
        items=[parse(from_dynamo(item)) for item in response.get("Items", [])],
        next_token=from_dynamo(last) if last else None,
    )
