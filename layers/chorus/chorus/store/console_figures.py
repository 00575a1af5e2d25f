"""The figures the console's Overview shows, read from the scorer's aggregates: the company row
of each period's STATS shards (twelve months and twelve company weeks: 192 keys) and the roster
census total; two BatchGetItem calls (100 keys each at most)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.scoring import STATS_SHARDS
from chorus.store import keys
from chorus.store.reads import batch_get

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_NOT_COUNTERS = {"PK", "SK", "entity"}


class ConsoleFigures:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def company_periods(self, period_keys: list[str]) -> tuple[dict[str, dict[str, int]], int | None]:
        """Each period's company counters (shards added up; a counter absent: nothing counted) and
        the census's active employees (None before the first census)."""
        wanted = [
            {"PK": keys.stats_pk(period, shard), "SK": keys.COMPANY_STATS}
            for period in period_keys
            for shard in range(STATS_SHARDS)
        ]
        wanted.append({"PK": keys.CENSUS, "SK": keys.CENSUS_TOTAL})
        periods: dict[str, dict[str, int]] = {period: {} for period in period_keys}
        active: int | None = None
        for item in batch_get(self._client, self._table, wanted):
            if item["PK"] == keys.CENSUS:
                active = int(item.get("active", 0))
                continue
            counters = periods[str(item["PK"]).split("#")[1]]
            for name, value in item.items():
                if name not in _NOT_COUNTERS:
                    counters[name] = counters.get(name, 0) + int(value)
        return periods, active
