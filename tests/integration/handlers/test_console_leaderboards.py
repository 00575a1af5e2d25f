"""The console's Leaderboards through the console handler on moto: the boards the scorer keeps
(month, quarter, all time; everyone or one group), their CSV, the team board, and refusals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus import bootstrap, clock
from chorus.domain.points_report import Census
from chorus.domain.scoring import Award, AwardKind
from chorus.store.points_reports import CensusStore
from chorus.store.scores import ScoreStore
from tests.conftest import TABLE
from tests.integration.handlers.test_console import NOT_ADMIN, Browser, issuer, location, sign_in
from tests.support.iam import denied

__all__ = ["issuer"]  # the fixture, used by name

PEOPLE = [
    ("e-ada", "Ada", ["engineering"], 30),
    ("e-bob", '=HYPERLINK("x")', ["sales"], 20),
    ("e-cy", "Cy <b>", ["engineering"], 10),
]


@pytest.fixture
def scores(aws) -> dict[str, Any]:
    store = ScoreStore(aws["dynamodb"], TABLE)
    now = clock.now()
    for employee_id, name, groups, points in PEOPLE:
        award = Award(
            event_id=f"approval#{employee_id}",
            kind=AwardKind.APPROVED,
            employee_id=employee_id,
            points=points,
            occurred_at=now,
            content_id="c-1",
            network="linkedin",
            campaign="launch",
        )
        store.award(award, name=name, groups=groups, hidden=False)
    CensusStore(aws["dynamodb"], TABLE).save(
        Census(counted_at=datetime(2026, 11, 30, 3, tzinfo=UTC), active=12, groups={"engineering": 2, "sales": 10})
    )
    return aws


def signed_in_browser(issuer) -> Browser:
    browser = Browser()
    assert sign_in(browser, issuer)["statusCode"] == 303
    return browser


def rows_of(body: str) -> list[tuple[str, str, str]]:
    import re

    return re.findall(r"<tr><td>(\d+)</td><th scope=\"row\">(.*?)</th><td>(\d+)</td></tr>", body)


@pytest.mark.parametrize("period", ["month", "quarter", "all"])
def test_the_board_ranks_everyone_by_points_for_each_period(scores, issuer, period):
    browser = signed_in_browser(issuer)
    page = browser.call("GET", "/console/leaderboards", query={"period": period})
    assert page["statusCode"] == 200
    # Names are escaped, ranks in order of points
    assert rows_of(page["body"]) == [
        ("1", "Ada", "30"),
        ("2", "=HYPERLINK(&#34;x&#34;)", "20"),
        ("3", "Cy &lt;b&gt;", "10"),
    ]
    assert 'aria-current="page">Leaderboards' in page["body"]
    # The groups to choose from are the census's
    assert '<option value="engineering">engineering</option>' in page["body"]


def test_a_group_board_ranks_only_its_members_and_its_csv_has_the_same_rows(scores, issuer):
    browser = signed_in_browser(issuer)
    page = browser.call("GET", "/console/leaderboards", query={"period": "month", "group": "engineering"})
    assert rows_of(page["body"]) == [("1", "Ada", "30"), ("2", "Cy &lt;b&gt;", "10")]
    export = browser.call("GET", "/console/leaderboards.csv", query={"period": "all", "group": ""})
    assert export["statusCode"] == 200 and export["headers"]["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export["body"])))
    assert rows[0] == ["rank", "name", "employee_id", "points"]
    # A name a spreadsheet would run as a formula is neutralised
    assert rows[1:] == [
        ["1", "Ada", "e-ada", "30"],
        ["2", '\'=HYPERLINK("x")', "e-bob", "20"],
        ["3", "Cy <b>", "e-cy", "10"],
    ]


def test_the_team_board_ranks_groups_by_points_per_member(scores, issuer):
    browser = signed_in_browser(issuer)
    page = browser.call("GET", "/console/leaderboards/teams", query={"period": "quarter"})
    assert page["statusCode"] == 200
    body = page["body"]
    # engineering: 40 points over 2 members; sales: 20 over 10
    assert body.index('<th scope="row">engineering</th><td>20.0</td><td>40</td>') < body.index(
        '<th scope="row">sales</th><td>2.0</td><td>20</td>'
    )
    assert "a quarter's team board is this month's" in body


def test_bad_input_is_a_clear_error_and_non_admins_never_see_a_board(scores, issuer):
    browser = signed_in_browser(issuer)
    bad = browser.call("GET", "/console/leaderboards", query={"period": "week"})
    assert bad["statusCode"] == 422 and "must be month, quarter or all" in bad["body"]
    assert browser.call("GET", "/console/leaderboards/teams", query={"period": "x"})["statusCode"] == 422
    assert browser.call("GET", "/console/leaderboards", query={"group": "g" * 101})["statusCode"] == 422
    # Someone not signed in goes to the sign-in page; a non-admin is never signed in
    anonymous = Browser()
    for path in ("/console/leaderboards", "/console/leaderboards.csv", "/console/leaderboards/teams"):
        response = anonymous.call("GET", path)
        assert response["statusCode"] == 303 and location(response).startswith("/console/signin")
    outsider = Browser()
    assert sign_in(outsider, issuer, NOT_ADMIN)["statusCode"] == 403
    assert outsider.call("GET", "/console/leaderboards")["statusCode"] == 303


def test_every_call_of_the_leaderboards_is_allowed_by_the_console_policy(scores, issuer):
    from bench.aws_calls import count_aws_calls

    browser = signed_in_browser(issuer)
    with count_aws_calls(keep_requests=True) as calls:
        bootstrap.console_app.cache_clear()
        for path, query in (
            ("/console/leaderboards", {"period": "all", "group": "sales"}),
            ("/console/leaderboards.csv", {}),
            ("/console/leaderboards/teams", {"period": "month"}),
        ):
            assert browser.call("GET", path, query=query)["statusCode"] == 200
    assert "dynamodb.Query" in {operation for operation, _ in calls.requests}
    assert denied("ConsoleFunction", calls.requests) == []
