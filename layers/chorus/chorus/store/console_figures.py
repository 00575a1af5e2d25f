"""The figures the console's Overview shows, read from the scorer's aggregates: the company row
of each month's STATS shards and the roster census total. Twelve months are 97 keys, one
BatchGetItem (100 keys at most)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.scoring import STATS_SHARDS
from chorus.store import keys
from chorus.store.reads import batch_get

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

COUNTERS = ("points", "approvals", "publications", "clicks", "participants")


class ConsoleFigures:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def company_months(self, month_keys: list[str]) -> tuple[dict[str, dict[str, int]], int | None]:
        """Each month's company counters (shards added up, zero when nothing happened) and the
        census's active employees (None before the first census)."""
        wanted = [
            {"PK": keys.stats_pk(month, shard), "SK": keys.COMPANY_STATS}
            for month in month_keys
            for shard in range(STATS_SHARDS)
        ]
        wanted.append({"PK": keys.CENSUS, "SK": keys.CENSUS_TOTAL})
        months = {month: dict.fromkeys(COUNTERS, 0) for month in month_keys}
        active: int | None = None
        for item in batch_get(self._client, self._table, wanted):
            if item["PK"] == keys.CENSUS:
                active = int(item.get("active", 0))
                continue
            month = str(item["PK"]).split("#")[1]
            for counter in COUNTERS:
                months[month][counter] += int(item.get(counter, 0))
        return months, active
