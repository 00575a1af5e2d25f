"""A cold start pays for what its first event uses: libraries a path does not need are imported
where they are used (bench/cold_start.py measures the whole cold start)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chorus import bootstrap

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "chorus"


def loaded_after(statements: str, modules: tuple[str, ...]) -> dict[str, bool]:
    """Which of ``modules`` a fresh interpreter (the layer on its path) holds after ``statements``."""
    program = f"import sys\n{statements}\nprint(*[name in sys.modules for name in {modules!r}])"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(LAYER), "AWS_REGION": "eu-west-1"}
    ran = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    return dict(zip(modules, [word == "True" for word in ran.stdout.split()], strict=True))


def test_the_employee_pages_modules_load_neither_requests_nor_oauthlib() -> None:
    # Given the modules the employee pages' function imports (its routes, the services they call,
    # the connection service that validates Mastodon instance URLs)
    # When they are imported, as the function's init does
    loaded = loaded_after("import chorus.web.employee, chorus.services.consent", ("requests", "oauthlib", "chorus"))
    # Then the HTTP and OAuth libraries are not (they load when a network is called)
    assert loaded == {"requests": False, "oauthlib": False, "chorus": True}


def test_an_email_channel_loads_jinja2_only_to_render() -> None:
    # Given the email channel the publisher and the sweeper wire for their notices
    loaded = loaded_after("import chorus.messages.email", ("jinja2",))
    assert loaded == {"jinja2": False}
    # When a message is rendered, Jinja2 is there
    loaded = loaded_after(
        "from chorus.messages.rendering import environment\nenvironment('chorus.messages')", ("jinja2",)
    )
    assert loaded == {"jinja2": True}


def test_a_network_send_still_translates_the_requests_failures() -> None:
    # Given requests imported inside `send` only: a timeout still becomes a transient failure
    from chorus.adapters.networks.http import send
    from chorus.domain.publishing import FailureKind, PublishFailed

    class TimingOut:
        def request(self, *args: object, **kwargs: object) -> object:
            import requests

            raise requests.Timeout("slow")

    with pytest.raises(PublishFailed) as failed:
        send(TimingOut(), "GET", "https://example.com", network="x", timeout=1.0, headers={})  # type: ignore[arg-type]
    assert failed.value.kind is FailureKind.TRANSIENT


def test_a_client_is_made_on_first_use_once_even_from_several_threads() -> None:
    # Given a client stood in for by bootstrap's first-use wrapper
    made: list[object] = []
    ready = threading.Barrier(8)

    def make() -> object:
        made.append(object())
        return made[-1]

    client = bootstrap._OnFirstUse(make)
    assert made == []  # wiring it made nothing
    seen: list[object] = []

    def use() -> None:
        ready.wait()
        seen.append(client._target())

    # When eight threads use it at once (the publisher's workers)
    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then it was made once, and every thread got that one
    assert len(made) == 1 and seen == made * 8


def test_an_attribute_is_the_made_objects() -> None:
    class Client:
        region = "eu-west-1"

        def call(self, value: int) -> int:
            return value * 2

    client = bootstrap._OnFirstUse(Client)
    assert client.region == "eu-west-1" and client.call(21) == 42
    with pytest.raises(AttributeError):
        _ = client.missing
