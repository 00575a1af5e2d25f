"""Rank bounds, score buckets, shards and the report files: pure rules, checked on open-ended inputs."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.points_report import CSV_COLUMNS, ReportWriter
from chorus.domain.scoring import Histogram, score_bucket, shard_of

scores = st.integers(min_value=-500, max_value=5_000_000)


@given(scores)
def test_a_bucket_starts_at_or_below_the_score_and_is_at_most_ten_percent_wide(score: int) -> None:
    bucket = score_bucket(score)
    if score <= 0:
        assert bucket == 0
        return
    assert bucket <= score
    # the next score outside this bucket starts the next bucket: buckets are contiguous ranges
    upper = next(s for s in range(score, score + max(score // 5, 2)) if score_bucket(s) != bucket)
    assert (upper - bucket) <= max(1, bucket // 10), (bucket, upper)
    assert score_bucket(upper - 1) == bucket


@given(st.lists(scores, min_size=1, max_size=300), st.data())
def test_the_histogram_bound_on_a_place_is_true_however_ties_are_ordered(board: list[int], data: st.DataObject) -> None:
    # Given a board of scores and the histogram the scorer keeps of it
    histogram = Histogram(Counter(score_bucket(score) for score in board))
    mine = data.draw(st.sampled_from(board))
    # When the place of one of them is bounded
    position = histogram.position(mine)
    # Then the bounds hold for the best and the worst order of their ties
    assert position is not None
    higher = sum(1 for score in board if score > mine)
    equal = sum(1 for score in board if score == mine)
    best_place, worst_place = higher + 1, higher + equal
    assert position.ahead_at_least <= higher
    assert worst_place <= position.at_most
    assert position.among == len(board)
    # and "top p%" is a true sentence: the place is within the first p% of everyone
    assert worst_place <= math.floor(position.top_percent * len(board) / 100 + 1e-9)
    assert 1 <= position.top_percent <= 100
    assert best_place >= 1


def test_scores_below_100_have_exact_buckets_so_their_bounds_are_exact() -> None:
    histogram = Histogram(Counter(score_bucket(score) for score in [90, 80, 80, 70, 10]))
    position = histogram.position(80)
    assert position is not None
    assert (position.ahead_at_least, position.at_most, position.among) == (1, 3, 5)
    assert position.top_percent == 60


def test_a_histogram_that_never_counted_the_score_gives_no_bound() -> None:
    # scores written before the histogram existed: no statement beats a false one
    assert Histogram({10: 3}).position(20) is None


def test_shards_of_a_histogram_add_up_and_ignore_other_attributes() -> None:
    histogram = Histogram.from_shards(
        [{"PK": "HIST#M#0", "h10": 2, "h20": -1, "entity": "histogram"}, {"h20": 2, "h1200": 1}]
    )
    assert dict(histogram.counts) == {10: 2, 20: 1, 1200: 1}


@given(st.text(min_size=1, max_size=80))
def test_a_source_event_always_picks_the_same_shard(event_id: str) -> None:
    assert 0 <= shard_of(event_id, 8) < 8
    assert shard_of(event_id, 8) == shard_of(event_id, 8)


def test_shards_spread_source_events_evenly() -> None:
    counts = Counter(shard_of(f"approved#a-{n}", 8) for n in range(8000))
    assert min(counts.values()) > 900 and max(counts.values()) < 1100


def test_the_report_files_are_written_row_by_row_as_valid_csv_and_json() -> None:
    # Given a report with a campaign, a group and two employees, one of them named like a formula
    csv_out, json_out = io.StringIO(), io.StringIO()
    writer = ReportWriter(csv_out, json_out)
    writer.begin(
        {"period": "month", "period_key": "M2026-11"},
        [{"name": "launch", "points": 30, "approvals": 3, "publications": 0, "clicks": 0}],
        [
            {
                "name": "sales",
                "points": 30,
                "approvals": 3,
                "publications": 0,
                "clicks": 0,
                "participants": 2,
                "members": 4,
            }
        ],
    )
    for n, name in enumerate(["Ada", "=HYPERLINK(1)"]):
        writer.employee(
            {"employee_id": f"e-{n}", "name": name, "points": 10, "approvals": 1, "publications": 0, "clicks": 0}
        )
    writer.end()
    # Then the JSON is one document with every row, and the CSV quotes the formula
    document = json.loads(json_out.getvalue())
    assert [row["name"] for row in document["employees"]] == ["Ada", "=HYPERLINK(1)"]
    assert document["groups"][0]["members"] == 4 and document["period_key"] == "M2026-11"
    rows = list(csv.reader(io.StringIO(csv_out.getvalue())))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][:2] == ["campaign", "launch"] and rows[2][-2:] == ["2", "4"]
    assert rows[4][:3] == ["employee", "'=HYPERLINK(1)", "e-1"]
    assert writer.employees == 2


def test_a_report_without_employees_is_still_valid_json() -> None:
    json_out = io.StringIO()
    writer = ReportWriter(io.StringIO(), json_out)
    writer.begin({"period": "all"}, [], [])
    writer.end()
    assert json.loads(json_out.getvalue()) == {"period": "all", "campaigns": [], "groups": [], "employees": []}
