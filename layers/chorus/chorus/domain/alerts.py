"""Operator alerts: something only the people running Chorus can fix (a retired LinkedIn API
version), kept where admins see it, while the posts it holds up wait."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from chorus.domain.content import Network

# An alert nobody raised again for this long is over (the deployment was fixed).
ALERT_LIFETIME = timedelta(days=2)


class OperatorAlert(BaseModel):
    model_config = ConfigDict(frozen=True)

    network: Network
    kind: str
    message: str
    first_seen: datetime
    last_seen: datetime
    occurrences: int

    def active(self, now: datetime) -> bool:
        return now - self.last_seen < ALERT_LIFETIME
