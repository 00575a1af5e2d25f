"""The console's Digest page through the console handler on moto: a preview as a chosen employee
(their language, inert links, its own CSP), a test copy to the signed-in admin that uses up
nobody's digest, "send now" that still sends each employee one digest a week, the history, and
every refusal (no session, no CSRF token, not confirmed, nobody by that name) changing nothing."""

from __future__ import annotations

import re
from email import message_from_string
from email.policy import default
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from moto.ses.models import ses_backends

from chorus import bootstrap, clock
from chorus.domain.timing import week_of
from tests.conftest import ACCOUNT, DIGEST_PLAN_QUEUE_URL, TABLE
from tests.integration.handlers.test_console import Browser, csrf_of, issuer, location, sign_in
from tests.integration.handlers.test_digest import CONTENT, EMPLOYEES
from tests.support.digest import plan_pages, send_queued
from tests.support.iam import denied
from tests.support.seed import employee_id, seed

__all__ = ["issuer"]  # the fixture, used by name

ADMIN = {
    "sub": "admin-1",
    "email": "lead@example.com",
    "email_verified": True,
    "name": "Lea Lead",
    "cognito:groups": ["chorus-admins"],
}
CAMILLE = employee_id("camille@example.com")
ADA = employee_id("ada@example.com")


def sent() -> list[str]:
    """The raw messages SES accepted, as sent."""
    return [message.raw_data for message in ses_backends[ACCOUNT]["eu-west-1"].sent_messages]


def recipients() -> list[str]:
    found = []
    for raw in sent():
        header = re.search(r"^To: (.*)$", raw, re.MULTILINE)
        assert header
        found.append(header.group(1).split("<")[-1].rstrip(">\r"))
    return sorted(found)


def plan_messages(aws) -> int:
    attributes = aws["sqs"].get_queue_attributes(
        QueueUrl=DIGEST_PLAN_QUEUE_URL, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def table_items(aws, prefix: str) -> list[dict[str, Any]]:
    return [item for item in aws["dynamodb"].scan(TableName=TABLE)["Items"] if item["SK"]["S"].startswith(prefix)]


def digest_runs(aws) -> list[dict[str, Any]]:
    return [item for item in aws["dynamodb"].scan(TableName=TABLE)["Items"] if item["PK"]["S"].startswith("DIGESTRUN#")]


def signed_in(issuer, claims: dict[str, Any] = ADMIN) -> tuple[Browser, str]:
    browser = Browser()
    sign_in(browser, issuer, claims)
    page = browser.call("GET", "/console/digest")
    assert page["statusCode"] == 200
    return browser, csrf_of(page["body"])


def post(browser: Browser, path: str, **fields: str) -> dict[str, Any]:
    return browser.call("POST", path, body=urlencode(fields))


def preview_of(browser: Browser, csrf: str, who: str) -> tuple[str, dict[str, Any]]:
    found = post(browser, "/console/digest/find", csrf=csrf, employee=who)
    assert found["statusCode"] == 303
    target = urlsplit(location(found))
    page = browser.call("GET", target.path, query={k: v[0] for k, v in parse_qs(target.query).items()})
    return location(found), page


def test_a_preview_is_the_employees_digest_in_their_language_with_inert_links(aws, issuer):
    # Given content and employees, and a signed-in admin
    seed(aws, CONTENT, EMPLOYEES)
    browser, csrf = signed_in(issuer)
    # When the admin previews Camille's digest by her address
    where, page = preview_of(browser, csrf, "Camille@Example.com ")
    # Then the page reloads by her pseudonymous id: her address never reaches a URL
    assert where == f"/console/digest?employee={CAMILLE}" and "@" not in where
    body = page["body"]
    # And shows the French subject and text part the sender would send, with what is meant for her
    assert page["statusCode"] == 200
    assert "1 contenu à partager cette semaine" in body
    assert "For everyone &lt;b&gt;now&lt;/b&gt;" in body and "Engineering only" not in body
    # And no link in it opens anything: placeholders, no token minted
    assert "https://preview.invalid/a/preview-only" in body
    assert "chorus.example.com/a/" not in body and "chorus.example.com/me" not in body
    # And the HTML part is framed sandboxed from a route whose own CSP forbids scripts and forms
    assert re.search(
        r'<iframe class="preview" src="/console/digest/preview.html\?employee=' + CAMILLE + r'" sandbox ', body
    )
    assert "frame-src 'self'" in page["headers"]["Content-Security-Policy"]
    html = browser.call("GET", "/console/digest/preview.html", query={"employee": CAMILLE})
    assert html["statusCode"] == 200
    csp = html["headers"]["Content-Security-Policy"]
    assert "sandbox" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp
    assert "form-action 'none'" in csp and html["headers"]["X-Frame-Options"] == "SAMEORIGIN"
    assert '<html lang="fr"' in html["body"] and "https://preview.invalid/a/preview-only" in html["body"]
    assert "chorus.example.com" not in html["body"]
    # And previewing sent nothing and wrote nothing
    assert sent() == [] and table_items(aws, "DIGEST#") == []


def test_a_test_copy_goes_to_the_admin_marked_and_uses_up_nobodys_digest(aws, issuer):
    # Given Camille's digest previewed
    seed(aws, CONTENT, EMPLOYEES)
    browser, csrf = signed_in(issuer)
    preview_of(browser, csrf, "camille@example.com")
    # When the admin sends a test to themself
    response = post(browser, "/console/digest/test", csrf=csrf, employee=CAMILLE)
    # Then one message leaves, to the admin's address from the ID token, its subject marked
    assert response["statusCode"] == 303
    assert location(response) == f"/console/digest?employee={CAMILLE}&done=digest-test-sent"
    assert recipients() == ["lead@example.com"]
    raw = sent()[0]
    message = message_from_string(raw, policy=default)
    assert str(message["Subject"]) == "[TEST] 1 contenu à partager cette semaine"
    assert "preview.invalid" in raw and "chorus.example.com/a/" not in raw
    # And it claimed no weekly marker and counted nothing in the week's run
    assert table_items(aws, "DIGEST#") == [] and digest_runs(aws) == []
    # And the page says so
    page = browser.call("GET", "/console/digest", query={"employee": CAMILLE, "done": "digest-test-sent"})
    assert "used up nobody" in page["body"]
    # And this week's real digest still reaches Camille (and Ada), once each
    started = post(browser, "/console/digest/send", csrf=csrf, confirm="yes")
    assert started["statusCode"] == 303
    plan_pages(aws["sqs"])
    send_queued(aws["sqs"])
    assert recipients() == ["ada@example.com", "camille@example.com", "lead@example.com"]


def test_send_now_twice_still_sends_each_employee_one_digest_and_the_history_counts_it(aws, issuer):
    # Given a signed-in admin
    seed(aws, CONTENT, EMPLOYEES)
    browser, csrf = signed_in(issuer)
    # When they send the digest now, twice, and the background runs
    for _ in range(2):
        response = post(browser, "/console/digest/send", csrf=csrf, confirm="yes")
        assert response["statusCode"] == 303 and location(response) == "/console/digest?done=digest-started"
    plan_pages(aws["sqs"])
    send_queued(aws["sqs"])
    # Then each active employee got one digest
    assert recipients() == ["ada@example.com", "camille@example.com"]
    # And the history shows this week's two requests, two sent, two skipped
    page = browser.call("GET", "/console/digest", query={"done": "digest-started"})
    assert "digest is being planned and sent in the background" in page["body"]
    week_id = week_of(clock.now(), "Europe/Paris").week_id
    row = re.search(rf'<th scope="row">{week_id}</th>(.*?)</tr>', page["body"])
    assert row, "this week is in the history"
    cells = re.findall(r"<td>(\d+)</td>", row.group(1))
    # requests, queued, sent, skipped, failed, bounced, complained, unsubscribed
    assert cells[:5] == ["2", "4", "2", "2", "0"]
    assert page["body"].count('<th scope="row">') == 12


def test_send_now_must_be_confirmed_and_carry_the_csrf_token(aws, issuer):
    seed(aws, CONTENT, EMPLOYEES)
    browser, csrf = signed_in(issuer)
    # Without confirmation: refused, nothing queued
    unconfirmed = post(browser, "/console/digest/send", csrf=csrf)
    assert unconfirmed["statusCode"] == 422 and "tick the box" in unconfirmed["body"]
    # Without the CSRF token, or with another: refused, nothing queued, nothing sent
    for fields in ({"confirm": "yes"}, {"confirm": "yes", "csrf": "forged"}):
        refused = post(browser, "/console/digest/send", **fields)
        assert refused["statusCode"] == 403 and "nothing changed" in refused["body"]
    for fields in ({"employee": CAMILLE}, {"employee": CAMILLE, "csrf": "forged"}):
        assert post(browser, "/console/digest/test", **fields)["statusCode"] == 403
        assert post(browser, "/console/digest/find", **fields)["statusCode"] == 403
    assert plan_messages(aws) == 0 and sent() == []
    assert digest_runs(aws) == []


def test_without_a_session_nothing_is_shown_or_sent(aws, issuer):
    seed(aws, CONTENT, EMPLOYEES)
    anonymous = Browser()
    for path in ("/console/digest", "/console/digest/preview.html"):
        response = anonymous.call("GET", path, query={"employee": CAMILLE})
        assert response["statusCode"] == 303 and location(response).startswith("/console/signin")
    for path, fields in (
        ("/console/digest/send", {"confirm": "yes"}),
        ("/console/digest/test", {"employee": CAMILLE}),
        ("/console/digest/find", {"employee": "camille@example.com"}),
    ):
        response = post(anonymous, path, csrf="x", **fields)
        assert response["statusCode"] == 401
    assert plan_messages(aws) == 0 and sent() == []


def test_nobody_by_that_name_or_a_bad_id_is_a_clear_error(aws, issuer):
    seed(aws, CONTENT, EMPLOYEES)
    browser, csrf = signed_in(issuer)
    unknown = post(browser, "/console/digest/find", csrf=csrf, employee="nobody@example.com")
    assert unknown["statusCode"] == 404 and "no employee has that email address or id" in unknown["body"]
    assert post(browser, "/console/digest/find", csrf=csrf, employee="   ")["statusCode"] == 422
    bad = browser.call("GET", "/console/digest", query={"employee": "<script>"})
    assert bad["statusCode"] == 422 and "<script>" not in bad["body"]
    assert browser.call("GET", "/console/digest", query={"employee": "e-00000000000000000000"})["statusCode"] == 404
    assert post(browser, "/console/digest/test", csrf=csrf, employee="e-00000000000000000000")["statusCode"] == 404
    assert sent() == []


def test_an_employee_with_nothing_to_share_gets_no_test_copy(aws, issuer):
    # Given someone whose groups match no content this week
    seed(aws, [CONTENT[1]], [{"email": "sam@example.com", "name": "Sam", "groups": ["sales"]}])
    browser, csrf = signed_in(issuer)
    _, page = preview_of(browser, csrf, "sam@example.com")
    assert "Nothing to share with this employee this week" in page["body"]
    assert "Send a test to myself" not in page["body"]
    refused = post(browser, "/console/digest/test", csrf=csrf, employee=employee_id("sam@example.com"))
    assert refused["statusCode"] == 422 and sent() == []


def test_an_admin_whose_sign_in_has_no_verified_email_cannot_send_a_test(aws, issuer):
    seed(aws, CONTENT, EMPLOYEES)
    browser, csrf = signed_in(issuer, {**ADMIN, "email_verified": False})
    _, page = preview_of(browser, csrf, "camille@example.com")
    assert "carries no verified email address" in page["body"]
    refused = post(browser, "/console/digest/test", csrf=csrf, employee=CAMILLE)
    assert refused["statusCode"] == 422 and sent() == []


def test_every_call_of_the_digest_page_is_allowed_by_the_console_policy(aws, issuer):
    from bench.aws_calls import count_aws_calls

    seed(aws, CONTENT, EMPLOYEES)
    browser, csrf = signed_in(issuer)
    with count_aws_calls(keep_requests=True) as calls:
        # The handler's clients are made again inside the block, so the counter sees them.
        bootstrap.console_app.cache_clear()
        preview_of(browser, csrf, "camille@example.com")
        browser.call("GET", "/console/digest/preview.html", query={"employee": CAMILLE})
        browser.call("GET", "/console/digest", query={"employee": ADA})
        post(browser, "/console/digest/send", csrf=csrf, confirm="yes")
        post(browser, "/console/digest/test", csrf=csrf, employee=CAMILLE)
    operations = {operation for operation, _ in calls.requests}
    assert {"dynamodb.Query", "dynamodb.BatchGetItem", "sqs.SendMessageBatch", "sesv2.SendEmail"} <= operations
    # SES is allowed on a condition (the From address), which the checker does not evaluate
    assert denied("ConsoleFunction", [call for call in calls.requests if not call[0].startswith("sesv2.")]) == []
