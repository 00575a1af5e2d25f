"""The roll-up's rules: team rows from the scorer's shards added up, funnels added up per campaign,
the top content ranked, and every list capped so each stored item stays under DynamoDB's 400 KB."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.funnel import FUNNEL_COUNTERS, Funnel
from chorus.domain.rollup import (
    MAX_CAMPAIGN_ROWS,
    MAX_TEAM_ROWS,
    TOP_CONTENT,
    CampaignTally,
    ListedContent,
    team_rollup,
)

AT = datetime(2026, 11, 30, 6, 15, tzinfo=UTC)
DYNAMODB_ITEM_LIMIT = 400 * 1024


def item(content_id: str, campaign: str = "spring", title: str = "News") -> ListedContent:
    return ListedContent(content_id=content_id, title=title, campaign=campaign)


def test_team_rows_are_the_group_rows_the_most_points_first():
    # Given the period's rows as ScoreStore.stats adds them up (company and campaign rows too)
    stats = [
        {"dimension": "company", "name": "", "points": 90, "participants": 9},
        {"dimension": "group", "name": "sales", "points": 20, "participants": 2},
        {"dimension": "campaign", "name": "spring", "points": 90, "participants": 0},
        {"dimension": "group", "name": "engineering", "points": 70, "participants": 7},
        {"dimension": "group", "name": "legal", "points": 20, "participants": 3},
    ]

    rollup = team_rollup("M2026-11", stats, AT)

    assert [(team.group, team.points, team.participants) for team in rollup.teams] == [
        ("engineering", 70, 7),
        ("legal", 20, 3),
        ("sales", 20, 2),
    ]
    assert (rollup.period_key, rollup.computed_at, rollup.teams_total) == ("M2026-11", AT, 3)


def test_a_campaign_funnel_is_the_sum_of_its_items_funnels():
    tally = CampaignTally()
    tally.add(item("c1"), Funnel(sent=10, opened=6, approvals=3, publications=2, visits=40))
    tally.add(item("c2"), Funnel(sent=5, opened=1, approvals=1, publications=1, visits=2))
    tally.add(item("c3", campaign=""), Funnel(sent=7, opened=2))
    tally.add(item("c4", campaign="autumn"), Funnel())

    rollup = tally.rollup({"spring": 40, "": 0}, AT)

    rows = {row.campaign: row for row in rollup.campaigns}
    assert rows["spring"].funnel.funnel() == Funnel(sent=15, opened=7, approvals=4, publications=3, visits=42)
    assert (rows["spring"].items, rows["spring"].points) == (2, 40)
    assert rows[""].funnel.funnel() == Funnel(sent=7, opened=2)
    assert rows["autumn"].items == 1 and rows["autumn"].funnel.funnel() == Funnel()
    # the most approvals first, then the most sent
    assert [row.campaign for row in rollup.campaigns] == ["spring", "", "autumn"]
    assert rollup.totals.funnel() == Funnel(sent=22, opened=9, approvals=4, publications=3, visits=42)
    assert (rollup.content_items, rollup.campaigns_total) == (4, 3)


def test_top_content_keeps_the_best_of_each_ranking_and_leaves_out_items_with_none():
    tally = CampaignTally()
    for number in range(TOP_CONTENT + 5):
        tally.add(item(f"c{number:02d}"), Funnel(approvals=number, visits=100 - number))
    tally.add(item("quiet"), Funnel(sent=1000))

    rollup = tally.rollup({}, AT)

    assert [row.content_id for row in rollup.top_by_approvals] == [f"c{n:02d}" for n in range(14, 4, -1)]
    # c00 has no approvals but the most visits: ranked by visits only
    assert [row.content_id for row in rollup.top_by_visits] == [f"c{n:02d}" for n in range(TOP_CONTENT)]
    assert all(row.content_id != "quiet" for row in rollup.top_by_approvals + rollup.top_by_visits)


def test_ties_rank_by_the_other_counter_then_by_id_so_two_runs_agree():
    tally = CampaignTally()
    tally.add(item("b"), Funnel(approvals=2, visits=1))
    tally.add(item("a"), Funnel(approvals=2, visits=1))
    tally.add(item("c"), Funnel(approvals=2, visits=5))

    assert [row.content_id for row in tally.rollup({}, AT).top_by_approvals] == ["c", "a", "b"]


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 50), st.integers(0, 500)),
        max_size=60,
    )
)
def test_whatever_the_order_items_come_in_the_rankings_are_the_true_top(rows):
    tally = CampaignTally()
    for number, (campaign, approvals, visits) in enumerate(rows):
        tally.add(item(f"c{number:03d}", campaign), Funnel(approvals=approvals, visits=visits))

    rollup = tally.rollup({}, AT)

    best = sorted(
        ((-approvals, -visits, f"c{n:03d}") for n, (_, approvals, visits) in enumerate(rows) if approvals),
    )[:TOP_CONTENT]
    assert [row.content_id for row in rollup.top_by_approvals] == [key for *_, key in best]
    assert sum(row.funnel.approvals for row in rollup.campaigns) == sum(approvals for _, approvals, _ in rows)


def test_at_the_caps_with_the_longest_names_each_item_stays_under_400_kb():
    # Given more groups and campaigns than the caps, named as long as uploads allow, with big counts
    stats = [
        {"dimension": "group", "name": f"{number:05d}" + "g" * 95, "points": 10**12, "participants": 10**9}
        for number in range(MAX_TEAM_ROWS + 300)
    ]
    tally = CampaignTally()
    big = Funnel(**dict.fromkeys(FUNNEL_COUNTERS, 10**12))
    for number in range(MAX_CAMPAIGN_ROWS + 100):
        campaign = f"{number:05d}" + "c" * 95
        tally.add(ListedContent(content_id=f"c-{number:020x}", title="T" * 200, campaign=campaign), big)

    teams = team_rollup("M2026-11", stats, AT)
    campaigns = tally.rollup({}, AT)

    # Then the rows are capped, the totals kept, and each document fits one item with room to spare
    assert (len(teams.teams), teams.teams_total) == (MAX_TEAM_ROWS, MAX_TEAM_ROWS + 300)
    assert (len(campaigns.campaigns), campaigns.campaigns_total) == (MAX_CAMPAIGN_ROWS, MAX_CAMPAIGN_ROWS + 100)
    assert len(teams.model_dump_json().encode()) < DYNAMODB_ITEM_LIMIT * 0.9
    assert len(campaigns.model_dump_json().encode()) < DYNAMODB_ITEM_LIMIT * 0.9
