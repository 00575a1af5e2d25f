"""The networks Chorus publishes to (the seed of one profile per network)."""

from __future__ import annotations

from enum import StrEnum


class Network(StrEnum):
    LINKEDIN = "linkedin"
    X = "x"
    MASTODON = "mastodon"
    SANDBOX = "sandbox"
