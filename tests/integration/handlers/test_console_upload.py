"""The console's Upload page on moto: the form a browser posts straight to the uploads bucket
(its signed policy and the page's CSP), S3's redirect back, the report while processing and once
written (counts, every refused row with line, field and reason, paged), its download, refusals."""

from __future__ import annotations

import base64
import copy
import json
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import ingest_handler
from tests.conftest import BUCKET
from tests.integration.handlers.test_console import NOT_ADMIN, Browser, issuer, location, sign_in  # noqa: F401
from tests.support.lambda_context import FakeLambdaContext

ROOT = Path(__file__).resolve().parents[3]
S3_EVENT = json.loads((ROOT / "events/ingest/s3_content_upload.json").read_text())
RECEIVED = "https://chorus.example.com/console/upload/received"


def signed_in(issuer) -> Browser:  # noqa: F811
    browser = Browser()
    assert sign_in(browser, issuer)["statusCode"] == 303
    return browser


def forms(page: str) -> list[dict[str, str]]:
    """Each upload form's action and hidden fields, as the browser would send them."""
    found = []
    for form in re.findall(r'<form class="upload"(.*?)</form>', page, re.S):
        hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form)
        fields = {name: unescape(value) for name, value in hidden}
        fields["action"] = unescape(re.search(r'action="([^"]+)"', form).group(1))
        found.append(fields)
    return found


def put_and_ingest(aws: dict[str, Any], key: str, body: bytes) -> None:
    """What S3 does with the browser's post (the object stored, the ingest notified)."""
    version = aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
    event = copy.deepcopy(S3_EVENT)
    event["Records"][0]["s3"]["bucket"]["name"] = BUCKET
    event["Records"][0]["s3"]["object"]["key"] = quote(key)
    event["Records"][0]["s3"]["object"]["versionId"] = version
    ingest_handler.lambda_handler(event, FakeLambdaContext())


def content_rows(good: int, bad: int) -> bytes:
    rows = [
        {"id": f"c{n}", "title": f"Post {n}", "url": f"https://example.com/{n}", "text": "Hello"} for n in range(good)
    ]
    rows += [{"id": f"bad{n}", "title": f"Bad {n}", "url": "ftp://nope", "text": "Hello"} for n in range(bad)]
    return "\n".join(json.dumps(row) for row in rows).encode()


def test_the_upload_page_has_a_form_per_kind_posting_straight_to_the_bucket(issuer, aws):  # noqa: F811
    browser = signed_in(issuer)
    # When the admin opens the Upload page
    response = browser.call("GET", "/console/upload")
    # Then there is a content form and a roster form, each posting to the uploads bucket
    assert response["statusCode"] == 200
    content, roster = forms(response["body"])
    bucket_origin = "{0.scheme}://{0.netloc}".format(urlsplit(content["action"]))
    assert BUCKET in content["action"]
    for form, kind in ((content, "content"), (roster, "employees")):
        assert re.fullmatch(rf"uploads/{kind}/\d{{4}}/\d{{2}}/\d{{2}}/[0-9a-f]{{8}}-\$\{{filename\}}", form["key"])
        assert form["success_action_redirect"] == RECEIVED
        # And the signed policy allows exactly that: this bucket, the key's prefix, a size, back to us
        policy = json.loads(base64.b64decode(form["policy"]))
        conditions = policy["conditions"]
        assert {"bucket": BUCKET} in conditions
        assert ["starts-with", "$key", form["key"].removesuffix("${filename}")] in conditions
        assert ["content-length-range", 1, 1024 * 1024] in conditions
        assert {"success_action_redirect": RECEIVED} in conditions
    # And the page's CSP lets forms post to us and to the bucket's origin, nowhere else
    csp = response["headers"]["Content-Security-Policy"]
    assert f"form-action 'self' {bucket_origin};" in csp
    # (scripts may call us only: the file never goes through a script's request to the bucket)
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp
    assert bucket_origin not in csp.split("form-action")[0]
    # And the drop script is a static asset, no inline script
    assert '<script src="/console/assets/console-upload.js" defer></script>' in response["body"]
    assert re.search(r"<script>(?!</script>)", response["body"]) is None
    assert browser.call("GET", "/console/assets/console-upload.js")["statusCode"] == 200


def test_s3s_redirect_leads_to_the_processing_page_then_to_the_report(issuer, aws):  # noqa: F811
    browser = signed_in(issuer)
    prefix = forms(browser.call("GET", "/console/upload")["body"])[0]["key"].removesuffix("${filename}")
    key = f"{prefix}posts.jsonl"
    # When S3 sends the browser back (it adds bucket, key and etag to the query)
    back = browser.call("GET", "/console/upload/received", query={"bucket": BUCKET, "key": key, "etag": '"x"'})
    assert back["statusCode"] == 303 and location(back) == f"/console/upload/{key}"
    # Then before the ingest wrote the report, the page says it is processing and refreshes itself
    processing = browser.call("GET", f"/console/upload/{key}")
    assert processing["statusCode"] == 200
    assert "Processing" in processing["body"]
    assert '<meta http-equiv="refresh" content="3">' in processing["body"]
    assert f'href="/console/upload/{key}"' in processing["body"]
    # When the file is in and read
    put_and_ingest(aws, key, content_rows(good=3, bad=0))
    report = browser.call("GET", f"/console/upload/{key}")["body"]
    # Then the report shows the counts
    assert "Every row was kept." in report
    assert re.search(r"<dt>Created</dt><dd>3</dd>", report)
    assert "Refused rows" not in report


def test_the_report_lists_every_refused_row_with_line_field_and_reason_by_pages(issuer, aws):  # noqa: F811
    browser = signed_in(issuer)
    prefix = forms(browser.call("GET", "/console/upload")["body"])[0]["key"].removesuffix("${filename}")
    key = f"{prefix}mixed.jsonl"
    put_and_ingest(aws, key, content_rows(good=2, bad=60))
    first = browser.call("GET", f"/console/upload/{key}")["body"]
    assert re.search(r"<dt>Accepted</dt><dd>2</dd>", first)
    assert re.search(r"<dt>Rejected</dt><dd>60</dd>", first)
    rows = re.findall(r'<tr><th scope="row">(\d+)</th><td>([^<]*)</td><td class="reason">([^<]+)</td></tr>', first)
    assert len(rows) == 50
    assert rows[0][0] == "3" and rows[0][1] == "url" and rows[0][2]
    assert "Refused rows 1\N{EN DASH}50 of 60" in first
    assert f'href="/console/upload/{key}?page=2"' in first
    # The second page has the rest
    second = browser.call("GET", f"/console/upload/{key}", query={"page": "2"})["body"]
    rest = re.findall(r'<tr><th scope="row">(\d+)</th>', second)
    assert rest == [str(line) for line in range(53, 63)]
    # And the download is a presigned GET of the report file, named for the upload
    link = unescape(re.search(r'<a href="([^"]+)" download>Download the report', first).group(1))
    parts = urlsplit(link)
    assert parts.path.endswith(f"/reports/{key}.json") or parts.path.endswith(f"/{BUCKET}/reports/{key}.json")
    query = parse_qs(parts.query)
    [disposition] = query["response-content-disposition"]
    assert re.fullmatch(r'attachment; filename="chorus-report-[0-9a-f]{8}-mixed\.jsonl\.json"', disposition)
    assert "X-Amz-Signature" in query
    stored = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{key}.json")["Body"].read())
    assert stored["counts"]["rejected"] == 60


def test_a_page_past_the_last_is_a_clear_error(issuer, aws):  # noqa: F811
    browser = signed_in(issuer)
    prefix = forms(browser.call("GET", "/console/upload")["body"])[0]["key"].removesuffix("${filename}")
    key = f"{prefix}few.jsonl"
    put_and_ingest(aws, key, content_rows(good=1, bad=2))
    response = browser.call("GET", f"/console/upload/{key}", query={"page": "3"})
    assert response["statusCode"] == 422 and "must be a page from 1 to 1" in response["body"]


def test_only_upload_reports_are_read(issuer, aws):  # noqa: F811
    browser = signed_in(issuer)
    aws["s3"].put_object(Bucket=BUCKET, Key="reports/exports/secret.json.json", Body=b"{}")
    for key in ("exports/secret.json", "uploads/other/2026/11/30/abcdef12-x.csv", "uploads/content/../../exports/x"):
        response = browser.call("GET", f"/console/upload/{key}")
        assert response["statusCode"] == 422, key
        assert "is not the key of an upload" in response["body"]
    redirected = browser.call("GET", "/console/upload/received", query={"key": "exports/secret.json"})
    assert redirected["statusCode"] == 422


def test_without_a_session_every_upload_route_sends_to_sign_in_and_signs_nothing(issuer, aws):  # noqa: F811
    report = "/console/upload/uploads/content/2026/11/30/abcdef12-a.csv"
    for path in ("/console/upload", "/console/upload/received", report):
        response = Browser().call("GET", path)
        assert response["statusCode"] == 303 and location(response) == "/console/signin", path
        assert "policy" not in response["body"]


def test_a_non_admin_gets_no_session_and_no_upload_form(issuer, aws):  # noqa: F811
    browser = Browser()
    refused = sign_in(browser, issuer, NOT_ADMIN)
    assert refused["statusCode"] == 403
    response = browser.call("GET", "/console/upload")
    assert response["statusCode"] == 303 and location(response) == "/console/signin"
