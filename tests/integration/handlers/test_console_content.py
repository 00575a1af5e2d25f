"""The console's Content pages through the console handler on moto: the library (search, filters,
pages), an item's detail and funnel, its edit (the upload's checks and upsert) and retraction
(the admin API's service), with every refusal leaving the item as it was."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from chorus.store.codec import from_dynamo
from tests.conftest import TABLE
from tests.integration.handlers.test_consent_integrity import (
    LYON,
    approve,
    feed,
    fire,
    page_link,
    shown_version,
    upload,
    web,
)
from tests.integration.handlers.test_console import NOT_ADMIN, Browser, csrf_of, issuer, location, sign_in
from tests.support.seed import content_id, seed

__all__ = ["issuer"]  # the fixture, shared with the console's own tests

NOW = datetime.now(UTC)


def at(days: int) -> str:
    return (NOW + timedelta(days=days)).replace(microsecond=0).isoformat()


def item(external_id: str, title: str, **fields: Any) -> dict[str, Any]:
    return {"id": external_id, "title": title, "url": f"https://example.com/{external_id}", "text": title, **fields}


LIBRARY = [
    item("spring", "Spring launch", campaign="launch", starts_at=at(-10), ends_at=at(10)),
    item("summer", "Summer party", campaign="culture", starts_at=at(5), text_linkedin="Summer on LinkedIn"),
    item("autumn", "Autumn results", campaign="launch", starts_at=at(-30), ends_at=at(-20)),
    item("winter", "WINTER hiring", campaign="hiring"),
]


def stored(aws, external_id: str) -> dict[str, Any]:
    key = {"PK": {"S": f"CONTENT#{content_id(external_id)}"}, "SK": {"S": "META"}}
    return from_dynamo(aws["dynamodb"].get_item(TableName=TABLE, Key=key)["Item"])


def titles(page: dict[str, Any]) -> list[str]:
    return re.findall(r'<a href="/console/content/c-[0-9a-f]+">([^<]+)</a>', page["body"])


@pytest.fixture
def admin(issuer, aws) -> Browser:
    seed(aws, LIBRARY, [])
    browser = Browser()
    sign_in(browser, issuer)
    return browser


# ---------------------------------------------------------------------------------------- library
def test_the_library_lists_active_items_newest_start_first(admin):
    page = admin.call("GET", "/console/content")

    assert page["statusCode"] == 200
    assert titles(page) == ["Summer party", "Spring launch", "Autumn results", "WINTER hiring"]
    assert 'aria-current="page">Content</a>' in page["body"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "winter"}, ["WINTER hiring"]),  # case does not matter
        ({"q": "party"}, ["Summer party"]),
        ({"campaign": "launch"}, ["Spring launch", "Autumn results"]),
        ({"network": "linkedin"}, ["Summer party"]),
        ({"window": "upcoming"}, ["Summer party"]),
        ({"window": "current"}, ["Spring launch", "WINTER hiring"]),
        ({"window": "past"}, ["Autumn results"]),
        ({"campaign": "launch", "window": "past"}, ["Autumn results"]),
    ],
)
def test_the_library_filters(admin, query, expected):
    page = admin.call("GET", "/console/content", query=query)

    assert page["statusCode"] == 200
    assert titles(page) == expected


def test_the_library_pages_with_an_opaque_cursor_and_keeps_the_filters(admin, aws, monkeypatch):
    from chorus.web.console import content as content_pages

    monkeypatch.setattr(content_pages, "PAGE_SIZE", 1)
    first = admin.call("GET", "/console/content", query={"campaign": "launch"})
    next_url = re.search(r'href="([^"]+)" rel="next"', first["body"]).group(1).replace("&amp;", "&")
    params = {name: values[0] for name, values in parse_qs(urlsplit(next_url).query).items()}

    second = admin.call("GET", "/console/content", query=params)

    assert titles(first) == ["Spring launch"] and titles(second) == ["Autumn results"]
    assert params["campaign"] == "launch" and "CONTENT" not in params["next"]


def test_a_cursor_of_another_listing_or_garbage_is_a_clear_error(admin):
    retracted_cursor = admin.call("GET", "/console/content", query={"state": "retracted", "next": "bm9wZQ"})
    bad_filter = admin.call("GET", "/console/content", query={"window": "someday"})

    assert retracted_cursor["statusCode"] == 422 and "previous page" in retracted_cursor["body"]
    assert bad_filter["statusCode"] == 422 and "current, upcoming or past" in bad_filter["body"]


def test_the_library_never_scans_the_table(admin, aws):
    calls: list[str] = []
    aws["dynamodb"].meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))

    admin.call("GET", "/console/content", query={"q": "spring", "campaign": "launch"})

    assert "Scan" not in calls


# ---------------------------------------------------------------------------------------- detail
def test_the_detail_shows_the_item_and_its_funnel_as_svg_table_and_csv(admin, aws):
    from chorus.store.funnel import FunnelStore

    funnel = FunnelStore(aws["dynamodb"], TABLE)
    funnel.add_sent({content_id("spring"): 40}, "week-1")
    funnel.mark_opened(content_id("spring"), "e-1", expires_at=0)
    funnel.mark_opened(content_id("spring"), "e-2", expires_at=0)

    page = admin.call("GET", f"/console/content/{content_id('spring')}")
    download = admin.call("GET", f"/console/content/{content_id('spring')}/funnel.csv")

    assert page["statusCode"] == 200
    body = page["body"]
    assert "<h1>Spring launch</h1>" in body and "https://example.com/spring" in body and "launch" in body
    assert 'role="img"' in body and "Sent in digests: 40; Opened the approval page: 2;" in body
    assert '<th scope="row">Opened the approval page</th><td>2</td><td>5&nbsp;%</td>' in body
    rows = list(csv.reader(io.StringIO(download["body"])))
    assert rows[:3] == [
        ["step", "count", "share_of_previous_percent"],
        ["Sent in digests", "40", ""],
        ["Opened the approval page", "2", "5"],
    ]
    assert download["headers"]["Content-Type"].startswith("text/csv")


def test_an_unknown_item_is_a_404_page(admin):
    assert admin.call("GET", "/console/content/c-00000000000000000000")["statusCode"] == 404


def test_a_non_admin_sees_no_content_page(issuer, aws):
    seed(aws, LIBRARY, [])
    browser = Browser()
    sign_in(browser, issuer, NOT_ADMIN)

    spring = f"/console/content/{content_id('spring')}"
    for path in ("/console/content", spring, f"{spring}/edit", f"{spring}/retract"):
        response = browser.call("GET", path)
        assert response["statusCode"] == 303 and location(response) == "/console/signin"
    refused = browser.call("POST", f"{spring}/retract", body=urlencode({"csrf": "x"}))
    assert refused["statusCode"] == 401
    assert stored(aws, "spring")["status"] == "active"


# ---------------------------------------------------------------------------------------- edit
def edit_form(admin: Browser, external_id: str) -> tuple[str, dict[str, str]]:
    page = admin.call("GET", f"/console/content/{content_id(external_id)}/edit")["body"]
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return csrf_of(page), {"version": version}


def post_edit(admin: Browser, external_id: str, fields: dict[str, str]) -> dict[str, Any]:
    """The edit form sent as a browser sends it: url-encoded fields to the item's edit route."""
    return admin.call("POST", f"/console/content/{content_id(external_id)}/edit", body=urlencode(fields))


def test_an_edit_goes_through_the_upload_and_bumps_the_version(admin, aws):
    before = stored(aws, "spring")
    csrf, hidden = edit_form(admin, "spring")

    response = post_edit(
        admin,
        "spring",
        {
            "csrf": csrf,
            **hidden,
            "title": "Spring launch, day one",
            "text": "New words",
            "points": "25",
            "starts_at": at(-10),
            "ends_at": at(10),
        },
    )

    assert response["statusCode"] == 303
    assert location(response) == f"/console/content/{content_id('spring')}?done=content-edited"
    after = stored(aws, "spring")
    assert (after["title"], after["text"], after["points"]) == ("Spring launch, day one", "New words", 25)
    assert after["version"] == before["version"] + 1 and after["fingerprint"] != before["fingerprint"]
    assert after["title_search"] == "spring launch, day one"
    # What the upload owns and the form does not show is kept
    assert (after["url"], after["campaign"]) == (before["url"], before["campaign"])
    shown = admin.call("GET", f"/console/content/{content_id('spring')}", query={"done": "content-edited"})["body"]
    assert "The item is saved." in shown


def test_an_invalid_edit_shows_each_field_and_reason_keeps_the_text_and_changes_nothing(admin, aws):
    before = stored(aws, "spring")
    csrf, hidden = edit_form(admin, "spring")

    response = post_edit(
        admin,
        "spring",
        {
            "csrf": csrf,
            **hidden,
            "title": "My careful new title",
            "text": "Kept words <b>",
            "points": "lots",
            "starts_at": at(5),
            "ends_at": at(1),
        },
    )

    assert response["statusCode"] == 422
    body = response["body"]
    assert "Nothing was saved" in body
    assert 'href="#points">points</a> must be a whole number' in body
    assert 'value="My careful new title"' in body and "Kept words &lt;b&gt;" in body
    assert stored(aws, "spring") == before


def test_an_edit_ending_before_it_starts_is_refused_on_the_field(admin, aws):
    before = stored(aws, "spring")
    csrf, hidden = edit_form(admin, "spring")

    fields = {"csrf": csrf, **hidden, "title": "T", "text": "x", "starts_at": at(5), "ends_at": at(1)}
    response = post_edit(admin, "spring", fields)

    assert response["statusCode"] == 422
    assert 'href="#ends_at">ends_at</a> must be after starts_at' in response["body"]
    assert 'aria-invalid="true" aria-describedby="ends_at-problem"' in response["body"]
    assert stored(aws, "spring") == before


def test_an_edit_from_a_stale_form_is_refused_and_keeps_the_admins_text(admin, aws):
    csrf, hidden = edit_form(admin, "spring")
    upload(aws, "content", [{**LIBRARY[0], "text": "Changed by an upload meanwhile"}])
    before = stored(aws, "spring")

    response = post_edit(admin, "spring", {"csrf": csrf, **hidden, "title": "Mine", "text": "My words"})

    assert response["statusCode"] == 409 and "changed since you opened it" in response["body"]
    assert "My words" in response["body"]
    assert stored(aws, "spring") == before


def test_an_edit_without_the_csrf_token_is_refused_and_changes_nothing(admin, aws):
    before = stored(aws, "spring")
    _csrf, hidden = edit_form(admin, "spring")

    response = admin.call(
        "POST", f"/console/content/{content_id('spring')}/edit", body=urlencode({**hidden, "title": "Forged"})
    )

    assert response["statusCode"] == 403
    assert stored(aws, "spring") == before


# ---------------------------------------------------------------------------------------- retract
def test_retracting_asks_first_then_uses_the_admin_apis_service(admin, aws):
    confirm = admin.call("GET", f"/console/content/{content_id('spring')}/retract")
    assert confirm["statusCode"] == 200 and "Retract this item" in confirm["body"]
    assert stored(aws, "spring")["status"] == "active"  # the GET changed nothing

    response = admin.call(
        "POST", f"/console/content/{content_id('spring')}/retract", body=urlencode({"csrf": csrf_of(confirm["body"])})
    )

    assert response["statusCode"] == 303
    after = stored(aws, "spring")
    assert after["status"] == "retracted" and after["GSI2PK"] == "CONTENT#retracted"
    assert titles(admin.call("GET", "/console/content", query={"state": "retracted"})) == ["Spring launch"]
    assert "Spring launch" not in titles(admin.call("GET", "/console/content"))


def test_a_retraction_without_the_csrf_token_is_refused_and_changes_nothing(admin, aws):
    response = admin.call("POST", f"/console/content/{content_id('spring')}/retract", body=urlencode({"csrf": "x"}))

    assert response["statusCode"] == 403
    assert stored(aws, "spring")["status"] == "active"


# ---------------------------------------------------------------------------------------- consent
def test_an_edit_after_an_approval_never_publishes_the_edited_text(issuer, aws):
    # Given Ada approved the Lyon post as the page showed it
    upload(aws, "content", [LYON])
    upload(aws, "employees", [{"email": "ada@example.com", "name": "Ada", "timezone": "Europe/Paris"}])
    link = page_link()
    old_page = web("GET", f"/a/{link}", "/a/{token}")
    assert approve(link, shown_version(old_page), text_sandbox="We opened in Lyon")["statusCode"] == 303
    # When an admin edits the item's text in the console
    admin = Browser()
    sign_in(admin, issuer)
    csrf, hidden = edit_form(admin, "lyon")
    fields = {"csrf": csrf, **hidden, "title": LYON["title"], "text": "EDITED: Lyon is closing"}
    edited = post_edit(admin, "lyon", fields)
    assert edited["statusCode"] == 303
    # Then the schedule publishes exactly what Ada approved, never the edited text
    assert fire("sandbox") == "published"
    [post] = feed(aws)
    assert post["text"]["S"] == "We opened in Lyon"
    assert "EDITED" not in str(post)
    # And an approval sent from the page she opened before the edit is refused
    refused = approve(link, shown_version(old_page), network="sandbox")
    assert refused["statusCode"] != 303
    assert len(feed(aws)) == 1


# ---------------------------------------------------------------------------------------- funnel
def lyon_funnel(aws) -> dict[str, int]:
    from chorus.store.funnel import FunnelStore

    funnel = FunnelStore(aws["dynamodb"], TABLE).funnels([content_id("lyon")])[content_id("lyon")]
    return {step.counter: step.count for step in funnel.steps()}


def test_the_funnel_counts_each_step_once_where_it_happens(aws):
    import scoring_handler
    from chorus.domain.tracking import link_code
    from tests.integration.handlers.test_consent_integrity import approval
    from tests.support.http_events import http_event
    from tests.support.lambda_context import FakeLambdaContext
    from tests.support.streams import TableStream

    stream = TableStream(aws, TABLE)
    upload(aws, "content", [LYON])
    upload(aws, "employees", [{"email": "ada@example.com", "name": "Ada", "timezone": "Europe/Paris"}])
    link = page_link()
    # Given Ada's page was fetched (a mail scanner's prefetch looks the same): nothing is counted
    page = web("GET", f"/a/{link}", "/a/{token}")
    assert f'data-opened="/a/{link}/opened"' in page["body"]
    assert lyon_funnel(aws)["opened"] == 0
    # When her browser sends the page's beacon, twice (a reload)
    beacons = [web("POST", f"/a/{link}/opened", "/a/{token}/opened", {}) for _ in range(2)]
    # Then she is counted once
    assert [beacon["statusCode"] for beacon in beacons] == [204, 204]
    assert lyon_funnel(aws)["opened"] == 1
    # And a forged link counts nothing
    assert web("POST", "/a/forged/opened", "/a/{token}/opened", {})["statusCode"] in {400, 403, 404}
    # When she approves, the post is published and someone follows it
    assert approve(link, shown_version(page), text_sandbox="We opened in Lyon")["statusCode"] == 303
    assert fire("sandbox") == "published"
    code = link_code(approval(aws)["approval_id"]["S"])
    browser = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "accept-language": "fr"}
    visit = http_event(
        "GET", f"/r/{code}", route="/r/{code}", claims=None, path_parameters={"code": code}, headers=browser
    )
    import web_handler

    assert web_handler.lambda_handler(visit, FakeLambdaContext())["statusCode"] == 302
    # And the scoring function gets the stream batch twice (a retry)
    event = stream.event_for("ScoringFunction", "TableChanges")
    for _delivery in range(2):
        assert scoring_handler.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    # Then each step is counted once
    assert lyon_funnel(aws) == {"sent": 0, "opened": 1, "approvals": 1, "publications": 1, "visits": 1}
