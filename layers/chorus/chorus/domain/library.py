"""The console's content library: which items a search and its filters ask for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chorus.domain.content import ContentStatus, Network

MAX_SEARCH = 100


class Window(StrEnum):
    CURRENT = "current"  # started (or no start) and not ended
    UPCOMING = "upcoming"  # starts later
    PAST = "past"  # ended


@dataclass(frozen=True)
class LibraryFilter:
    status: ContentStatus = ContentStatus.ACTIVE
    search: str = ""
    campaign: str = ""
    # Items with a text of their own for this network (every item may be shared on every network).
    network: Network | None = None
    window: Window | None = None

    @property
    def search_key(self) -> str:
        return self.search.strip().casefold()
