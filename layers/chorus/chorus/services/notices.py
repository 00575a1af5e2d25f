"""Notices: telling an employee something needs them (reconnect, a post that did not go out, a
connection about to end), with a magic link to act on it, through their channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from chorus import clock
from chorus.domain.employee import Employee
from chorus.domain.magic_links import ME_LIFETIME, ME_SCOPE, KeyRing, activity_scope, sign_link
from chorus.messages.channel import Addressee, Channel, Notice, NoticeMessage
from chorus.observability import logger

NOTICE_LINK_LIFETIME = timedelta(days=7)


class Profiles(Protocol):
    def get_employee(self, employee_id: str) -> Employee: ...


class KeyRingSource(Protocol):
    def key_ring(self) -> KeyRing: ...


def addressee(employee: Employee) -> Addressee:
    return Addressee(
        employee_id=employee.employee_id,
        email=employee.email,
        name=employee.name,
        locale=employee.locale,
        timezone=employee.timezone,
    )


class Notifier:
    def __init__(
        self,
        profiles: Profiles,
        channel: Channel,
        keys: KeyRingSource,
        *,
        base_url: str,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._profiles = profiles
        self._channel = channel
        self._keys = keys
        self._base_url = base_url
        self._now = now

    def notify(self, employee_id: str, notice: Notice) -> None:
        self.notify_employee(self._profiles.get_employee(employee_id), notice)

    def notify_employee(self, employee: Employee, notice: Notice, *, base_url: str | None = None) -> None:
        """To an employee already read. ``base_url``: where the employee pages are, when only the
        request knows (the console without PublicBaseUrl answers on the API's own URL)."""
        employee_id = employee.employee_id
        if not self._channel.reaches(employee):
            logger.info("notice not sent: the address bounces", employee_id=employee_id, kind=notice.kind.value)
            return
        now = self._now()
        link = self._link(employee, notice, now, base_url or self._base_url)
        self._channel.send_notice(NoticeMessage(addressee(employee), notice, link, now))
        logger.info("notice sent", employee_id=employee_id, kind=notice.kind.value, network=notice.network.value)

    def _link(self, employee: Employee, notice: Notice, now: datetime, base_url: str) -> str:
        ring = self._keys.key_ring()
        if notice.content_id:
            token = sign_link(ring, employee.employee_id, activity_scope(notice.content_id), now + NOTICE_LINK_LIFETIME)
            return f"{base_url}/a/{token}"
        token = sign_link(ring, employee.employee_id, ME_SCOPE, now + ME_LIFETIME)
        return f"{base_url}/me?t={token}"
