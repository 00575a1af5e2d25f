"""What every console test in a browser does: sign in as the local demo admin, and check a page
(axe-core finds no serious or critical violation, nothing scrolls sideways at 1280 or 390 px,
a screenshot at each width kept as an artifact)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ARTIFACTS, ROOT, LocalCloudProcess, shot

AXE = ROOT / "tools/axe/node_modules/axe-core/axe.min.js"
WIDTHS = {"desktop": 1280, "phone": 390}


def axe_violations(page: Any, name: str) -> list[dict[str, Any]]:
    """Serious and critical violations axe-core finds on the page (all results kept as an artifact)."""
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}: run `make axe` (npm ci in tools/axe)", pytrace=False)
    # Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') allows.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(results["violations"], indent=2), encoding="utf-8")
    return [
        {"id": found["id"], "impact": found["impact"], "nodes": [node["target"] for node in found["nodes"]]}
        for found in results["violations"]
        if found["impact"] in {"serious", "critical"}
    ]


def check_page(page: Any, name: str) -> None:
    """Accessible, no sideways scrolling at either width, and a screenshot at each."""
    assert axe_violations(page, name) == []
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        shot(page, f"console-{name}-{label}")


def sign_in(page: Any, cloud: LocalCloudProcess) -> None:
    """Through the local issuer's login form, as the demo admin `make demo` prints; on the Overview."""
    admin = json.loads((cloud.state_dir / "console-admin.json").read_text(encoding="utf-8"))
    page.goto(f"{cloud.api_url}/console")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Email").fill(admin["username"])
    page.get_by_label("Password").fill(admin["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{cloud.api_url}/console")


def shots_at_both_widths(page: Any, name: str) -> None:
    """Screenshots of a page that is not the console's (an employee's), at 1280 and 390 px; the
    page is left at 1280 px."""
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"{name}-{label}")
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def advance_clock(cloud: LocalCloudProcess, by: timedelta) -> datetime:
    """Moves the local cloud's clock (firing what falls due) and returns once everything it set off
    (queues, streams, invocations) has run: the local cloud answers the tick only then."""
    now = datetime.fromisoformat(requests.get(f"{cloud.api_url}/_local/clock", timeout=10).json()["now"])
    answer = requests.post(f"{cloud.api_url}/_local/clock", json={"to": (now + by).isoformat()}, timeout=300)
    assert answer.status_code == 200, answer.text
    return datetime.fromisoformat(answer.json()["now"])
