"""The console's Consent ledger page through the handlers on moto: an employee approves on the
approval page, the publisher posts to the sandbox network, and the admin finds the approval by
the employee's address, id or the content id, with the exact text, its SHA-256 as recorded (equal
to the hash of the bytes the sandbox network received), both times, the channel and the outcome;
what erasure leaves is shown and nothing more."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime

from bench.aws_calls import count_aws_calls

from chorus.store.privacy import PersonalDataStore
from tests.conftest import TABLE
from tests.integration.handlers.test_consent_integrity import (  # noqa: F401 (world is a fixture)
    ADA,
    approval,
    approve,
    feed,
    fire,
    page_link,
    shown_version,
    web,
    world,
)
from tests.integration.handlers.test_console import (
    Browser,
    issuer,  # noqa: F401 (a fixture)
    location,
    sign_in,
)
from tests.support.iam import denied
from tests.support.local_cloud import clear_runtime_caches
from tests.support.seed import content_id, employee_id

APPROVED_TEXT = "In my own words: Lyon!"


def published(aws) -> dict:
    """Ada approves the Lyon post for now on the sandbox network, and it is published."""
    link = page_link()
    assert approve(link, shown_version(web("GET", f"/a/{link}", "/a/{token}")))["statusCode"] == 303
    assert fire("sandbox") == "published"
    [post] = feed(aws)
    return post


def search(browser: Browser, by: str, q: str) -> dict:
    return browser.call("GET", "/console/consent", query={"by": by, "q": q})


def ledger_rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_ledger_shows_the_exact_text_and_the_hash_of_the_bytes_the_network_received(world, issuer):  # noqa: F811
    post = published(world)
    admin = Browser()
    sign_in(admin, issuer)

    page = search(admin, "employee", ADA.upper())

    assert page["statusCode"] == 200
    [row] = ledger_rows(page["body"])
    sent = hashlib.sha256(post["text"]["S"].encode("utf-8")).hexdigest()
    recorded = approval(world)["text_sha256"]["S"]
    assert recorded == sent
    assert f"Text SHA-256 {sent}" in row
    assert APPROVED_TEXT in row
    assert approval(world)["snapshot_sha256"]["S"] in row
    approved_at = datetime.fromisoformat(approval(world)["approved_at"]["S"]).astimezone(UTC)
    assert approved_at.strftime("%Y-%m-%d %H:%M:%S UTC") in row
    assert "Europe/Paris" in row and "Approval page" in row
    assert f"Published The post post id {approval(world)['external_post_id']['S']}" in row


def test_the_same_approval_is_found_by_employee_id_and_by_content_id(world, issuer):  # noqa: F811
    published(world)
    admin = Browser()
    sign_in(admin, issuer)

    by_id = ledger_rows(search(admin, "employee", employee_id(ADA))["body"])
    by_content = ledger_rows(search(admin, "content", content_id("lyon"))["body"])

    assert len(by_id) == 1 and by_id == by_content


def test_after_erasure_the_ledger_shows_the_hashes_and_times_and_not_the_words(world, issuer):  # noqa: F811
    published(world)
    recorded = approval(world)["text_sha256"]["S"]
    pk, sk = f"EMP#{employee_id(ADA)}", f"APPROVAL#{content_id('lyon')}#sandbox"
    assert PersonalDataStore(world["dynamodb"], TABLE).pseudonymise_approval(pk, sk, datetime.now(UTC))
    admin = Browser()
    sign_in(admin, issuer)

    [row] = ledger_rows(search(admin, "content", content_id("lyon"))["body"])

    assert APPROVED_TEXT not in row and "Europe/Paris" not in row
    assert "Text removed on" in row and f"Text SHA-256 {recorded}" in row
    assert "time zone removed" in row and "Published" in row


def test_a_bad_search_says_why_and_an_unknown_address_finds_nothing(world, issuer):  # noqa: F811
    admin = Browser()
    sign_in(admin, issuer)

    bad = search(admin, "content", "lyon")
    unknown = search(admin, "employee", "nobody@example.com")

    assert bad["statusCode"] == 400
    assert "a content id looks like c- and 20 hex digits" in bad["body"]
    assert 'value="lyon"' in bad["body"]
    assert unknown["statusCode"] == 200 and "No approval is recorded for this search." in unknown["body"]
    assert search(admin, "everything", "x")["statusCode"] == 400


def test_without_a_session_the_ledger_is_not_shown(world, issuer):  # noqa: F811
    published(world)

    response = search(Browser(), "employee", ADA)

    assert response["statusCode"] == 303 and location(response).startswith("/console/signin")
    assert "In my own words" not in response["body"]


def test_the_console_function_may_make_every_call_the_ledger_page_makes(world, issuer):  # noqa: F811
    published(world)
    clear_runtime_caches()
    with count_aws_calls(keep_requests=True) as calls:
        admin = Browser()
        sign_in(admin, issuer)
        assert len(ledger_rows(search(admin, "employee", ADA)["body"])) == 1
        assert len(ledger_rows(search(admin, "employee", employee_id(ADA))["body"])) == 1
        assert len(ledger_rows(search(admin, "content", content_id("lyon"))["body"])) == 1
    operations = {operation for operation, _ in calls.requests}
    assert {"dynamodb.Query", "dynamodb.BatchGetItem", "dynamodb.GetItem"} <= operations
    assert denied("ConsoleFunction", calls.requests) == []
