"""The local cloud as a developer runs it: ``chorus local up --detach`` in a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LocalCloudProcess:
    api_url: str
    aws_url: str
    api_port: int
    aws_port: int
    state_dir: Path

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
def running_local_cloud(state_dir: Path) -> Iterator[LocalCloudProcess]:
    """Starts a detached local cloud on free ports; always stops it (kills it as a last resort)."""
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
