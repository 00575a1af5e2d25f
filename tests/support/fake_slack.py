"""A fake Slack Web API on a loopback port (nothing leaves the machine), strict where Slack is:
the bot token is required, users.lookupByEmail answers users_not_found for unknown addresses,
chat.postMessage takes JSON with blocks, a response URL takes one replacement per call. It can
answer 429 with Retry-After, as Slack's rate limits do. Every request is kept as received."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_TOKEN = "xoxb-test-0123456789"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {name: values[0] for name, values in parse_qs(self.body.decode()).items()}


@dataclass
class FakeSlack:
    users: dict[str, str] = field(default_factory=dict)  # email -> Slack user id
    requests: list[Received] = field(default_factory=list)
    # The next N calls answer 429 with this Retry-After.
    rate_limited: int = 0
    retry_after: str = "0"
    base_url: str = ""

    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/respond/{name}"

    def calls(self, method: str) -> list[Received]:
        return [request for request in self.requests if request.path == f"/api/{method}"]

    def messages(self) -> list[dict[str, Any]]:
        return [request.json() for request in self.calls("chat.postMessage")]

    def replacements(self) -> list[dict[str, Any]]:
        return [request.json() for request in self.requests if request.path.startswith("/respond/")]

    def answer(self, request: Received) -> tuple[int, dict[str, str], dict[str, Any]]:
        if self.rate_limited:
            self.rate_limited -= 1
            return 429, {"Retry-After": self.retry_after}, {"ok": False, "error": "ratelimited"}
        if request.path.startswith("/respond/"):
            return 200, {}, {"ok": True}
        if request.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return 200, {}, {"ok": False, "error": "not_authed"}
        if request.path == "/api/users.lookupByEmail":
            user = self.users.get(request.form().get("email", ""))
            if user is None:
                return 200, {}, {"ok": False, "error": "users_not_found"}
            return 200, {}, {"ok": True, "user": {"id": user, "deleted": False, "is_bot": False}}
        if request.path == "/api/conversations.open":
            users = request.json().get("users") if request.body.startswith(b"{") else request.form().get("users")
            return 200, {}, {"ok": True, "channel": {"id": f"D{users}"}}
        if request.path == "/api/chat.postMessage":
            message = request.json()
            if not message.get("channel") or not isinstance(message.get("blocks"), list):
                return 200, {}, {"ok": False, "error": "invalid_arguments"}
            return 200, {}, {"ok": True, "channel": message["channel"], "ts": f"{len(self.requests)}.000100"}
        return 404, {}, {"ok": False, "error": "unknown_method"}


@contextmanager
def running_fake_slack(slack: FakeSlack | None = None) -> Iterator[FakeSlack]:
    fake = slack or FakeSlack()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            fake.requests.append(received)
            status, headers, body = fake.answer(received)
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
