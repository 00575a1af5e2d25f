"""DynamoDB access for points: the ledger, scores, leaderboards, histograms, balances and counters.

An award is written in transactions of at most 25 items (AWS takes 100, moto and the local cloud
25), so an employee in any number of groups is awarded:

* the first transaction holds the ledger entry keyed by the award's source event (conditional:
  exactly once), the balance, the week's impact, the three overall scores (each conditioned on
  the score and approvals read just before, so the histogram moves exactly once and from the right
  bucket), the overall histogram, the company and campaign counters (the company's per month, all
  time and company week: DigestTimezone's ISO week, with publications per network; for an approval
  the employee's approvals of the week, conditioned like the scores, so the week counts each
  participant once), for a click the post's click count under its cap, and as many group items
  (a score per period and group, a counter per period and group) as fit: an employee in one group
  is awarded in one transaction (two groups: two, since the weekly counters). The
  ledger entry records the groups the award counts for and how many group items it took.
* each further transaction holds the next 24 group items and its own marker item
  ``AWARD#<event>/CHUNK#<n>``, conditioned like the ledger entry. Its contents depend only on
  what the ledger entry recorded.

A retry (a stream batch redelivered, a crash between two transactions) finds the ledger entry,
reads what it recorded and which markers exist, and writes the missing chunks: every item is
written once. ``transactions_per_award`` counts the transactions (11 at 50 groups).

A leaderboard is the sparse index GSI3 (partition ``LB#<period>#<scope>``, sort key ``score``):
its top k is one Query whatever the number of employees. An employee's exact place counts the
index entries ahead of them, at most ``EXACT_RANK_LIMIT`` of them; past that the overall board's
histogram (people per score bucket, sharded) bounds the place instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.domain.content import Content
from chorus.domain.employee import Employee
from chorus.domain.scoring import (
    EXACT_RANK_LIMIT,
    HISTOGRAM_SHARDS,
    OVERALL,
    STATS_SHARDS,
    Award,
    AwardKind,
    AwardOutcome,
    Context,
    Histogram,
    Neighbour,
    Period,
    Post,
    Ranked,
    Standing,
    bucket_attribute,
    company_week_key,
    network_publications_attribute,
    period_keys,
    score_bucket,
    shard_of,
    week_key,
)
from chorus.errors import NotFound, StoreError
from chorus.store import keys
from chorus.store.codec import from_dynamo, to_dynamo
from chorus.store.funnel import funnel_add
from chorus.store.reads import batch_get, query_items
from chorus.store.transactions import Guarded, TransactionRefused, write_transaction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class _Refusal(Enum):
    """What an award's refused condition means."""

    ALREADY_AWARDED = "already awarded"  # the ledger entry of this event exists
    CLICK_CAP = "click cap"  # the post reached its click cap
    SCORE_CHANGED = "score changed"  # an overall score is no longer what was read before the award
    CHUNK_WRITTEN = "chunk written"  # this chunk of group items was written by an earlier attempt
    ERASED = "erased"  # the employee was erased since the award was read: nothing is written


# A week's impact item outlives the week after it, when the digest shows it, then TTL removes it.
IMPACT_LIFETIME = timedelta(days=28)
_COUNTERS = {AwardKind.APPROVED: "approvals", AwardKind.PUBLISHED: "publications", AwardKind.CLICK: "clicks"}
# The content funnel's steps the scorer counts, in the award's transaction (so exactly once).
_FUNNEL_COUNTERS = {AwardKind.APPROVED: "approvals", AwardKind.PUBLISHED: "publications", AwardKind.CLICK: "visits"}
_SCORE_PERIODS = (Period.MONTH, Period.QUARTER, Period.ALL)
# Reports read counters per month and all time (a quarter report shows its month).
_STATS_PERIODS = (Period.MONTH, Period.ALL)
STAT_COUNTERS = ("points", "approvals", "publications", "clicks", "participants")

MAX_TRANSACTION_ITEMS = 25
_GROUP_ITEMS_PER_CHUNK = MAX_TRANSACTION_ITEMS - 1  # and the chunk's marker
# Attempts when the scores read before an award changed before it was written, or a concurrent
# transaction held one of its items.
_ATTEMPTS = 4
# An employee's approvals of a week only decide whether a later approval is the week's first.
_WEEK_ACTIVITY_LIFETIME = timedelta(days=14)
# Chunk markers only serve retries: the stream keeps records 24 hours.
_MARKER_TTL = timedelta(days=7)
_RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


@dataclass(frozen=True)
class _Before:
    """An overall score item as read before the award: what its update is conditioned on."""

    score: int | None  # None: no item yet
    approvals: int | None  # None: no approvals counted yet (the attribute is absent)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def transactions_per_award(groups: int, *, first_items: int = 17) -> int:
    """Transactions of an award for an employee in ``groups`` groups, when its first transaction
    holds ``first_items`` items besides group items (17 at most: a click moving three buckets, or a
    first approval with its week's activity, and the content's funnel count)."""
    group_items = groups * (len(_SCORE_PERIODS) + len(_STATS_PERIODS))
    left = max(0, group_items - (MAX_TRANSACTION_ITEMS - first_items))
    return 1 + -(-left // _GROUP_ITEMS_PER_CHUNK)


class ScoreStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        exact_rank_limit: int = EXACT_RANK_LIMIT,
        company_zone: str = "UTC",
    ) -> None:
        self._client = client
        self._table = table_name
        self._exact_rank_limit = exact_rank_limit
        # Weekly counters follow the company's wall clock (DigestTimezone).
        self._company_zone = company_zone

    # ------------------------------------------------------------------ awards
    def award(
        self, award: Award, *, name: str, groups: list[str], hidden: bool, click_cap: int | None = None
    ) -> AwardOutcome:
        """Records the award once, whatever the number of groups and however often it is retried."""
        periods = period_keys(award.occurred_at)
        week = company_week_key(award.occurred_at, self._company_zone)
        consistent = False
        for _attempt in range(_ATTEMPTS):
            before, week_approvals = self._overall_before(award.employee_id, periods, week, consistent=consistent)
            first = _first_approval_periods(award, before)
            group_items = self._group_items(award, periods, groups, first, name=name, hidden=hidden)
            actions, taken = self._first_transaction(
                award,
                periods,
                before,
                first,
                groups=groups,
                group_items=group_items,
                weekly=self._weekly_counts(award, week, week_approvals),
                name=name,
                hidden=hidden,
                click_cap=click_cap,
            )
            try:
                write_transaction(self._client, actions, failure="could not award points")
            except TransactionRefused as refused:
                refusal = refused
            else:
                self._write_group_chunks(award, group_items[taken:])
                return AwardOutcome.AWARDED
            if refusal.refused(_Refusal.ALREADY_AWARDED):
                # Awarded before: finish what a crash may have left, from what the ledger recorded.
                entry = self._ledger_item(award.employee_id, award.event_id, consistent=True)
                recorded = self._group_items(
                    award,
                    periods,
                    [str(group) for group in entry.get("award_groups", [])],
                    {Period(period) for period in entry.get("first_approval_in", [])},
                    name=name,
                    hidden=hidden,
                )[int(entry.get("group_items_in_first", 0)) :]
                written = self._written_chunks(award.event_id) if recorded else set()
                self._write_group_chunks(award, recorded, written=written)
                return AwardOutcome.ALREADY_AWARDED
            if refusal.refused(_Refusal.ERASED):
                return AwardOutcome.ERASED
            if refusal.refused(_Refusal.CLICK_CAP):
                return AwardOutcome.OVER_CAP
            if not refusal.refused(_Refusal.SCORE_CHANGED) and not _RETRYABLE.intersection(refusal.codes):
                raise StoreError(f"could not award points ({', '.join(refusal.codes)})") from refusal
            consistent = True  # another award of the same employee got in between: read again
        raise StoreError("could not award points: the employee's scores kept changing")

    def _overall_before(
        self, employee_id: str, periods: dict[Period, str], week: str, *, consistent: bool
    ) -> tuple[dict[Period, _Before], int | None]:
        """The overall scores, and the employee's approvals counted in the company week (None:
        none yet), as read before the award."""
        wanted = [
            {"PK": keys.employee_pk(employee_id), "SK": keys.score_sk(periods[period], OVERALL)}
            for period in _SCORE_PERIODS
        ]
        wanted.append({"PK": keys.employee_pk(employee_id), "SK": keys.week_activity_sk(week)})
        found = {
            str(item["SK"]): item
            for item in batch_get(
                self._client,
                self._table,
                wanted,
                projection="SK, score, approvals",
                consistent=consistent,
            )
        }
        before: dict[Period, _Before] = {}
        for period in _SCORE_PERIODS:
            item = found.get(keys.score_sk(periods[period], OVERALL))
            before[period] = _Before(
                score=int(item["score"]) if item else None,
                approvals=int(item["approvals"]) if item and "approvals" in item else None,
            )
        activity = found.get(keys.week_activity_sk(week))
        return before, int(activity["approvals"]) if activity and "approvals" in activity else None

    def _first_transaction(
        self,
        award: Award,
        periods: dict[Period, str],
        before: dict[Period, _Before],
        first: set[Period],
        *,
        groups: list[str],
        group_items: list[dict[str, Any]],
        weekly: list[Guarded[_Refusal]],
        name: str,
        hidden: bool,
        click_cap: int | None,
    ) -> tuple[list[Guarded[_Refusal]], int]:
        """The first transaction's actions, filled up to 25 with group items (most employees are in
        one to three groups: one transaction), and how many group items it took."""
        counter = _COUNTERS.get(award.kind)
        pk = keys.employee_pk(award.employee_id)
        rest: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_dynamo({"PK": pk, "SK": keys.BALANCE}),
                    "UpdateExpression": "ADD balance :points, lifetime :earned SET entity = :entity",
                    "ExpressionAttributeValues": to_dynamo(
                        {":points": award.points, ":earned": max(award.points, 0), ":entity": "balance"}
                    ),
                }
            },
        ]
        scores = [
            self._score_update(
                award, periods[period], OVERALL, name=name, hidden=hidden, counter=counter, before=before[period]
            )
            for period in _SCORE_PERIODS
        ]
        histogram_shard = shard_of(award.event_id, HISTOGRAM_SHARDS)
        for period in _SCORE_PERIODS:
            move = self._histogram_move(periods[period], histogram_shard, before[period].score, award.points)
            if move is not None:
                rest.append(move)
        stats_shard = shard_of(award.event_id, STATS_SHARDS)
        for period in _STATS_PERIODS:
            rest.append(
                _count_network(
                    self._stats_update(
                        periods[period], stats_shard, keys.COMPANY_STATS, award, counter, participant=period in first
                    ),
                    award,
                )
            )
            rest.append(
                self._stats_update(
                    periods[period],
                    stats_shard,
                    keys.campaign_stats_sk(award.campaign),
                    award,
                    counter,
                    participant=False,
                )
            )
        funnel_counter = _FUNNEL_COUNTERS.get(award.kind)
        if funnel_counter and award.content_id:
            rest.append(funnel_add(self._table, award.content_id, award.event_id, {funnel_counter: 1}))
        click = []
        if award.kind is AwardKind.CLICK and award.content_id and award.network:
            click.append(Guarded(self._count_click(award, click_cap), _Refusal.CLICK_CAP))
        # Besides the group items: the ledger entry, the weekly impact, the profile check, the scores,
        # the rest, the weekly counters, the click.
        taken = min(len(group_items), MAX_TRANSACTION_ITEMS - 3 - len(scores) - len(rest) - len(weekly) - len(click))
        ledger = {
            "PK": pk,
            "SK": keys.points_sk(award.event_id),
            "entity": "points",
            "event_id": award.event_id,
            "kind": award.kind.value,
            "points": award.points,
            "reason": award.reason,
            "content_id": award.content_id,
            "network": award.network,
            "campaign": award.campaign,
            "awarded_at": _iso(award.occurred_at),
            # What the later transactions write depends on these only: a retry writes the same.
            "award_groups": list(groups),
            "first_approval_in": sorted(period.value for period in first),
            "group_items_in_first": taken,
        }
        marker = {
            "Put": {
                "TableName": self._table,
                "Item": to_dynamo(ledger),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        return [
            Guarded(marker, _Refusal.ALREADY_AWARDED),
            Guarded(self._weekly_impact(award)),
            Guarded(self._not_erased(award.employee_id), _Refusal.ERASED),
            *(Guarded(score, _Refusal.SCORE_CHANGED) for score in scores),
            *(Guarded(action) for action in rest),
            *weekly,
            *(Guarded(item) for item in group_items[:taken]),
            *click,
        ], taken

    def _group_items(
        self,
        award: Award,
        periods: dict[Period, str],
        groups: list[str],
        first: set[Period],
        *,
        name: str,
        hidden: bool,
    ) -> list[dict[str, Any]]:
        counter = _COUNTERS.get(award.kind)
        stats_shard = shard_of(award.event_id, STATS_SHARDS)
        items: list[dict[str, Any]] = []
        for group in groups:
            items += [
                self._score_update(award, periods[period], group, name=name, hidden=hidden, counter=counter)
                for period in _SCORE_PERIODS
            ]
            items += [
                self._stats_update(
                    periods[period],
                    stats_shard,
                    keys.group_stats_sk(group),
                    award,
                    counter,
                    participant=period in first,
                )
                for period in _STATS_PERIODS
            ]
        return items

    def _write_group_chunks(
        self, award: Award, items: list[dict[str, Any]], *, written: set[int] | None = None
    ) -> None:
        """Writes the group items the first transaction left, 24 per transaction with its marker;
        but the chunks ``written`` before (a retry knows them from their markers; each marker's
        condition still stops a chunk written in the meantime)."""
        expires_at = int((award.occurred_at + _MARKER_TTL).timestamp())
        for chunk, start in enumerate(range(0, len(items), _GROUP_ITEMS_PER_CHUNK), start=1):
            if chunk in (written or set()):
                continue
            marker = {
                "Put": {
                    "TableName": self._table,
                    "Item": to_dynamo(
                        {
                            "PK": keys.award_pk(award.event_id),
                            "SK": keys.award_chunk_sk(chunk),
                            "entity": "award_chunk",
                            "expires_at": expires_at,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            chunk_items = items[start : start + _GROUP_ITEMS_PER_CHUNK]
            actions = [Guarded(marker, _Refusal.CHUNK_WRITTEN), *map(Guarded, chunk_items)]
            for _attempt in range(_ATTEMPTS):
                try:
                    write_transaction(self._client, actions, failure="could not award points to groups")
                except TransactionRefused as refused:
                    if refused.refused(_Refusal.CHUNK_WRITTEN):
                        break  # by an earlier attempt
                    if not _RETRYABLE.intersection(refused.codes):
                        raise StoreError(f"could not award points to groups ({', '.join(refused.codes)})") from refused
                else:
                    break
            else:
                raise StoreError("could not award points to groups: their items stayed busy")

    def _written_chunks(self, event_id: str) -> set[int]:
        markers = self._paged(
            {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": to_dynamo({":pk": keys.award_pk(event_id)}),
                "ProjectionExpression": "SK",
                "ConsistentRead": True,
            }
        )
        return {keys.award_chunk_of(str(marker["SK"])) for marker in markers}

    def _score_update(
        self,
        award: Award,
        period_key: str,
        scope: str,
        *,
        name: str,
        hidden: bool,
        counter: str | None,
        before: _Before | None = None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":points": award.points,
            # Microseconds: ties are broken by who reached the score first.
            ":at": award.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            ":employee": award.employee_id,
            ":name": name,
            ":period": period_key,
            ":scope": scope,
            ":entity": "score",
        }
        names = {"#name": "name", "#scope": "scope"}
        added = "ADD score :points"
        if counter:
            added += ", #counter :one"
            names["#counter"] = counter
            values[":one"] = 1
        expression = (
            f"{added} SET reached_at = :at, employee_id = :employee, #name = :name, "
            "period = :period, #scope = :scope, entity = :entity"
        )
        if hidden:
            expression += " REMOVE GSI3PK"
        else:
            expression += ", GSI3PK = :board"
            values[":board"] = keys.leaderboard_pk(period_key, scope)
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_dynamo({"PK": keys.employee_pk(award.employee_id), "SK": keys.score_sk(period_key, scope)}),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if before is not None:
            update["ConditionExpression"] = _unchanged_since(before, names, values)
        update["ExpressionAttributeValues"] = to_dynamo(values)
        return {"Update": update}

    def _histogram_move(self, period_key: str, shard: int, before: int | None, points: int) -> dict[str, Any] | None:
        """One person moves from the bucket of their score before to that of their score after (or
        enters the histogram); nothing to write when both are the same bucket."""
        after = (before or 0) + points
        if before is not None and score_bucket(before) == score_bucket(after):
            return None
        names = {"#into": bucket_attribute(score_bucket(after))}
        values: dict[str, Any] = {":one": 1, ":entity": "histogram"}
        expression = "ADD #into :one"
        if before is not None:
            names["#out"] = bucket_attribute(score_bucket(before))
            values[":less"] = -1
            expression += ", #out :less"
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.histogram_pk(period_key, shard), "SK": keys.HISTOGRAM}),
                "UpdateExpression": expression + " SET entity = :entity",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_dynamo(values),
            }
        }

    def _not_erased(self, employee_id: str) -> dict[str, Any]:
        """An award read before an erasure and written after it writes nothing (the scores it
        would write are what the erasure deleted)."""
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.PROFILE}),
                "ConditionExpression": "attribute_not_exists(erased_at)",
            }
        }

    def _weekly_impact(self, award: Award) -> dict[str, Any]:
        """Points and visits of the week, in an item of their own beside the profile (the profile
        stays bounded): the digest reads last week's, then TTL removes it."""
        week = week_key(award.occurred_at)
        clicks = 1 if award.kind is AwardKind.CLICK else 0
        expires_at = award.occurred_at + IMPACT_LIFETIME
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.employee_pk(award.employee_id), "SK": keys.impact_sk(week)}),
                "UpdateExpression": "ADD points :points, clicks :clicks SET entity = :entity, expires_at = :expires",
                "ExpressionAttributeValues": to_dynamo(
                    {
                        ":points": award.points,
                        ":clicks": clicks,
                        ":entity": "impact",
                        ":expires": int(expires_at.timestamp()),
                    }
                ),
            }
        }

    def _stats_update(
        self, period_key: str, shard: int, row: str, award: Award, counter: str | None, *, participant: bool
    ) -> dict[str, Any]:
        added = ["points :points"]
        values: dict[str, Any] = {":points": award.points, ":entity": "stats"}
        if counter:
            added.append(f"{counter} :one")
            values[":one"] = 1
        if participant:
            added.append("participants :one")
            values[":one"] = 1
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo({"PK": keys.stats_pk(period_key, shard), "SK": row}),
                "UpdateExpression": f"ADD {', '.join(added)} SET entity = :entity",
                "ExpressionAttributeValues": to_dynamo(values),
            }
        }

    def _weekly_counts(self, award: Award, week: str, week_approvals: int | None) -> list[Guarded[_Refusal]]:
        """The company's counters of the week (the Overview's), and for an approval the employee's
        approvals of the week, conditioned on the count read before: the first approval of the week
        counts its employee once among the week's participants, however often it is retried (a
        retry is refused by the ledger entry; a concurrent approval changes the count read)."""
        participant = award.kind is AwardKind.APPROVED and not week_approvals
        company = self._stats_update(
            week,
            shard_of(award.event_id, STATS_SHARDS),
            keys.COMPANY_STATS,
            award,
            _COUNTERS.get(award.kind),
            participant=participant,
        )
        actions: list[Guarded[_Refusal]] = [Guarded(_count_network(company, award))]
        if award.kind is AwardKind.APPROVED:
            values: dict[str, Any] = {
                ":one": 1,
                ":entity": "week_activity",
                ":week": week,
                ":expires": int((award.occurred_at + _WEEK_ACTIVITY_LIFETIME).timestamp()),
            }
            if week_approvals is None:
                condition = "attribute_not_exists(approvals)"
            else:
                condition = "approvals = :before"
                values[":before"] = week_approvals
            activity = {
                "Update": {
                    "TableName": self._table,
                    "Key": to_dynamo({"PK": keys.employee_pk(award.employee_id), "SK": keys.week_activity_sk(week)}),
                    "UpdateExpression": "ADD approvals :one SET entity = :entity, week = :week, expires_at = :expires",
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": to_dynamo(values),
                }
            }
            actions.append(Guarded(activity, _Refusal.SCORE_CHANGED))
        return actions

    def _count_click(self, award: Award, click_cap: int | None) -> dict[str, Any]:
        assert award.content_id and award.network
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_dynamo(
                {"PK": keys.employee_pk(award.employee_id), "SK": keys.approval_sk(award.content_id, award.network)}
            ),
            "UpdateExpression": "ADD clicks :one, awarded_clicks :one",
        }
        values: dict[str, Any] = {":one": 1}
        if click_cap is not None:
            update["ConditionExpression"] = "attribute_not_exists(awarded_clicks) OR awarded_clicks < :cap"
            values[":cap"] = click_cap
        update["ExpressionAttributeValues"] = to_dynamo(values)
        return {"Update": update}

    def ledger_entry(self, employee_id: str, event_id: str) -> dict[str, Any]:
        return self._ledger_item(employee_id, event_id, consistent=False)

    def _ledger_item(self, employee_id: str, event_id: str, *, consistent: bool) -> dict[str, Any]:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.points_sk(event_id)}),
                ConsistentRead=consistent,
            )
        except ClientError as exc:
            raise StoreError("could not read the ledger") from exc
        if "Item" not in response:
            raise NotFound("no such award")
        return from_dynamo(response["Item"])

    # ------------------------------------------------------------------ visits past the cap
    def count_visits(self, visits: dict[Post, int]) -> None:
        """Adds visits past the click cap: one write per post for a whole stream batch, never on the
        approval item (the consent record, which a viral post would otherwise turn into a hot item)."""
        for (employee_id, content_id, network), count in sorted(visits.items()):
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.visits_sk(content_id, network)}),
                    UpdateExpression=(
                        "ADD visits :count SET entity = :entity, content_id = :content, network = :network"
                    ),
                    ExpressionAttributeValues=to_dynamo(
                        {":count": count, ":entity": "visits", ":content": content_id, ":network": network}
                    ),
                )
            except ClientError as exc:
                raise StoreError("could not count visits") from exc
            funnel = funnel_add(self._table, content_id, f"visits:{employee_id}:{network}", {"visits": count})
            try:
                self._client.update_item(**funnel["Update"])
            except ClientError as exc:
                raise StoreError("could not count visits") from exc

    def visits_past_cap(self, employee_id: str) -> dict[tuple[str, str], int]:
        """(content id, network) -> visits past the cap, for one employee's page (one Query)."""
        found: dict[tuple[str, str], int] = {}
        for item in self._paged(
            {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                "ExpressionAttributeValues": to_dynamo(
                    {":pk": keys.employee_pk(employee_id), ":prefix": keys.VISITS_PREFIX}
                ),
            }
        ):
            found[(str(item["content_id"]), str(item["network"]))] = int(item.get("visits", 0))
        return found

    # ------------------------------------------------------------------ leaderboards
    def top(self, period_key: str, scope: str, k: int) -> list[Ranked]:
        """Top k, ties broken by who reached the score first, then by id. One Query; a second
        page only when ties straddle the k-th place."""
        rows: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :board",
            "ExpressionAttributeValues": to_dynamo({":board": keys.leaderboard_pk(period_key, scope)}),
            "ScanIndexForward": False,
            "Limit": k + 1,
        }
        while True:
            response = self._query(request)
            rows.extend(from_dynamo(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            boundary_tied = len(rows) > k and rows[-1]["score"] == rows[k - 1]["score"] if k else False
            if not last or (len(rows) > k and not boundary_tied):
                break
            request["ExclusiveStartKey"] = last
        rows.sort(key=_board_order)
        return [
            Ranked(
                rank=index + 1,
                employee_id=str(row["employee_id"]),
                name=str(row.get("name", "")),
                score=int(row["score"]),
            )
            for index, row in enumerate(rows[:k])
        ]

    def standing(self, employee_id: str, period_key: str, scope: str, nearby: int = 2) -> Standing:
        """The employee's score and place on one board, at a cost bounded whatever its size.

        The exact place counts the index entries ahead (at most ``exact_rank_limit`` of them). On
        the overall board the histogram is read first: when it shows that many people or more
        ahead, the place is "top p%" of everyone with points, without counting. A place is never
        guessed: past the limit with no histogram (a group board) it is "not in the top N"."""
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=to_dynamo({"PK": keys.employee_pk(employee_id), "SK": keys.score_sk(period_key, scope)}),
            )
        except ClientError as exc:
            raise StoreError("could not read the score") from exc
        item = from_dynamo(response["Item"]) if "Item" in response else None
        if item is None or "GSI3PK" not in item:
            return Standing(score=int(item["score"]) if item else 0)
        score = int(item["score"])
        board = keys.leaderboard_pk(period_key, scope)
        limit = self._exact_rank_limit
        position = self.histogram(period_key).position(score) if scope == OVERALL else None
        rank = None
        if position is None or position.ahead_at_least < limit:
            rank = self._exact_rank(board, item, limit)
        above = self._neighbours(board, score, above=True, limit=nearby)
        below = self._neighbours(board, score, above=False, limit=nearby)
        if rank is not None:
            return Standing(score=score, rank=rank, above=above, below=below)
        if position is not None:
            return Standing(
                score=score, top_percent=position.top_percent, among=position.among, above=above, below=below
            )
        return Standing(score=score, beyond=limit, above=above, below=below)

    def _exact_rank(self, board: str, item: dict[str, Any], budget: int) -> int | None:
        """1 + the people ahead in board order (higher score; same score reached earlier, then
        smaller id), counted over at most ``budget`` index entries; None past the budget."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :board AND score >= :score",
            "FilterExpression": (
                "employee_id <> :me AND "
                "(score > :score OR reached_at < :at OR (reached_at = :at AND employee_id < :me))"
            ),
            "ExpressionAttributeValues": to_dynamo(
                {
                    ":board": board,
                    ":score": int(item["score"]),
                    ":at": str(item.get("reached_at", "")),
                    ":me": str(item["employee_id"]),
                }
            ),
            "Select": "COUNT",
        }
        ahead = read = 0
        while read < budget:
            request["Limit"] = budget - read
            response = self._query(request)
            ahead += int(response.get("Count", 0))
            read += int(response.get("ScannedCount", 0))
            if "LastEvaluatedKey" not in response:
                return ahead + 1
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return None

    def _neighbours(self, board: str, score: int, *, above: bool, limit: int) -> list[Neighbour]:
        """The closest higher (or lower) scores: ties with the employee are neither."""
        if limit < 1:
            return []
        response = self._query(
            {
                "TableName": self._table,
                "IndexName": "GSI3",
                "KeyConditionExpression": f"GSI3PK = :board AND score {'>' if above else '<'} :score",
                "ExpressionAttributeValues": to_dynamo({":board": board, ":score": score}),
                "ScanIndexForward": above,
                "Limit": limit,
            }
        )
        rows = [from_dynamo(item) for item in response.get("Items", [])]
        neighbours = [Neighbour(name=str(row.get("name", "")), score=int(row["score"])) for row in rows]
        return list(reversed(neighbours)) if above else neighbours

    def histogram(self, period_key: str) -> Histogram:
        """People per score bucket on the period's overall board: its shards, one BatchGetItem."""
        wanted = [
            {"PK": keys.histogram_pk(period_key, shard), "SK": keys.HISTOGRAM} for shard in range(HISTOGRAM_SHARDS)
        ]
        return Histogram.from_shards(batch_get(self._client, self._table, wanted))

    def set_hidden(self, employee_id: str, hidden: bool) -> None:
        """Hides (or shows again) the employee on every board: profile flag + each score item."""
        pk = keys.employee_pk(employee_id)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo({"PK": pk, "SK": keys.PROFILE}),
                UpdateExpression="SET leaderboard_hidden = :hidden",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_dynamo({":hidden": hidden}),
            )
            scores = self._paged(
                {
                    "TableName": self._table,
                    "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                    "ExpressionAttributeValues": to_dynamo({":pk": pk, ":prefix": "SCORE#"}),
                }
            )
            for item in scores:
                if hidden:
                    expression, values = "REMOVE GSI3PK", None
                else:
                    expression = "SET GSI3PK = :board"
                    values = to_dynamo({":board": keys.leaderboard_pk(str(item["period"]), str(item["scope"]))})
                request: dict[str, Any] = {
                    "TableName": self._table,
                    "Key": to_dynamo({"PK": pk, "SK": str(item["SK"])}),
                    "UpdateExpression": expression,
                    # A score deleted in the meantime (an erasure) is not recreated as a bare item
                    # on a board, which every reader of the board would then trip over.
                    "ConditionExpression": "attribute_exists(PK)",
                }
                if values:
                    request["ExpressionAttributeValues"] = values
                try:
                    self._client.update_item(**request)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
        except ClientError as exc:
            raise StoreError("could not change leaderboard visibility") from exc

    # ------------------------------------------------------------------ reports
    def board_pages(self, period_key: str, scope: str) -> Iterator[list[dict[str, Any]]]:
        """Every visible score item of a board, best first, one page (up to 1 MB) at a time."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :board",
            "ExpressionAttributeValues": to_dynamo({":board": keys.leaderboard_pk(period_key, scope)}),
            "ScanIndexForward": False,
        }
        while True:
            response = self._query(request)
            yield [from_dynamo(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def stats(self, period_key: str) -> list[dict[str, Any]]:
        """The period's counter rows, their shards added up: ``{"dimension": "company" | "campaign" |
        "group", "name": ..., "points": ..., "approvals": ..., ...}``."""
        rows: dict[str, dict[str, Any]] = {}
        for shard in range(STATS_SHARDS):
            for item in self._paged(
                {
                    "TableName": self._table,
                    "KeyConditionExpression": "PK = :pk",
                    "ExpressionAttributeValues": to_dynamo({":pk": keys.stats_pk(period_key, shard)}),
                }
            ):
                sk = str(item["SK"])
                if sk not in rows:
                    dimension, _, name = sk.partition("#")
                    rows[sk] = {"dimension": dimension.lower(), "name": name, **dict.fromkeys(STAT_COUNTERS, 0)}
                for counter in STAT_COUNTERS:
                    rows[sk][counter] += int(item.get(counter, 0))
        return list(rows.values())

    def _paged(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return (from_dynamo(item) for item in query_items(self._client, request, failure="could not read scores"))

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self._client.query(**request))
        except ClientError as exc:
            raise StoreError("could not read scores") from exc


def _unchanged_since(before: _Before, names: dict[str, str], values: dict[str, Any]) -> str:
    """The condition that the score item still holds what was read before the award."""
    if before.score is None:
        return "attribute_not_exists(score)"
    values[":before_score"] = before.score
    names["#approvals"] = "approvals"
    if before.approvals is None:
        return "score = :before_score AND attribute_not_exists(#approvals)"
    values[":before_approvals"] = before.approvals
    return "score = :before_score AND #approvals = :before_approvals"


def _count_network(update: dict[str, Any], award: Award) -> dict[str, Any]:
    """A company counter row also counts a publication under its network (publications by network)."""
    if award.kind is not AwardKind.PUBLISHED or not award.network:
        return update
    body = update["Update"]
    adds, _, sets = str(body["UpdateExpression"]).partition(" SET ")
    body["UpdateExpression"] = f"{adds}, #network_publications :one SET {sets}"
    body["ExpressionAttributeNames"] = {
        **body.get("ExpressionAttributeNames", {}),
        "#network_publications": network_publications_attribute(award.network),
    }
    return update


def _board_order(row: dict[str, Any]) -> tuple[int, str, str]:
    return (-int(row["score"]), str(row.get("reached_at", "")), str(row["employee_id"]))


def _first_approval_periods(award: Award, before: dict[Period, _Before]) -> set[Period]:
    """The report periods in which this award is the employee's first approval: a participant."""
    if award.kind is not AwardKind.APPROVED:
        return set()
    return {period for period in _STATS_PERIODS if not before[period].approvals}


class ScoringLookups:
    """Profiles (with the leaderboard opt-out), content and the click caps reached, for one stream
    batch: one BatchGetItem (per 100 keys)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def context_for(
        self,
        employee_ids: Iterable[str],
        content_ids: Iterable[str],
        posts: Iterable[Post] = (),
        clicks: Iterable[tuple[str, str]] = (),
    ) -> Context:
        """``posts``: the approvals whose click caps to read; ``clicks``: (employee id, award id) of
        the batch's clicks, to tell a redelivered click from a new one."""
        wanted = [{"PK": keys.employee_pk(e), "SK": keys.PROFILE} for e in sorted(set(employee_ids))]
        wanted += [{"PK": keys.content_pk(c), "SK": keys.META} for c in sorted(set(content_ids))]
        wanted += [{"PK": keys.employee_pk(e), "SK": keys.approval_sk(c, n)} for e, c, n in sorted(set(posts))]
        wanted += [{"PK": keys.employee_pk(e), "SK": keys.points_sk(event)} for e, event in sorted(set(clicks))]
        context = Context(employees={}, hidden=set(), contents={})
        for item in batch_get(self._client, self._table, wanted):
            if item.get("entity") == "employee" and "erased_at" not in item:  # the erased earn nothing
                employee = Employee.model_validate(item)
                context.employees[employee.employee_id] = employee
                if item.get("leaderboard_hidden"):
                    context.hidden.add(employee.employee_id)
            elif item.get("entity") == "content":
                content = Content.model_validate(item)
                context.contents[content.content_id] = content
            elif item.get("entity") == "approval":
                post = (str(item["employee_id"]), str(item["content_id"]), str(item["network"]))
                context.awarded_clicks[post] = int(item.get("awarded_clicks", 0))
            elif item.get("entity") == "points":
                context.awarded_events.add(str(item["event_id"]))
        return context
