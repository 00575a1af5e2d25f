"""A content item's funnel: sent in digests -> opened the approval page -> approved -> published
-> visits, each step with its share of the step before."""

from __future__ import annotations

from dataclasses import dataclass

# Shards per content item's counters: a viral item's visits spread over this many partitions.
FUNNEL_SHARDS = 4
FUNNEL_COUNTERS = ("sent", "opened", "approvals", "publications", "visits")
STEP_LABELS = {
    "sent": "Sent in digests",
    "opened": "Opened the approval page",
    "approvals": "Approved",
    "publications": "Published",
    "visits": "Visits",
}


@dataclass(frozen=True)
class FunnelStep:
    counter: str
    label: str
    count: int
    # Of the step before, in percent (None for the first step, or when the step before is 0).
    share: int | None


@dataclass(frozen=True)
class Funnel:
    sent: int = 0
    opened: int = 0
    approvals: int = 0
    publications: int = 0
    visits: int = 0

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> Funnel:
        return cls(**{name: int(counts.get(name, 0)) for name in FUNNEL_COUNTERS})

    def plus(self, other: Funnel) -> Funnel:
        return Funnel(**{name: getattr(self, name) + getattr(other, name) for name in FUNNEL_COUNTERS})

    def steps(self) -> list[FunnelStep]:
        steps: list[FunnelStep] = []
        before: int | None = None
        for name in FUNNEL_COUNTERS:
            count = getattr(self, name)
            # Visits are per post, not per person: a share of publications above 100 % is real.
            share = None if not before else round(count * 100 / before)
            steps.append(FunnelStep(name, STEP_LABELS[name], count, share))
            before = count
        return steps
