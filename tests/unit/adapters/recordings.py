"""Recorded network answers (tests/fixtures/networks) replayed with `responses`, and post factories."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import responses

from chorus.adapters.networks.http import NetworkCredentials
from chorus.domain.content import Network
from chorus.domain.publishing import PostRequest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "networks"
TOKEN = "tok-SECRET-8f2d1c0a9b7e6d5c4b3a"
INSTANCE = "https://mastodon.social"


def recorded(name: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return answer


def recorded_now(name: str) -> float:
    """The moment the recording was made, from its Date header: the clock for rate-limit maths."""
    headers = {key.lower(): value for key, value in recorded(name)["headers"].items()}
    return parsedate_to_datetime(headers["date"]).timestamp()


def replay(rsps: responses.RequestsMock, method: str, url: str, name: str) -> None:
    answer = recorded(name)
    body = answer["body"]
    rsps.add(
        method,
        url,
        status=answer["status"],
        headers={k: v for k, v in answer["headers"].items() if k.lower() != "content-type"},
        content_type=next((v for k, v in answer["headers"].items() if k.lower() == "content-type"), None),
        body=b"" if body is None else (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)),
    )


def make_post(
    network: Network = Network.LINKEDIN,
    text: str = "Proud of the team: our Q3 report is out.",
    link: str = "https://example.com/news/q3-report",
    title: str = "Q3 report",
) -> PostRequest:
    return PostRequest(
        network=network, idempotency_key="idem-e1-c1-linkedin-r1", employee_id="e1", text=text, link=link, title=title
    )


def credentials(member_id: str | None = "782bbtaQ", instance_url: str | None = INSTANCE) -> NetworkCredentials:
    return NetworkCredentials(access_token=TOKEN, member_id=member_id, instance_url=instance_url)


def sent_json(rsps: responses.RequestsMock, index: int = 0) -> Any:
    body = rsps.calls[index].request.body
    assert isinstance(body, bytes)
    return json.loads(body.decode("utf-8"))
