"""Each network's length rule for one employee: Mastodon's limit is their own server's.

A server's limits are read from its `/api/v2/instance` (through the SSRF-guarded adapter) and
cached in the table for a day; a server that does not answer keeps its last known limits, or
Mastodon's default, and is asked again an hour later. Filling this cache is the only write a
page view may cause: it changes nothing an employee or admin can see or decide.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from chorus import clock
from chorus.domain.content import Network
from chorus.domain.lengths import InstanceLimits, LengthRule
from chorus.domain.networks import profile_of
from chorus.domain.publishing import PublishFailed
from chorus.errors import StoreError
from chorus.observability import logger
from chorus.store.connections import CachedInstanceLimits

FRESH_FOR = timedelta(days=1)
ASK_AGAIN_AFTER_FAILURE = timedelta(hours=1)


class CachedLimits(Protocol):
    def instance_limits(self, host: str) -> CachedInstanceLimits | None: ...
    def save_instance_limits(self, host: str, limits: InstanceLimits, fresh_until: datetime) -> None: ...


class ServerLengthRules:
    def __init__(
        self,
        store: CachedLimits,
        fetch_limits: Callable[[str], InstanceLimits],
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._store = store
        self._fetch_limits = fetch_limits
        self._now = now

    def rule_for(self, network: Network, instance_url: str | None) -> LengthRule:
        """The rule for a connection already read (`instance_url` None: not connected)."""
        rule = profile_of(network).length_rule
        if not profile_of(network).on_employee_server or not instance_url:
            return rule  # not on a server of the employee's, or not connected yet: the default
        limits = self._limits(instance_url)
        return rule.with_limit(limits.max_characters, limits.characters_reserved_per_url)

    def _limits(self, instance_url: str) -> InstanceLimits:
        host = (urlsplit(instance_url).hostname or instance_url).lower()
        now = self._now()
        cached = self._store.instance_limits(host)
        if cached is not None and cached.fresh_until > now:
            return cached.limits
        try:
            limits, fresh_until = self._fetch_limits(instance_url), now + FRESH_FOR
        except PublishFailed as failure:
            logger.warning("mastodon server limits unavailable", host=host, reason=failure.reason)
            limits = cached.limits if cached is not None else InstanceLimits()
            fresh_until = now + ASK_AGAIN_AFTER_FAILURE
        try:
            self._store.save_instance_limits(host, limits, fresh_until)
        except StoreError:
            logger.exception("mastodon server limits not cached", host=host)
        return limits
