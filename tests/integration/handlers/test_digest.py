"""The weekly digest end to end on moto: planner -> SQS -> sender -> SES, once per employee per week."""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto.ses.models import ses_backends

import admin_api_handler
import digest_sender_handler
from chorus.domain.timing import week_of
from tests.conftest import ACCOUNT, DIGEST_QUEUE_URL, ENVIRONMENT
from tests.support.digest import plan_digest, plan_pages, sqs_record
from tests.support.http_events import http_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, employee_id, seed

TODAY = datetime.now(UTC).date()
CONTENT = [
    {"id": "all", "title": "For everyone <b>now</b>", "url": "https://example.com/all", "text": "Everyone & all"},
    {
        "id": "eng",
        "title": "Engineering only",
        "url": "https://example.com/eng",
        "text": "For engineers",
        "groups": ["engineering"],
    },
    {
        "id": "old",
        "title": "Last month",
        "url": "https://example.com/old",
        "text": "Old",
        "starts_at": str(TODAY - timedelta(days=60)),
        "ends_at": str(TODAY - timedelta(days=30)),
    },
]
EMPLOYEES = [
    {"email": "ada@example.com", "name": "Ada", "groups": ["engineering"], "locale": "en", "timezone": "Europe/London"},
    {
        "email": "camille@example.com",
        "name": "Camille",
        "groups": ["sales"],
        "locale": "fr",
        "timezone": "Europe/Paris",
    },
    {"email": "left@example.com", "name": "Left", "active": "inactive"},
]


def sent_messages() -> list[Message]:
    backend = ses_backends[ACCOUNT]["eu-west-1"]
    return [
        email.message_from_string(message.raw_data, policy=email.policy.default) for message in backend.sent_messages
    ]


def week_run(aws) -> dict:
    status, week = admin("GET")
    assert status == 200
    return week


def run_digest(aws) -> dict:
    plan_digest(aws["sqs"])
    planned = week_run(aws)
    messages = aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages", [])
    event = {"Records": [sqs_record(message) for message in messages]}
    result = digest_sender_handler.lambda_handler(event, FakeLambdaContext()) if messages else None
    return {"planned": planned, "event": event, "result": result}


def bodies(message: Message) -> tuple[str, str]:
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    return parts["text/plain"], parts["text/html"]


def test_each_active_employee_gets_their_activities_once(aws):
    # Given content for everyone, for engineering, and out of date; three employees, one gone
    seed(aws, CONTENT, EMPLOYEES)
    # When the weekly digest runs
    outcome = run_digest(aws)
    # Then Ada and Camille get one email each, with only what is meant for them
    assert outcome["planned"]["queued"] == 2 and outcome["planned"]["planning"]["employees"] == 2
    assert outcome["result"] == {"batchItemFailures": []}
    by_recipient = {message["To"].split("<")[-1].rstrip(">"): message for message in sent_messages()}
    assert set(by_recipient) == {"ada@example.com", "camille@example.com"}
    ada_text, ada_html = bodies(by_recipient["ada@example.com"])
    assert "Engineering only" in ada_text and "For everyone <b>now</b>" in ada_text
    assert "For everyone &lt;b&gt;now&lt;/b&gt;" in ada_html and "<b>now</b>" not in ada_html
    assert "Everyone &amp; all" in ada_html
    camille_text, _ = bodies(by_recipient["camille@example.com"])
    assert "Engineering only" not in camille_text and "Last month" not in camille_text
    # French takes the singular for 0 and 1
    assert by_recipient["camille@example.com"]["Subject"] == "1 contenu à partager cette semaine"
    # And each has a magic link per activity, a /me link, and RFC 8058 unsubscribe headers
    assert ada_text.count("https://chorus.example.com/a/") == 2
    assert "https://chorus.example.com/me?t=" in ada_text
    unsubscribe = by_recipient["ada@example.com"]["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://chorus.example.com/unsubscribe?t=")
    assert by_recipient["ada@example.com"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_digest_quotes_each_text_with_the_disclosure_in_the_employees_language(aws, monkeypatch):
    # Given a company that discloses its employees' posts, in English and French
    monkeypatch.setenv("DISCLOSURE", '{"en": "#employee", "fr": "#collaborateur"}')
    seed(aws, CONTENT, EMPLOYEES)
    # When the weekly digest runs
    run_digest(aws)
    # Then each email quotes the text as the approval page offers it, disclosure included
    by_recipient = {message["To"].split("<")[-1].rstrip(">"): message for message in sent_messages()}
    ada_text, ada_html = bodies(by_recipient["ada@example.com"])
    assert "  Everyone & all\n\n  #employee\n" in ada_text.replace("\r\n", "\n")
    assert "Everyone &amp; all\n\n#employee</div>" in ada_html.replace("\r\n", "\n")
    camille_text, _ = bodies(by_recipient["camille@example.com"])
    assert "#collaborateur" in camille_text and "#employee" not in camille_text


def raw_sent() -> list[bytes]:
    """The messages as SES received them (moto keeps the raw data as text)."""
    backend = ses_backends[ACCOUNT]["eu-west-1"]
    return [message.raw_data.encode("utf-8") for message in backend.sent_messages]


def test_what_reaches_ses_has_crlf_lines_and_a_readable_unsubscribe_header(aws):
    seed(aws, CONTENT[:1], EMPLOYEES[:1])
    run_digest(aws)
    (raw,) = raw_sent()
    assert re.search(rb"(?<!\r)\n", raw) is None
    header = rb"\r\nList-Unsubscribe: <(https://chorus\.example\.com/unsubscribe\?t=[^>\r\n]+)>\r\n"
    unsubscribe = re.search(header, raw)
    assert unsubscribe is not None and len(unsubscribe.group(1)) > 78
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw


def test_a_stored_name_with_line_breaks_still_gets_a_clean_digest(aws):
    # Given a roster name in the table with CR/LF (an old import, a bug elsewhere)
    seed(aws, CONTENT[:1], EMPLOYEES[:1])
    aws["dynamodb"].update_item(
        TableName="chorus-test-table",
        Key={"PK": {"S": f"EMP#{employee_id('ada@example.com')}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET #name = :name",
        ExpressionAttributeNames={"#name": "name"},
        ExpressionAttributeValues={":name": {"S": "Ada\r\nBcc: attacker@example.net"}},
    )
    # When the digest runs
    outcome = run_digest(aws)
    # Then it is sent, to Ada alone, with no injected header
    assert outcome["result"] == {"batchItemFailures": []}
    (raw,) = raw_sent()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers
    (message,) = sent_messages()
    assert [address.addr_spec for address in message["To"].addresses] == ["ada@example.com"]


def test_a_redelivered_batch_sends_nothing_twice(aws):
    seed(aws, CONTENT, EMPLOYEES)
    outcome = run_digest(aws)
    # When SQS delivers the same batch again (and the planner runs again)
    digest_sender_handler.lambda_handler(outcome["event"], FakeLambdaContext())
    run_digest(aws)
    # Then nobody got a second email this week
    assert len(sent_messages()) == 2


@pytest.mark.parametrize("left", ["deactivated", "erased"])
def test_a_batch_planned_before_someone_left_sends_them_nothing(aws, left):
    # Given this week's batches planned for Ada and Camille
    seed(aws, CONTENT, EMPLOYEES)
    plan_digest(aws["sqs"])
    # When Ada leaves before the sender takes the batch (the batch still carries her address)
    change = "SET active = :no" if left == "deactivated" else "SET active = :no, erased_at = :now"
    values = {":no": {"BOOL": False}} | ({":now": {"S": "2026-11-30T09:05:00+00:00"}} if left == "erased" else {})
    aws["dynamodb"].update_item(
        TableName="chorus-test-table",
        Key={"PK": {"S": f"EMP#{employee_id('ada@example.com')}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression=change,
        ExpressionAttributeValues=values,
    )
    send_queued(aws)
    # Then only Camille gets the digest
    assert [message["To"].addresses[0].addr_spec for message in sent_messages()] == ["camille@example.com"]


def test_opted_out_employees_and_employees_with_nothing_new_get_nothing(aws):
    seed(aws, CONTENT[:1], EMPLOYEES[:2])
    aws["dynamodb"].update_item(
        TableName="chorus-test-table",
        Key={"PK": {"S": f"EMP#{employee_id('ada@example.com')}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET digest_opt_in = :no, decided = :decided",
        ExpressionAttributeValues={":no": {"BOOL": False}, ":decided": {"SS": ["x"]}},
    )
    aws["dynamodb"].update_item(
        TableName="chorus-test-table",
        Key={"PK": {"S": f"EMP#{employee_id('camille@example.com')}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="ADD decided :decided",
        ExpressionAttributeValues={":decided": {"SS": [content_id("all")]}},
    )
    outcome = run_digest(aws)
    assert outcome["planned"]["queued"] == 0
    assert outcome["planned"]["planning"]["not_queued"] == {"unsubscribed": 1, "nothing_to_share": 1}
    assert sent_messages() == []


def test_a_failed_send_is_retried_alone(aws, monkeypatch):
    seed(aws, CONTENT, EMPLOYEES)
    from chorus.adapters.ses_email import EmailError, SesEmailSender

    original = SesEmailSender.send_raw
    calls = {"n": 0}

    def flaky(self, sender, recipient, message):
        calls["n"] += 1
        if recipient == "camille@example.com" and calls["n"] <= 2:
            raise EmailError("throttled")
        return original(self, sender, recipient, message)

    monkeypatch.setattr(SesEmailSender, "send_raw", flaky)
    plan_digest(aws["sqs"])
    [message] = aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10)["Messages"]
    event = {"Records": [sqs_record(message)]}
    # When Camille's send fails, the whole (one-message) batch fails and SQS will redeliver it
    with pytest.raises(BatchProcessingError):
        digest_sender_handler.lambda_handler(event, FakeLambdaContext())
    assert [m["To"] for m in sent_messages()] == ["Ada <ada@example.com>"]
    # Then the redelivery sends Camille's email and not Ada's again
    digest_sender_handler.lambda_handler(event, FakeLambdaContext())
    assert sorted(m["To"] for m in sent_messages()) == ["Ada <ada@example.com>", "Camille <camille@example.com>"]


def test_pacing_never_exceeds_the_rate():
    from chorus.services.digest import Pacer

    clock = {"now": 0.0}
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    pacer = Pacer(5, clock=lambda: clock["now"], sleep=sleep)
    for _ in range(11):
        pacer.wait()
        starts.append(clock["now"])
    # 11 sends at 5 per second take at least 2 seconds, evenly spaced
    assert starts[-1] == pytest.approx(2.0)
    assert all(b - a == pytest.approx(0.2) for a, b in itertools.pairwise(starts))


def queued_batches(aws) -> list[str]:
    bodies: list[str] = []
    while messages := aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages"):
        bodies.extend(message["Body"] for message in messages)
        for message in messages:
            aws["sqs"].delete_message(QueueUrl=DIGEST_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_batches_carry_content_ids_and_stay_far_under_the_queues_size_limit(aws):
    # Given 120 employees with long names and ten content items for all of them
    contents = [
        {"id": f"c{n}", "title": "T" * 200, "url": f"https://example.com/{n}", "text": "x" * 2500} for n in range(10)
    ]
    employees = [{"email": f"p{n}@example.com", "name": f"Person {n} " + "N" * 180} for n in range(120)]
    seed(aws, contents, employees)
    # When the digest is planned
    plan_digest(aws["sqs"])
    # Then 50 recipients go per message, with the ids of their content and not the content
    bodies = queued_batches(aws)
    assert sorted(len(json.loads(body)["recipients"]) for body in bodies) == [20, 50, 50]
    first = json.loads(bodies[0])
    assert "contents" not in first
    assert sorted(first["recipients"][0]["content_ids"]) == sorted(content_id(f"c{n}") for n in range(10))
    assert "x" * 2500 not in bodies[0]
    # And the largest message is a small fraction of the 64 KiB MaximumMessageSize the queue is given
    assert max(len(body.encode()) for body in bodies) < 48 * 1024
    assert template_queue_limit("DigestQueue") == 64 * 1024


def template_queue_limit(queue: str) -> int:
    from tests.support.template import resource

    return int(resource(queue)["Properties"]["MaximumMessageSize"])


def test_the_sender_reads_the_batchs_content_once_and_leaves_out_content_retracted_since(aws):
    from bench.aws_calls import count_aws_calls

    seed(aws, CONTENT, EMPLOYEES)
    plan_digest(aws["sqs"])
    [body] = queued_batches(aws)
    # Given the engineering item is retracted after planning
    aws["dynamodb"].update_item(
        TableName="chorus-test-table",
        Key={"PK": {"S": f"CONTENT#{content_id('eng')}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :r",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":r": {"S": "retracted"}},
    )
    # When the batch is sent
    from chorus.bootstrap import build_digest_sender
    from chorus.config import DigestSenderSettings
    from chorus.domain.digest import DigestBatch

    with count_aws_calls() as calls:
        sender = build_digest_sender(DigestSenderSettings.from_env())
        sender.send_batch(DigestBatch.model_validate_json(body))
    # Then the content was read with one BatchGetItem for the whole batch
    assert calls.by_operation()["dynamodb.BatchGetItem"] == 1
    # And nobody is offered the retracted item
    assert all("Engineering only" not in bodies(message)[0] for message in sent_messages())
    assert len(sent_messages()) == 2


def test_the_digest_shows_last_weeks_impact(aws):
    from datetime import UTC, datetime, timedelta

    from chorus.domain.scoring import week_key

    seed(aws, CONTENT[:1], EMPLOYEES[:1])
    # The week before this digest's week, which is the company's (Paris) week: on a Sunday after
    # 23:00 UTC in winter it is already Monday in Paris, and "now minus 7 days" a week too early.
    this_week = week_of(datetime.now(UTC), ENVIRONMENT["DIGEST_TIMEZONE"])
    last_week = week_key(this_week.start - timedelta(days=1))
    aws["dynamodb"].put_item(
        TableName="chorus-test-table",
        Item={
            "PK": {"S": f"EMP#{employee_id('ada@example.com')}"},
            "SK": {"S": f"IMPACT#{last_week}"},
            "points": {"N": "35"},
            "clicks": {"N": "12"},
        },
    )
    run_digest(aws)
    [message] = sent_messages()
    text, html = bodies(message)
    assert "Last week your posts earned 35 points and brought 12 visits" in text
    assert "35 points" in html


def admin(method: str, query: dict[str, str] | None = None) -> tuple[int, dict]:
    response = admin_api_handler.lambda_handler(http_event(method, "/admin/digests", query=query), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def send_queued(aws) -> None:
    """What the sender's event source mapping does with the queued batches."""
    while messages := aws["sqs"].receive_message(QueueUrl=DIGEST_QUEUE_URL, MaxNumberOfMessages=10).get("Messages"):
        digest_sender_handler.lambda_handler({"Records": [sqs_record(m) for m in messages]}, FakeLambdaContext())
        for message in messages:
            aws["sqs"].delete_message(QueueUrl=DIGEST_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])


def test_a_second_request_says_what_was_sent_and_what_is_skipped(aws):
    # Given Ada and Camille have something to share this week
    seed(aws, CONTENT, EMPLOYEES)
    week_id = week_of(datetime.now(UTC), "Europe/Paris").week_id
    # When an admin sends the digest
    status, first = admin("POST")
    # Then the answer says planning started, and nothing is claimed about what is not known yet
    assert status == 202
    assert first["status"] == "planning" and first["week_id"] == week_id
    assert first["week"]["requests"] == 1 and first["week"]["queued"] == 0 and first["week"]["sent"] == 0
    assert first["note"].startswith("Planning started") and "already went out" not in first["note"]
    # When the roster is planned and the senders send
    plan_pages(aws["sqs"])
    send_queued(aws)
    # Then the week's run says both were planned and sent
    status, week = admin("GET")
    assert status == 200
    assert (week["week_id"], week["queued"], week["sent"], week["skipped"], week["failed"]) == (
        week_id,
        2,
        2,
        {"already_sent": 0},
        0,
    )
    assert week["planning"] == {
        "runs_planned": 1,
        "zone_waves": [],
        "pages": 1,
        "employees": 2,
        "not_queued": {"unsubscribed": 0, "nothing_to_share": 0},
    }
    # When the admin asks again the same week
    status, second = admin("POST")
    # Then the answer says the two already went out and will be skipped, not sent twice
    assert status == 202
    assert second["run_id"] != first["run_id"]
    assert (second["week"]["requests"], second["week"]["queued"], second["week"]["sent"]) == (2, 2, 2)
    assert "2 already went out this week" in second["note"] and "skipped, not sent twice" in second["note"]
    plan_pages(aws["sqs"])
    send_queued(aws)
    status, week = admin("GET", {"week": week_id})
    assert (week["requests"], week["planning"]["runs_planned"], week["queued"]) == (2, 2, 4)
    assert (week["sent"], week["skipped"]["already_sent"]) == (2, 2)
    assert len(sent_messages()) == 2  # nobody got a second email


def test_a_week_nobody_asked_for_is_all_zeros_and_a_bad_week_is_422(aws):
    status, week = admin("GET", {"week": "2025-W01"})
    assert status == 200
    assert (week["requests"], week["sent"], week["first_requested_at"]) == (0, 0, None)
    status, body = admin("GET", {"week": "last week"})
    assert status == 422 and body["problems"][0]["field"] == "week"
