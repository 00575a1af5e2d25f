"""The sandbox network: the company's own feed (``chorus.store.sandbox_feed``), shown by the local
cloud at /_local/feed.

It behaves like a network that honours an idempotency key (as Mastodon does): publishing the
same key twice returns the first post.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chorus import clock
from chorus.domain.connection import Credentials
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed
from chorus.errors import StoreError


class Feed(Protocol):
    def add(self, key: str, *, employee_id: str, text: str, link: str, title: str, published_at: datetime) -> bool: ...


class SandboxNetwork:
    def __init__(self, feed: Feed, *, now: Callable[[], datetime] = clock.now) -> None:
        self._feed = feed
        self._now = now

    def publish(self, post: PostRequest, credentials: Credentials | None = None) -> Published:
        """Needs no credentials: the sandbox is the company's own feed. The same key published
        before answers with the existing post, like an idempotent API."""
        try:
            self._feed.add(
                post.idempotency_key,
                employee_id=post.employee_id,
                text=post.text,
                link=post.link,
                title=post.title,
                published_at=self._now(),
            )
        except StoreError as exc:
            raise PublishFailed(FailureKind.TRANSIENT, "the sandbox feed is unavailable") from exc
        return Published(external_id=post.idempotency_key, url=f"/_local/feed#{post.idempotency_key}")
