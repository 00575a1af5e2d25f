"""The scorer's company-week and per-network counters (the console's Overview): counted in the
company's ISO week (DigestTimezone, Europe/Paris in the tests), each participant once a week,
and a stream record processed twice counts once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import scoring_handler
from chorus import bootstrap
from chorus.domain.scoring import STATS_SHARDS, company_week_key
from chorus.store import keys
from tests.conftest import TABLE
from tests.integration.handlers.test_scoring import CONTENT, PEOPLE, approval_image, record
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import seed

# Sunday 29 November 2026, 23:30 UTC: Monday 00:30 in Paris, the first minutes of week 49.
PARIS_MONDAY = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
SUNDAY_EVENING = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)


@pytest.fixture
def world(aws):
    seed(aws, [CONTENT], PEOPLE)
    bootstrap.score_stream.cache_clear()
    yield aws
    bootstrap.score_stream.cache_clear()


def at(stream_record: dict, moment: datetime) -> dict:
    stream_record["dynamodb"]["ApproximateCreationDateTime"] = moment.timestamp()
    return stream_record


def run(*records: dict) -> dict:
    return scoring_handler.lambda_handler({"Records": list(records)}, FakeLambdaContext())


def company_row(aws, period: str) -> dict[str, int]:
    """The period's company counters, shards added up, as the Overview reads them."""
    totals: dict[str, int] = {}
    for shard in range(STATS_SHARDS):
        item = (
            aws["dynamodb"]
            .get_item(TableName=TABLE, Key={"PK": {"S": keys.stats_pk(period, shard)}, "SK": {"S": "COMPANY"}})
            .get("Item", {})
        )
        for name, value in item.items():
            if "N" in value:
                totals[name] = totals.get(name, 0) + int(value["N"])
    return totals


def test_an_approval_counts_in_the_companys_week_once_even_when_redelivered(world):
    # Given Ada approving at Monday 00:30 in Paris (still Sunday in UTC)
    approval = at(record(approval_image("ada@example.com")), PARIS_MONDAY)

    # When the stream delivers it twice
    assert run(approval) == {"batchItemFailures": []}
    assert run(approval) == {"batchItemFailures": []}

    # Then Paris's week 49 counts one approval and one participant, UTC's week 48 nothing
    assert company_week_key(PARIS_MONDAY, "Europe/Paris") == "W2026-49"
    week = company_row(world, "W2026-49")
    assert (week["approvals"], week["participants"], week["points"]) == (1, 1, 10)
    assert company_row(world, "W2026-48") == {}


def test_each_employee_participates_once_a_week_however_many_approvals(world):
    # Given Ada approving on two networks in the same week, and Bob once, and Ada again the
    # Sunday before (the previous company week)
    run(
        at(record(approval_image("ada@example.com", network="sandbox")), PARIS_MONDAY),
        at(record(approval_image("bob@example.com", network="sandbox")), PARIS_MONDAY),
    )
    run(at(record(approval_image("ada@example.com", network="linkedin")), PARIS_MONDAY))
    run(at(record(approval_image("cy@example.com", network="linkedin")), SUNDAY_EVENING))

    # Then week 49 has three approvals by two participants, week 48 Cy's one
    week = company_row(world, "W2026-49")
    assert (week["approvals"], week["participants"]) == (3, 2)
    assert (company_row(world, "W2026-48")["approvals"], company_row(world, "W2026-48")["participants"]) == (1, 1)


def test_publications_are_counted_per_network_in_the_week_and_the_month_once(world):
    # Given Bob's approved post on the sandbox, then published (the stream redelivering it)
    scheduled = approval_image("bob@example.com", network="sandbox")
    published = approval_image("bob@example.com", "PUBLISHED", network="sandbox")
    run(at(record(scheduled), PARIS_MONDAY))
    done = at(record(published, old=approval_image("bob@example.com", "PUBLISHING"), event="MODIFY"), PARIS_MONDAY)
    run(done)
    run(done)

    # Then the week's and the month's company rows count one publication, on the sandbox
    week, month = company_row(world, "W2026-49"), company_row(world, "M2026-11")
    assert (week["publications"], week["publications_sandbox"]) == (1, 1)
    assert (month["publications"], month["publications_sandbox"]) == (1, 1)
    assert "publications_linkedin" not in week
