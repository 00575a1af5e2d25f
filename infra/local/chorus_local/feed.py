"""The sandbox network's feed: posts the publisher made on the ``sandbox`` network.

The sandbox adapter (chorus.adapters.networks.sandbox) keeps posts in the app's table through
``chorus.store.sandbox_feed`` (partition ``chorus.store.keys.SANDBOX_FEED``); this reads them back
for ``/_local/feed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chorus.store.keys import SANDBOX_FEED, sandbox_post_sk


@dataclass(frozen=True)
class FeedPost:
    key: str
    employee_id: str
    text: str
    link: str
    title: str
    published_at: str
    # The same instant in the company's zone (the digest's), as people there read it.
    published_local: str


def _local(published_at: str, zone: str) -> str:
    if not published_at:
        return ""
    moment = datetime.fromisoformat(published_at).astimezone(ZoneInfo(zone))
    return f"{moment:%a %d %b %Y, %H:%M} {zone}"


def feed_posts(dynamodb: Any, table_name: str, zone: str = "UTC") -> list[FeedPost]:
    posts: list[FeedPost] = []
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": SANDBOX_FEED}},
    }
    while True:
        response = dynamodb.query(**request)
        for item in response.get("Items", []):
            posts.append(
                FeedPost(
                    key=item["SK"]["S"].removeprefix(sandbox_post_sk("")),
                    employee_id=item.get("employee_id", {}).get("S", ""),
                    text=item.get("text", {}).get("S", ""),
                    link=item.get("link", {}).get("S", ""),
                    title=item.get("title", {}).get("S", ""),
                    published_at=item.get("published_at", {}).get("S", ""),
                    published_local=_local(item.get("published_at", {}).get("S", ""), zone),
                )
            )
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return sorted(posts, key=lambda post: post.published_at, reverse=True)
