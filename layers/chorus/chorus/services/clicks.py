"""Following a tracked link: redirect everyone, count unique human clicks.

At most two AWS calls per click: one GetItem for the link, one conditional PutItem for the click
(only for a person's GET). The redirect goes to the stored target only; nothing from the request
reaches the Location. IP and user agent only ever enter the keyed visitor hash, never a log or item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from chorus import clock
from chorus.domain.clicks import TrackedLink, is_automated, is_link_code, tracked_target, visitor_key
from chorus.errors import NotFound, StoreError
from chorus.observability import logger

LINK_NOT_FOUND = "This link does not exist"


class Links(Protocol):
    def get(self, code: str) -> TrackedLink | None: ...
    def record_click(self, link: TrackedLink, visitor: str, now: datetime) -> bool: ...


class ClickService:
    def __init__(self, links: Links, secret: bytes, now: Callable[[], datetime] = clock.now) -> None:
        if not secret:
            raise ValueError("the click secret must not be empty")
        self._links = links
        self._secret = secret
        self._now = now

    def follow(self, code: str, *, method: str, ip: str, user_agent: str, headers: Mapping[str, str]) -> str:
        """The URL to redirect to. Counts the click when a person GETs it (HEAD, bots, scanners,
        prefetches and previews are redirected but not counted). Raises NotFound for unknown codes."""
        link = self._links.get(code) if is_link_code(code) else None
        if link is None:
            raise NotFound(LINK_NOT_FOUND)
        location = tracked_target(link.target, link.network.value, link.campaign, link.content_id)
        automated = method.upper() != "GET" or is_automated(user_agent, headers)
        counted = False
        if not automated:
            accept_language = next((value for name, value in headers.items() if name.lower() == "accept-language"), "")
            visitor = visitor_key(self._secret, ip, user_agent, accept_language)
            try:
                counted = self._links.record_click(link, visitor, self._now())
            except StoreError:
                # The person still gets where they wanted to go; only the count is lost.
                logger.warning("click not recorded", code=code, exc_info=True)
        logger.info("click", code=code, counted=counted, automated=automated)
        return location
