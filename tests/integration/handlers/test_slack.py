"""Slack end to end on moto with a fake Slack Web API: the digest as a DM, a "Post as shown"
click through the signed interactivity endpoint and the click queue, the approval of exactly the
texts shown (channel "slack"), the message replaced, and the post published on the sandbox.

And the consent invariant: a forged, stale, replayed or altered request, a click by another Slack
user, or a click on a message whose content changed since records nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from bench.aws_calls import count_aws_calls, default_session
from moto.ses.models import ses_backends
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

import digest_sender_handler
import publisher_handler
import web_handler
from chorus.adapters.secrets_keys import parse_key_ring
from chorus.adapters.slack_api import RetryAfter, SlackUnavailable, SlackWebApi
from chorus.bootstrap import build_slack_one_click
from chorus.config import SlackActionsSettings
from chorus.domain.magic_links import ME_SCOPE, form_subject, sign_form, sign_link
from chorus.domain.slack import DigestChannel
from chorus.edge.slack_clicks import SlackClicks
from chorus.store.slack import SlackStore
from tests.conftest import ACCOUNT, DIGEST_QUEUE_URL, MAGIC_LINK_SECRET, TABLE
from tests.support.digest import plan_digest, sqs_record
from tests.support.fake_slack import BOT_TOKEN, FakeSlack, running_fake_slack
from tests.support.http_events import http_event
from tests.support.iam import denied
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

SIGNING_SECRET = "slack-signing-secret-0123456789abcdef"
CLICK_QUEUE = "chorus-test-slack-clicks"
CLICK_QUEUE_URL = f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/{CLICK_QUEUE}"
ADA = "ada@example.com"
ADA_SLACK = "U0ADA"
RESPONSE_URL = "https://hooks.slack.com/actions/T0001/1234/abcdef"
TODAY = datetime.now(UTC).date()
CONTENT = {
    "id": "lyon",
    "title": "Lyon <office> & friends",
    "url": "https://example.com/lyon",
    "text": "We opened in Lyon & we're <hiring>",
    "ends_at": str(TODAY + timedelta(days=10)),
}


@pytest.fixture
def slack(aws, monkeypatch):
    aws["secretsmanager"] = aws["secrets"]
    aws["secrets"].create_secret(Name="chorus-test-slack-bot", SecretString=BOT_TOKEN)
    aws["secrets"].create_secret(Name="chorus-test-slack-signing", SecretString=SIGNING_SECRET)
    aws["sqs"].create_queue(QueueName=CLICK_QUEUE)
    with running_fake_slack(FakeSlack(users={ADA: ADA_SLACK})) as fake:
        for name, value in {
            "SLACK_BOT_TOKEN_SECRET_ID": "chorus-test-slack-bot",
            "SLACK_SIGNING_SECRET_ID": "chorus-test-slack-signing",
            "SLACK_CLICK_QUEUE_URL": CLICK_QUEUE_URL,
            "SLACK_API_URL": fake.api_url(),
        }.items():
            monkeypatch.setenv(name, value)
        yield fake


@pytest.fixture
def ada_on_slack(aws, slack):
    """Ada, matched to her Slack user (a first digest did it) and choosing Slack only."""
    seed(aws, [CONTENT], [{"email": ADA, "name": "Ada", "timezone": "Europe/Paris", "locale": "en"}])
    store = SlackStore(aws["dynamodb"], TABLE)
    store.record_slack_lookup(employee_id(ADA), ADA_SLACK, datetime.now(UTC))
    store.choose_digest_channel(employee_id(ADA), DigestChannel.SLACK)
    return slack


def send_digest(aws) -> None:
    plan_digest(aws["sqs"])
    messages = aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages", [])
    assert messages
    result = digest_sender_handler.lambda_handler({"Records": [sqs_record(m) for m in messages]}, FakeLambdaContext())
    assert result == {"batchItemFailures": []}


def emails() -> list[Any]:
    return list(ses_backends[ACCOUNT]["eu-west-1"].sent_messages)


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message["blocks"]:
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["action_id"] == action_id:
                    return element
    raise AssertionError(f"no {action_id} button")


def click_body(token: str, user: str = ADA_SLACK, trigger: str = "trigger-1") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "ada", "team_id": "T0001"},
        "api_app_id": "A0001",
        "container": {"type": "message", "channel_id": f"D{user}"},
        "trigger_id": trigger,
        "response_url": RESPONSE_URL,
        "actions": [{"type": "button", "action_id": "post_as_shown", "value": token, "action_ts": "1.2"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes, *, secret: str = SIGNING_SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    mac = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": timestamp, "x-slack-signature": f"v0={mac}"}


def post_interaction(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    event = http_event(
        "POST",
        "/slack/interactions",
        claims=None,
        body=body,
        headers={"content-type": "application/x-www-form-urlencoded", "user-agent": "Slackbot 1.0", **headers},
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def queued_clicks(aws) -> list[dict[str, Any]]:
    return aws["sqs"].receive_message(QueueUrl=CLICK_QUEUE_URL, MaxNumberOfMessages=10).get("Messages", [])


def handle_clicks(aws, fake: FakeSlack, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The Slack actions function on these queue messages, its response URLs led to the fake."""
    client = WebClient(base_url=fake.api_url(), retry_handlers=[RetryAfter()])
    api = SlackWebApi(client, lambda: BOT_TOKEN, webhook=lambda url: WebhookClient(fake.response_url(url[-6:])))
    one_click = build_slack_one_click(SlackActionsSettings.from_env(), dynamodb_client=aws["dynamodb"], slack_api=api)
    event = {"Records": [sqs_record(message, CLICK_QUEUE) for message in messages]}
    return SlackClicks(one_click).handle(event, FakeLambdaContext())


def approval(aws, network: str = "sandbox") -> dict[str, Any] | None:
    key = {"PK": {"S": f"EMP#{employee_id(ADA)}"}, "SK": {"S": f"APPROVAL#{content_id('lyon')}#{network}"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key).get("Item")


def item_message(fake: FakeSlack) -> dict[str, Any]:
    (item,) = [message for message in fake.messages() if message["text"].startswith("Lyon")]
    return item


def test_digest_dm_then_post_as_shown_approves_exactly_that_and_publishes_it(aws, ada_on_slack):
    fake = ada_on_slack
    # Given this week's digest, which Ada chose to get in Slack only
    send_digest(aws)
    assert emails() == []
    item = item_message(fake)
    assert item["channel"] == f"D{ADA_SLACK}"
    shown = [block["text"]["text"] for block in item["blocks"] if block["type"] == "section"]
    assert "We opened in Lyon &amp; we're &lt;hiring&gt;" in shown
    assert button(item, "edit_first")["url"].startswith("https://chorus.example.com/a/")
    # When she presses "Post as shown" (Slack signs the request it sends us)
    body = click_body(button(item, "post_as_shown")["value"])
    response = post_interaction(body, signed(body))
    # Then Slack gets its answer at once, and the click waits in the queue
    assert (response["statusCode"], response["body"]) == (200, "")
    assert approval(aws) is None
    messages = queued_clicks(aws)
    assert len(messages) == 1
    # When the Slack actions function takes it (twice: SQS delivers at least once)
    assert handle_clicks(aws, fake, messages) == {"batchItemFailures": []}
    assert handle_clicks(aws, fake, messages) == {"batchItemFailures": []}
    # Then exactly the text shown is approved for the sandbox, once, noted as given in Slack
    record = approval(aws)
    assert record is not None
    assert record["text"]["S"] == "We opened in Lyon & we're <hiring>"
    assert (record["channel"]["S"], record["revision"]["N"], record["when"]["S"]) == ("slack", "1", "now")
    assert record["text_sha256"]["S"] == hashlib.sha256(record["text"]["S"].encode()).hexdigest()
    for network in ("linkedin", "x", "mastodon"):
        assert approval(aws, network) is None  # not connected: not shown, not approved
    # And the message was replaced with what happened, and then with "already decided"
    first, second = fake.replacements()
    assert first["replace_original"] is True and "Approved: posted as shown on Sandbox" in first["text"]
    assert "Already decided" in second["text"]
    # And the publisher posts exactly that on the sandbox network
    target = {
        "approval": {
            "employee_id": employee_id(ADA),
            "content_id": content_id("lyon"),
            "network": "sandbox",
            "revision": 1,
        }
    }
    assert publisher_handler.lambda_handler(target, FakeLambdaContext()) == {"outcome": "published"}
    feed = aws["dynamodb"].query(
        TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "SANDBOX#feed"}}
    )["Items"]
    assert [post["text"]["S"] for post in feed] == ["We opened in Lyon & we're <hiring>"]


def test_the_disclosure_is_shown_in_slack_and_approved_with_the_text(aws, ada_on_slack, monkeypatch):
    # Given a company that requires its disclosure on every post
    monkeypatch.setenv("DISCLOSURE", '{"en": "#employee", "fr": "#collaborateur"}')
    monkeypatch.setenv("REQUIRE_DISCLOSURE", "true")
    # When Ada gets the digest in Slack
    send_digest(aws)
    item = item_message(ada_on_slack)
    shown = [block["text"]["text"] for block in item["blocks"] if block["type"] == "section"]
    # Then the text shown carries the disclosure, as the approval page proposes it
    assert "We opened in Lyon &amp; we're &lt;hiring&gt;\n\n#employee" in shown
    # And "Post as shown" approves exactly that text, disclosure included (a required disclosure
    # is kept: the click is not refused by the page's rule)
    body = click_body(button(item, "post_as_shown")["value"])
    assert post_interaction(body, signed(body))["statusCode"] == 200
    assert handle_clicks(aws, ada_on_slack, queued_clicks(aws)) == {"batchItemFailures": []}
    record = approval(aws)
    assert record is not None
    assert record["text"]["S"] == "We opened in Lyon & we're <hiring>\n\n#employee"


@pytest.mark.parametrize("case", ["wrong secret", "stale", "replayed", "body altered", "unsigned"])
def test_a_request_slack_did_not_send_now_is_refused_and_queues_nothing(aws, ada_on_slack, case):
    send_digest(aws)
    body = click_body(button(item_message(ada_on_slack), "post_as_shown")["value"])
    headers = signed(body)
    if case == "wrong secret":
        headers = signed(body, secret="someone-elses-secret")
    elif case == "stale":
        headers = signed(body, at=time.time() - 301)
    elif case == "replayed":
        assert post_interaction(body, headers)["statusCode"] == 200
        queued_clicks(aws)  # the genuine one
    elif case == "body altered":
        body = body.replace(b"trigger-1", b"trigger-2")
    else:
        headers = {}
    response = post_interaction(body, headers)
    assert response["statusCode"] == 401
    assert queued_clicks(aws) == []
    assert approval(aws) is None


def test_a_click_by_another_slack_user_records_nothing(aws, ada_on_slack):
    send_digest(aws)
    body = click_body(button(item_message(ada_on_slack), "post_as_shown")["value"], user="U0MALLORY")
    assert post_interaction(body, signed(body))["statusCode"] == 200
    handle_clicks(aws, ada_on_slack, queued_clicks(aws))
    assert approval(aws) is None
    assert ada_on_slack.replacements() == []


def test_a_click_after_the_content_changed_records_nothing_and_says_so(aws, ada_on_slack):
    send_digest(aws)
    token = button(item_message(ada_on_slack), "post_as_shown")["value"]
    # The admin re-uploads the item with another text after the DM went out
    seed(aws, [{**CONTENT, "text": "We opened in Lyon (updated)"}], [])
    body = click_body(token)
    assert post_interaction(body, signed(body))["statusCode"] == 200
    handle_clicks(aws, ada_on_slack, queued_clicks(aws))
    assert approval(aws) is None
    (replacement,) = ada_on_slack.replacements()
    assert "changed since this message" in replacement["text"]
    (actions,) = [block for block in replacement["blocks"] if block["type"] == "actions"]
    assert actions["elements"][0]["url"].startswith("https://chorus.example.com/a/")


def test_the_first_digest_matches_by_email_and_goes_by_email_until_slack_is_chosen(aws, slack):
    seed(aws, [CONTENT], [{"email": ADA, "name": "Ada"}, {"email": "bob@example.com", "name": "Bob"}])
    send_digest(aws)
    assert len(emails()) == 2 and slack.messages() == []
    looked_up = sorted(request.form()["email"] for request in slack.calls("users.lookupByEmail"))
    assert looked_up == [ADA, "bob@example.com"]
    store = SlackStore(aws["dynamodb"], TABLE)
    assert store.slack_identity(employee_id(ADA)).slack_user_id == ADA_SLACK
    assert store.slack_identity(employee_id("bob@example.com")) is None


# ---------------------------------------------------------------- /me: where the digest goes

RING = parse_key_ring(MAGIC_LINK_SECRET)


def me_link(email: str = ADA) -> str:
    return sign_link(RING, employee_id(email), ME_SCOPE, datetime.now(UTC) + timedelta(days=1))


def me_page(token: str) -> dict[str, Any]:
    event = http_event("GET", "/me", claims=None, query={"t": token})
    return web_handler.lambda_handler(event, FakeLambdaContext())


def choose(token: str, email: str, channel: str) -> dict[str, Any]:
    subject = form_subject(employee_id(email), ME_SCOPE, "channel")
    fields = {"form": sign_form(RING, subject, datetime.now(UTC) - timedelta(minutes=1)), "action": "channel"}
    body = urlencode({**fields, "channel": channel})
    event = http_event(
        "POST",
        "/me",
        claims=None,
        query={"t": token},
        body=body,
        headers={"content-type": "application/x-www-form-urlencoded", "host": "api.example.com"},
    )
    return web_handler.lambda_handler(event, FakeLambdaContext())


def profile(aws, email: str) -> dict[str, Any]:
    key = {"PK": {"S": f"EMP#{employee_id(email)}"}, "SK": {"S": "PROFILE"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"]


def test_a_matched_employee_chooses_both_and_gets_the_digest_by_email_and_in_slack(aws, slack):
    seed(aws, [CONTENT], [{"email": ADA, "name": "Ada"}])
    SlackStore(aws["dynamodb"], TABLE).record_slack_lookup(employee_id(ADA), ADA_SLACK, datetime.now(UTC))
    token = me_link()
    page = me_page(token)["body"]
    assert 'id="digest-channel"' in page and 'value="email" checked' in page
    assert choose(token, ADA, "both")["statusCode"] == 303
    assert profile(aws, ADA)["digest_channel"]["S"] == "both"
    assert 'value="both" checked' in me_page(token)["body"]
    send_digest(aws)
    assert len(emails()) == 1 and item_message(slack)["channel"] == f"D{ADA_SLACK}"


def test_with_both_a_failed_email_is_retried_alone_and_the_slack_messages_are_not_sent_again(
    aws, ada_on_slack, monkeypatch
):
    # Given Ada chose both channels, and SES refuses her email once
    from chorus.adapters.ses_email import EmailError, SesEmailSender

    SlackStore(aws["dynamodb"], TABLE).choose_digest_channel(employee_id(ADA), DigestChannel.BOTH)
    original, refusals = SesEmailSender.send_raw, {"left": 1}

    def refused_once(self, sender, recipient, message):
        if refusals["left"]:
            refusals["left"] -= 1
            raise EmailError("throttled")
        return original(self, sender, recipient, message)

    monkeypatch.setattr(SesEmailSender, "send_raw", refused_once)
    plan_digest(aws["sqs"])
    [message] = aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10)["Messages"]
    event = {"Records": [sqs_record(message)]}
    # When the batch fails (the email), SQS redelivers it and the sender runs again
    with pytest.raises(BatchProcessingError):
        digest_sender_handler.lambda_handler(event, FakeLambdaContext())
    slack_messages = len(ada_on_slack.messages())
    assert slack_messages == 2 and emails() == []
    digest_sender_handler.lambda_handler(event, FakeLambdaContext())
    # Then the retry sends the email only: Slack already has the week's messages
    assert len(emails()) == 1 and len(ada_on_slack.messages()) == slack_messages
    # And a third delivery of the same message sends nothing at all
    digest_sender_handler.lambda_handler(event, FakeLambdaContext())
    assert len(emails()) == 1 and len(ada_on_slack.messages()) == slack_messages


def test_slack_is_not_offered_to_someone_slack_does_not_know_and_cannot_be_forced(aws, slack):
    seed(aws, [CONTENT], [{"email": "bob@example.com", "name": "Bob"}])
    token = me_link("bob@example.com")
    assert 'id="digest-channel"' not in me_page(token)["body"]
    response = choose(token, "bob@example.com", "slack")
    assert response["statusCode"] == 422 and "Slack" in response["body"]
    assert "digest_channel" not in profile(aws, "bob@example.com")


@pytest.mark.parametrize("channel", ["sms", "", "Slack", "email,slack"])
def test_an_unknown_channel_is_refused(aws, ada_on_slack, channel):
    response = choose(me_link(), ADA, channel)
    assert response["statusCode"] == 422
    assert profile(aws, ADA)["digest_channel"]["S"] == "slack"


def test_without_slack_configured_there_is_no_choice_and_no_interactivity_route(aws):
    seed(aws, [CONTENT], [{"email": ADA, "name": "Ada"}])
    SlackStore(aws["dynamodb"], TABLE).record_slack_lookup(employee_id(ADA), ADA_SLACK, datetime.now(UTC))
    token = me_link()
    assert 'id="digest-channel"' not in me_page(token)["body"]
    assert choose(token, ADA, "slack")["statusCode"] == 400
    assert "digest_channel" not in profile(aws, ADA)
    body = click_body("k1.x.y")
    assert post_interaction(body, signed(body))["statusCode"] == 404


# ---------------------------------------------------------------- Slack's rate limits


def test_a_429_is_waited_out_for_as_long_as_retry_after_says(slack):
    waits: list[float] = []
    client = WebClient(base_url=slack.api_url(), retry_handlers=[RetryAfter(sleep=waits.append)])
    api = SlackWebApi(client, lambda: BOT_TOKEN)
    slack.rate_limited, slack.retry_after = 2, "7"
    assert api.user_id_by_email(ADA) == ADA_SLACK
    assert waits == [7.0, 7.0] and len(slack.calls("users.lookupByEmail")) == 3
    assert api.user_id_by_email("nobody@example.com") is None


def test_a_wait_longer_than_an_invocation_should_sleep_fails_for_a_later_retry(slack):
    waits: list[float] = []
    client = WebClient(base_url=slack.api_url(), retry_handlers=[RetryAfter(sleep=waits.append)])
    api = SlackWebApi(client, lambda: BOT_TOKEN)
    slack.rate_limited, slack.retry_after = 1, "120"
    with pytest.raises(SlackUnavailable, match="ratelimited"):
        api.open_direct_message(ADA_SLACK)
    assert waits == []


# ---------------------------------------------------------------- least privilege


def table_and_queue_calls(calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return [(operation, params) for operation, params in calls if operation.split(".")[0] in {"dynamodb", "sqs"}]


def test_each_function_may_make_every_table_and_queue_call_it_makes_for_slack(aws, ada_on_slack):
    seed(aws, [], [{"email": "bob@example.com", "name": "Bob"}])  # not matched yet: looked up
    plan_digest(aws["sqs"])
    messages = aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages", [])
    with count_aws_calls(keep_requests=True) as sender:
        digest_sender_handler.lambda_handler({"Records": [sqs_record(m) for m in messages]}, FakeLambdaContext())
    body = click_body(button(item_message(ada_on_slack), "post_as_shown")["value"])
    with count_aws_calls(keep_requests=True) as web:
        assert post_interaction(body, signed(body))["statusCode"] == 200
        assert choose(me_link(), ADA, "both")["statusCode"] == 303
    clicks = queued_clicks(aws)
    # The click handler here uses the test's table client; its other clients are the default session's.
    with count_aws_calls(aws["dynamodb"], default_session(), keep_requests=True) as actions:
        handle_clicks(aws, ada_on_slack, clicks)
    assert approval(aws) is not None
    assert len(ada_on_slack.calls("users.lookupByEmail")) == 1
    assert {"dynamodb.BatchGetItem", "dynamodb.UpdateItem"} <= {op for op, _ in sender.requests}
    assert {"dynamodb.BatchGetItem", "dynamodb.TransactWriteItems"} <= {op for op, _ in actions.requests}
    assert {"dynamodb.PutItem", "sqs.SendMessageBatch", "dynamodb.UpdateItem"} <= {op for op, _ in web.requests}
    assert denied("DigestSenderFunction", table_and_queue_calls(sender.requests)) == []
    assert denied("WebFunction", table_and_queue_calls(web.requests)) == []
    assert denied("SlackActionsFunction", table_and_queue_calls(actions.requests)) == []


def test_what_the_page_would_refuse_is_refused_in_slack_too_and_said(aws, ada_on_slack, monkeypatch):
    # Given the company allows one post per network per day, and two items this week
    monkeypatch.setenv("MAX_POSTS_PER_DAY", "1")
    seed(aws, [{**CONTENT, "id": "paris", "title": "Paris", "url": "https://example.com/paris"}], [])
    send_digest(aws)
    items = [message for message in ada_on_slack.messages() if message["blocks"][-1]["type"] == "actions"]
    tokens = [button(message, "post_as_shown")["value"] for message in items]
    assert len(tokens) == 2
    # When Ada posts both as shown
    for number, token in enumerate(tokens):
        body = click_body(token, trigger=f"trigger-{number}")
        assert post_interaction(body, signed(body))["statusCode"] == 200
    assert handle_clicks(aws, ada_on_slack, queued_clicks(aws)) == {"batchItemFailures": []}
    # Then one is approved, and the other says why nothing was posted (no retry, no alarm)
    texts = sorted(replacement["text"] for replacement in ada_on_slack.replacements())
    assert texts[0].startswith("Approved: posted as shown on Sandbox")
    assert texts[1].startswith("Nothing was posted: ") and "Open the page" in texts[1]


def test_the_sample_click_event_is_refused_by_the_handler_without_slack_configured(aws):
    import slack_actions_handler
    from tests.support.http_events import ROOT

    event = json.loads((ROOT / "events/slack_actions/click.json").read_text())
    assert slack_actions_handler.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    assert aws["dynamodb"].scan(TableName=TABLE)["Count"] == 0
