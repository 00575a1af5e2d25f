"""Listing pages (the sparse GSI2 listings: roster, content, redemptions, the review queue): a
page's cursor brings the next page of the same listing; a cursor of another listing is bad input
(400 with the field named), not a DynamoDB error surfacing as a server error."""

from __future__ import annotations

from typing import Any

import pytest

from chorus.errors import InvalidInput
from chorus.store import keys
from chorus.store.reads import listing_page
from tests.conftest import TABLE


def put_listed(aws, listing: str, n: int) -> None:
    aws["dynamodb"].put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": f"ITEM#{listing}#{n}"},
            "SK": {"S": "META"},
            "GSI2PK": {"S": listing},
            "GSI2SK": {"S": f"{n:04d}"},
        },
    )


def sort_key(item: dict[str, Any]) -> str:
    return str(item["GSI2SK"])


def test_a_pages_cursor_brings_the_next_page_of_its_listing(aws) -> None:
    for n in range(3):
        put_listed(aws, keys.ROSTER_ACTIVE, n)
    put_listed(aws, keys.CONTENT_ACTIVE, 9)

    first = listing_page(aws["dynamodb"], TABLE, keys.ROSTER_ACTIVE, limit=2, start=None, parse=sort_key)
    second = listing_page(aws["dynamodb"], TABLE, keys.ROSTER_ACTIVE, limit=2, start=first.next_token, parse=sort_key)

    assert (first.items, second.items) == (["0000", "0001"], ["0002"])


def test_a_cursor_of_another_listing_is_refused_as_bad_input(aws) -> None:
    for n in range(3):
        put_listed(aws, keys.CONTENT_ACTIVE, n)
    content = listing_page(aws["dynamodb"], TABLE, keys.CONTENT_ACTIVE, limit=1, start=None, parse=sort_key)
    assert content.next_token is not None

    with pytest.raises(InvalidInput) as refused:
        listing_page(aws["dynamodb"], TABLE, keys.REVIEW, limit=1, start=content.next_token, parse=sort_key)

    assert [problem.field for problem in refused.value.problems] == ["next"]
