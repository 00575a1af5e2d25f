"""bench.scoring_scale runs end to end at a small size, so `make bench` cannot rot: every place it
shows is true, every transaction holds at most 25 items, every API answer stays under 1 MB."""

from __future__ import annotations

import pytest
from bench import scoring_scale


@pytest.mark.slow
def test_the_scoring_benchmark_runs_and_passes_at_a_small_size(monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, "eu-west-1" if name == "AWS_DEFAULT_REGION" else "testing")
    assert scoring_scale.main(["--employees", "1200", "--export-rows", "20000", "--check"]) == 0
    out = capsys.readouterr().out
    assert "PASS: every place shown was true" in out
    assert "| 1,001 |" in out and "| 50 | 12 |" in out
