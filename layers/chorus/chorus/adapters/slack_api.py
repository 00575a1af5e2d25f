"""Slack's Web API through slack_sdk (an injected ``WebClient``), its response URLs, and the
Slack secrets (bot token, signing secret) read through the secrets provider.

Rate limits: Slack answers 429 with ``Retry-After`` (seconds). Each call waits that long and
tries again, up to RETRIES times, unless the wait is longer than MAX_WAIT (a Lambda invocation
should not sleep for minutes): then it fails as SlackUnavailable and the caller's retry (the
digest queue's redelivery) comes back later. users.lookupByEmail is Tier 3 (about 50 a minute),
chat.postMessage about one message a second per channel, conversations.open Tier 3.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from chorus.adapters.secrets_keys import read_secret
from chorus.errors import ChorusError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from slack_sdk import WebClient
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.response import HttpResponse
    from slack_sdk.http_retry.state import RetryState

RETRIES = 2
MAX_WAIT = 20.0


class SlackUnavailable(ChorusError):
    """Slack refused or failed a call (the error code, never the message's content)."""

    http_status = 502
    code = "slack_unavailable"


class UserNotFound(SlackUnavailable):
    code = "slack_user_not_found"


class RetryAfter(RateLimitErrorRetryHandler):
    """Waits as long as Slack's Retry-After says, through an injected sleep, and gives up when
    Slack asks for more than ``max_wait`` seconds."""

    def __init__(
        self, max_retry_count: int = RETRIES, *, max_wait: float = MAX_WAIT, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._max_wait = max_wait
        self._sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and _retry_after(response.headers) <= self._max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise SlackUnavailable("no answer from Slack")
        state.next_attempt_requested = True
        self._sleep(_retry_after(response.headers))
        state.increment_current_attempt()


def _retry_after(headers: dict[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            return float(raw) if str(raw).isdigit() else 1.0
    return 1.0


class SlackSecrets:
    """The bot token (xoxb-...) and the signing secret, each a Secrets Manager secret's text."""

    def __init__(self, secrets: SecretsProvider, *, bot_token_secret_id: str, signing_secret_id: str) -> None:
        self._secrets = secrets
        self._bot_token_id = bot_token_secret_id
        self._signing_id = signing_secret_id

    def bot_token(self) -> str:
        return read_secret(self._secrets, self._bot_token_id).strip()

    def signing_secret(self) -> bytes:
        return read_secret(self._secrets, self._signing_id).strip().encode()


class SlackWebApi:
    """users.lookupByEmail, conversations.open and chat.postMessage with the bot token, and
    replacing a message through the response URL of a click."""

    def __init__(
        self,
        client: WebClient,
        bot_token: Callable[[], str],
        *,
        webhook: Callable[[str], WebhookClient] | None = None,
    ) -> None:
        self._client = client
        self._bot_token = bot_token
        self._webhook = webhook or (lambda url: WebhookClient(url, retry_handlers=list(client.retry_handlers)))

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        # The token is read for each call (cached by the provider): a rotated token is picked up
        # without a new client.
        self._client.token = self._bot_token()
        try:
            return call()
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                raise UserNotFound(f"Slack has no user for {what}") from exc
            reason = exc.response.get("error", exc.response.status_code)
            raise SlackUnavailable(f"Slack refused {what} ({reason})") from exc
        except SlackClientError as exc:
            raise SlackUnavailable(f"could not reach Slack for {what}") from exc

    def user_id_by_email(self, email: str) -> str | None:
        try:
            response = self._call("users.lookupByEmail", lambda: self._client.users_lookupByEmail(email=email))
        except UserNotFound:
            return None
        user = response.get("user") or {}
        if user.get("deleted") or user.get("is_bot"):
            return None
        return str(user["id"]) if user.get("id") else None

    def open_direct_message(self, slack_user_id: str) -> str:
        response = self._call("conversations.open", lambda: self._client.conversations_open(users=slack_user_id))
        return str(response["channel"]["id"])

    def post_message(self, channel_id: str, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        self._call(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=channel_id, text=text, blocks=list(blocks), unfurl_links=False, unfurl_media=False
            ),
        )

    def replace_message(self, response_url: str, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        try:
            response = self._webhook(response_url).send(text=text, blocks=list(blocks), replace_original=True)
        except SlackClientError as exc:
            raise SlackUnavailable("could not reach Slack's response URL") from exc
        if response.status_code != 200:
            raise SlackUnavailable(f"Slack's response URL answered {response.status_code}")
