"""Participation by group over time: shares against each month's own census, the largest group
first, months without a snapshot shown as unknown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.participation import MAX_GROUPS, MonthParticipation, group_trends, share, snapshot_groups

MONTHS = [("M2026-09", "2026-09"), ("M2026-10", "2026-10"), ("M2026-11", "2026-11")]


def test_each_month_divides_by_the_groups_size_counted_that_month():
    found = {
        "M2026-09": MonthParticipation("M2026-09", {"sales": 2}, {"sales": 4, "eng": 10}),
        "M2026-11": MonthParticipation("M2026-11", {"sales": 3, "eng": 1}, {"sales": 3, "eng": 20}),
    }

    trends = group_trends(MONTHS, found)

    assert [trend.group for trend in trends] == ["eng", "sales"]  # the largest today first
    eng, sales = trends
    assert [cell.percent for cell in sales.cells] == [50, None, 100]
    assert [cell.percent for cell in eng.cells] == [0, None, 5]
    assert sales.cells[1].participants == 0 and sales.cells[1].active is None


def test_a_month_with_participants_but_no_census_has_no_share():
    found = {"M2026-10": MonthParticipation("M2026-10", {"ops": 2})}

    [ops] = group_trends(MONTHS, found)

    assert ops.cells[1].participants == 2 and ops.cells[1].share is None


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_a_share_is_between_zero_and_one_or_unknown(participants: int, active: int):
    value = share(participants, active)

    assert (value is None) == (active == 0)
    assert value is None or 0 <= value <= 1


def test_a_snapshot_keeps_the_largest_groups_at_most():
    active = {f"g{index:04d}": index for index in range(MAX_GROUPS + 50)}

    kept = snapshot_groups({"tiny": 1}, active)

    assert len(kept) == MAX_GROUPS and kept[0] == f"g{MAX_GROUPS + 49:04d}" and "tiny" not in kept
