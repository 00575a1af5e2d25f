"""Drive the detached local cloud through the ``chorus`` CLI and HTTP, as a developer would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import LocalCloudProcess

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "events" / "samples"

pytestmark = pytest.mark.e2e


def test_status_and_health(local_cloud_process: LocalCloudProcess) -> None:
    status = local_cloud_process.chorus("local", "status", "--state-dir", str(local_cloud_process.state_dir))
    assert status.returncode == 0, status.stderr
    assert local_cloud_process.api_url in status.stdout
    health = requests.get(f"{local_cloud_process.api_url}/_local/health", timeout=10).json()
    assert health["ports"] == {"api": local_cloud_process.api_port, "aws": local_cloud_process.aws_port}
    # The start-up lines and `chorus local url` give the ports in use, not the defaults
    assert f"gateway : {local_cloud_process.api_url}" in local_cloud_process.startup_output
    assert f"moto    : {local_cloud_process.aws_url}" in local_cloud_process.startup_output
    assert "default ports" not in local_cloud_process.startup_output
    url = local_cloud_process.chorus("local", "url", "--state-dir", str(local_cloud_process.state_dir))
    assert url.returncode == 0 and url.stdout.strip() == local_cloud_process.api_url


def test_admin_api_needs_a_token_from_the_cli(local_cloud_process: LocalCloudProcess) -> None:
    base = local_cloud_process.api_url
    assert requests.get(f"{base}/admin/content", timeout=10).status_code == 401
    token = local_cloud_process.chorus("local", "admin-token", "--state-dir", str(local_cloud_process.state_dir))
    assert token.returncode == 0, token.stderr
    response = requests.get(
        f"{base}/admin/content", headers={"Authorization": f"Bearer {token.stdout.strip()}"}, timeout=30
    )
    assert response.status_code == 200, response.text


def test_upload_prints_the_report(local_cloud_process: LocalCloudProcess) -> None:
    state = ["--state-dir", str(local_cloud_process.state_dir)]
    clean = local_cloud_process.chorus("upload", "content", str(SAMPLES / "content.csv"), *state)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "rows" in clean.stdout
    mistakes = local_cloud_process.chorus("upload", "content", str(SAMPLES / "content-with-mistakes.csv"), *state)
    assert mistakes.returncode == 1, mistakes.stdout + mistakes.stderr
    assert "line " in mistakes.stdout


def test_tick_moves_the_clock(local_cloud_process: LocalCloudProcess) -> None:
    target = datetime.now(UTC) + timedelta(days=8)
    tick = local_cloud_process.chorus(
        "local", "tick", "--to", target.isoformat(), "--state-dir", str(local_cloud_process.state_dir)
    )
    assert tick.returncode == 0, tick.stderr
    assert f"clock: {target:%Y-%m-%d}" in tick.stdout
    assert "DigestPlanner" in tick.stdout  # the template's weekly ScheduleV2 fired
