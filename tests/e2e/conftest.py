"""The local cloud as a developer runs it (``chorus local up --detach`` in a subprocess), headless
Chromium, and the steps the browser stories share.

Chromium is required, never optional: without it the browser tests fail with the install hint
(``make test`` checks for it before anything else), so a green run always includes them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_MISSING = f"Chromium not found at {CHROMIUM}: install it (Debian/Ubuntu: sudo apt-get install chromium)"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class LocalCloudProcess:
    api_url: str
    aws_url: str
    api_port: int
    aws_port: int
    state_dir: Path
    startup_output: str = ""

    def chorus(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run the ``chorus`` CLI against this cloud."""
        return subprocess.run(
            [*chorus_command(), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_env(),
            check=False,
        )


def chorus_command() -> list[str]:
    script = Path(sys.executable).parent / "chorus"
    return [str(script)] if script.exists() else [sys.executable, "-m", "chorus_local"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(name, None)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_local_cloud(state_dir: Path, parameters: Mapping[str, str] | None = None) -> Iterator[LocalCloudProcess]:
    """Starts a detached local cloud on free ports (``parameters``: template parameter overrides);
    always stops it (kills it as a last resort)."""
    api_port, aws_port = free_port(), free_port()
    up = subprocess.run(
        [
            *chorus_command(),
            "local",
            "up",
            "--detach",
            "--api-port",
            str(api_port),
            "--aws-port",
            str(aws_port),
            "--state-dir",
            str(state_dir),
            *[f"--parameter={name}={value}" for name, value in (parameters or {}).items()],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=_env(),
        check=False,
    )
    cloud = LocalCloudProcess(
        api_url=f"http://127.0.0.1:{api_port}",
        aws_url=f"http://127.0.0.1:{aws_port}",
        api_port=api_port,
        aws_port=aws_port,
        state_dir=state_dir,
        startup_output=up.stdout,
    )
    try:
        if up.returncode != 0:
            pytest.fail(f"chorus local up failed ({up.returncode}):\n{up.stdout}\n{up.stderr}")
        yield cloud
    finally:
        down = cloud.chorus("local", "down", "--state-dir", str(state_dir), timeout=60)
        pid_file = state_dir / "chorus-local.pid"
        if down.returncode != 0 and pid_file.exists():  # last resort: kill the one process we started
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)


@pytest.fixture(scope="session")
def local_cloud_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    with running_local_cloud(tmp_path_factory.mktemp("chorus-e2e")) as cloud:
        yield cloud


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium; a missing browser fails the test with the install hint, never skips it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(CHROMIUM_MISSING, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def upload(cloud: LocalCloudProcess, tmp_path: Path, kind: str, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = cloud.chorus("upload", kind, str(path), "--state-dir", str(cloud.state_dir))
    assert result.returncode == 0, result.stdout + result.stderr


def wait_for_mail(cloud: LocalCloudProcess, address: str, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        messages = requests.get(f"{cloud.api_url}/_local/outbox.json", timeout=30).json()["messages"]
        mine = [message for message in messages if any(address in to for to in message["to"])]
        if mine or time.monotonic() > deadline:
            return mine
        time.sleep(0.5)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
