"""bench.publish_fanout at a small size, so the figures in bench/README.md cannot rot: posts
due at once published by concurrent publishers with every post delivered twice (0 duplicates,
0 lost, DynamoDB calls per publication within target), and orphans handed over in one sweep."""

from __future__ import annotations

import pytest
from bench import publish_fanout


def test_posts_due_at_once_and_orphans_meet_their_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert publish_fanout.main(["--posts", "24", "--workers", "4", "--orphans", "300", "--check"]) == 0
    out = capsys.readouterr().out
    assert "0 duplicates, 0 lost, 0 failed messages" in out
    assert "300 handed over, 0 left, complete=True, 300 waiting on the queues" in out
    # The publishers really ran at once (more than one publication in flight)
    in_flight = int(out.split("at most ")[1].split(" publications")[0])
    assert in_flight > 1
