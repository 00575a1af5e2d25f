"""`chorus demo` on a cloud whose clock is months past the samples' dates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from chorus_local.cli import main
from chorus_local.cloud import LocalCloud
from chorus_local.demo import load_demo

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_IDS = {"2026-w48-lyon", "2026-w48-report", "2026-w48-hiring-eng", "2026-w48-sales-kickoff"}


def test_the_demo_loads_only_valid_content_for_this_week(
    local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the clock in March 2027, long after the samples' dates
    local_cloud.scheduler.tick_to(datetime(2027, 3, 4, 10, 0, tzinfo=UTC))
    # When the demo loads its data
    load_demo(local_cloud, ROOT)
    printed = capsys.readouterr().out
    # Then exactly the sample content is live (not the valid row of the mistakes file)
    token = local_cloud.issuer.issue({"sub": "t", local_cloud.groups_claim: [local_cloud.admin_group]}, 600)
    listed = requests.get(
        f"{local_cloud.api_url}/admin/content", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    assert {item["external_id"] for item in listed["items"]} == SAMPLE_IDS
    assert "A valid row" not in {item["title"] for item in listed["items"]}
    # And the mistakes file is shown as a report
    assert "(checked only, nothing imported): content-with-mistakes.csv" in printed
    assert "rows 5, accepted 1, rejected 4" in printed and "line 3, field url" in printed
    # And every active employee got this week's digest
    assert "6 recipients queued" in printed
    assert local_cloud.api_url in printed


def test_local_url_prints_the_urls_in_use(local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["local", "url", "--api-url", local_cloud.api_url]) == 0
    assert main(["local", "url", "--aws", "--api-url", local_cloud.api_url]) == 0
    assert capsys.readouterr().out.splitlines() == [local_cloud.api_url, local_cloud.aws_url]
