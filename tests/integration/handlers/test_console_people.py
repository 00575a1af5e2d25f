"""The console's People page on moto: the active roster by pages, an employee found by address
(in a POST, never a URL), their status, groups, posts and points, and deactivation through the
lifecycle service: their scheduled post is cancelled, its schedule deleted, and it is never
published even when the schedule fires. Every refusal leaves everything as it was."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.integration.handlers.test_consent_integrity import (
    ADA,
    ADA_ROW,
    approval,
    approve,
    connect_x,
    connection,
    feed,
    fire,
    page_link,
    profile,
    schedules,
    shown_version,
    tomorrow_at_ten,
    upload,
    web,
    world,  # noqa: F401
)
from tests.integration.handlers.test_console import Browser, csrf_of, issuer, location, sign_in  # noqa: F401
from tests.support.seed import employee_id


@pytest.fixture
def admin(issuer, world) -> Browser:  # noqa: F811
    browser = Browser()
    assert sign_in(browser, issuer)["statusCode"] == 303
    return browser


@pytest.fixture
def scheduled(world) -> None:  # noqa: F811
    """Ada connected X and approved a sandbox post for tomorrow."""
    connect_x(world)
    link = page_link()
    version = shown_version(web("GET", f"/a/{link}", "/a/{token}"))
    assert approve(link, version, when="at", at=tomorrow_at_ten())["statusCode"] == 303
    assert len(schedules(world)) == 1


def post_form(browser: Browser, path: str, fields: dict[str, str]) -> dict:
    return browser.call("POST", path, body=urlencode(fields))


def names_listed(page: str) -> list[str]:
    return re.findall(r'<tr><th scope="row"><a href="/console/people/[^"]+">([^<]+)</a>', page)


def test_the_roster_is_listed_by_pages_of_fifty(admin, world):  # noqa: F811
    # Given 54 more employees on the roster (Ada is the 55th)
    upload(world, "employees", [{"email": f"p{n:02d}@example.com", "name": f"Person {n:02d}"} for n in range(54)])
    first = admin.call("GET", "/console/people")
    assert first["statusCode"] == 200
    page_one = names_listed(first["body"])
    assert len(page_one) == 50
    token = re.search(r'href="/console/people\?next=([^"]+)" rel="next"', first["body"]).group(1)
    second = admin.call("GET", "/console/people", query={"next": token.replace("%3D", "=")})
    page_two = names_listed(second["body"])
    assert len(page_two) == 5 and not set(page_one) & set(page_two)
    assert 'rel="next"' not in second["body"]
    assert "Ada" in page_one + page_two


def test_a_forged_page_token_is_a_clear_error(admin):
    response = admin.call("GET", "/console/people", query={"next": "not-a-token"})
    assert response["statusCode"] == 422 and "is not a token from a previous page" in response["body"]


def test_an_address_finds_the_employee_page_without_going_into_a_url(admin, world):  # noqa: F811
    page = admin.call("GET", "/console/people")["body"]
    found = post_form(admin, "/console/people/find", {"csrf": csrf_of(page), "email": " ADA@example.com "})
    assert found["statusCode"] == 303
    assert location(found) == f"/console/people/{employee_id(ADA)}"
    assert "@" not in location(found)
    person = admin.call("GET", location(found))
    assert person["statusCode"] == 200
    assert "<h1>Ada</h1>" in person["body"] and "ada@example.com" in person["body"]
    assert "Active" in person["body"]


def test_an_unknown_address_is_not_found_and_a_find_without_csrf_is_refused(admin):
    page = admin.call("GET", "/console/people")["body"]
    unknown = post_form(admin, "/console/people/find", {"csrf": csrf_of(page), "email": "nobody@example.com"})
    assert unknown["statusCode"] == 404 and "no employee has this address" in unknown["body"]
    forged = post_form(admin, "/console/people/find", {"email": ADA})
    assert forged["statusCode"] == 403 and "Location" not in forged["headers"]


def test_the_employee_page_shows_their_posts_and_points(admin, world, scheduled):  # noqa: F811
    page = admin.call("GET", f"/console/people/{employee_id(ADA)}")["body"]
    assert re.search(r'<th scope="row">Our new Lyon office</th><td>sandbox</td><td>scheduled</td>', page)
    assert "<dt>Posts approved</dt><dd>1</dd>" in page
    assert re.search(r"<dt>Points</dt><dd>\d+", page)
    assert 'action="/console/people/' in page and 'name="confirm"' in page


def test_an_unknown_employee_is_not_found(admin):
    response = admin.call("GET", "/console/people/e-nobody")
    assert response["statusCode"] == 404


def test_deactivation_cancels_the_scheduled_post_and_it_is_never_published(admin, world, scheduled):  # noqa: F811
    path = f"/console/people/{employee_id(ADA)}"
    csrf = csrf_of(admin.call("GET", path)["body"])
    # When the admin confirms the deactivation
    response = post_form(admin, f"{path}/deactivate", {"csrf": csrf, "confirm": "yes"})
    # Then Post/Redirect/Get back to the employee, with a flash key
    assert response["statusCode"] == 303 and location(response) == f"{path}?done=deactivated"
    # And the lifecycle service withdrew her: inactive, post cancelled, schedule and tokens gone
    assert not profile(world).active
    item = approval(world)
    assert item["status"]["S"] == "CANCELLED" and item["cancel_reason"]["S"] == "employee no longer active"
    assert schedules(world) == [] and connection(world) is None
    page = admin.call("GET", path, query={"done": "deactivated"})["body"]
    assert "their scheduled posts are cancelled" in page and "Inactive" in page and 'name="confirm"' not in page
    # And nothing is published even if the schedule fires
    assert fire("sandbox") == "skipped"
    assert feed(world) == []


def test_deactivation_without_csrf_or_confirmation_changes_nothing(admin, world, scheduled):  # noqa: F811
    path = f"/console/people/{employee_id(ADA)}"
    csrf = csrf_of(admin.call("GET", path)["body"])
    forged = post_form(admin, f"{path}/deactivate", {"confirm": "yes"})
    assert forged["statusCode"] == 403
    wrong = post_form(admin, f"{path}/deactivate", {"csrf": "x" * len(csrf), "confirm": "yes"})
    assert wrong["statusCode"] == 403
    unconfirmed = post_form(admin, f"{path}/deactivate", {"csrf": csrf})
    assert unconfirmed["statusCode"] == 422 and "tick the box" in unconfirmed["body"]
    # Nothing changed: still active, the post still scheduled
    assert profile(world).active
    assert approval(world)["status"]["S"] == "SCHEDULED" and len(schedules(world)) == 1


def test_a_deactivation_is_refused_without_a_session_and_when_signed_out(issuer, world, scheduled):  # noqa: F811
    path = f"/console/people/{employee_id(ADA)}/deactivate"
    response = Browser().call("POST", path, body=urlencode({"csrf": "x", "confirm": "yes"}))
    assert response["statusCode"] == 401
    assert profile(world).active and len(schedules(world)) == 1


def test_a_non_admin_cannot_reach_people(issuer, world):  # noqa: F811
    from tests.integration.handlers.test_console import NOT_ADMIN

    browser = Browser()
    assert sign_in(browser, issuer, NOT_ADMIN)["statusCode"] == 403
    response = browser.call("GET", "/console/people")
    assert response["statusCode"] == 303 and location(response) == "/console/signin"


def test_a_roster_row_uploaded_again_as_active_does_not_bring_back_cancelled_posts(admin, world, scheduled):  # noqa: F811
    path = f"/console/people/{employee_id(ADA)}"
    csrf = csrf_of(admin.call("GET", path)["body"])
    post_form(admin, f"{path}/deactivate", {"csrf": csrf, "confirm": "yes"})
    upload(world, "employees", [ADA_ROW])
    assert profile(world).active
    assert approval(world)["status"]["S"] == "CANCELLED"
    assert fire("sandbox") == "skipped" and feed(world) == []
