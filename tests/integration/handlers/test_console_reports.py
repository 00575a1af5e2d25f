"""The console's Overview figures of the week and by network, and /console/reports (participation
by group over time, top advocates), through the console handler on moto, signed in against the
fake OIDC issuer; and what the pages refuse."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from bench.aws_calls import count_aws_calls

import reports_handler
import scoring_handler
from chorus import bootstrap
from chorus.config import TableSettings
from chorus.domain.scoring import company_week_key
from chorus.store import keys
from tests.conftest import ENVIRONMENT, TABLE
from tests.integration.handlers.test_console import NOT_ADMIN, Browser, issuer, sign_in  # noqa: F401
from tests.integration.handlers.test_scoring import CONTENT, approval_image, record
from tests.support.iam import denied
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import employee_id, seed

PEOPLE = [
    {"email": "ada@example.com", "name": "Ada", "groups": ["engineering"]},
    {"email": "bob@example.com", "name": "Bob", "groups": ["sales"]},
    {"email": "cy@example.com", "name": "Cy", "groups": ["engineering"]},
    {"email": "dee@example.com", "name": "Dee", "groups": ["sales"]},
]


@pytest.fixture
def world(aws):
    seed(aws, [CONTENT], PEOPLE)
    bootstrap.score_stream.cache_clear()
    yield aws
    bootstrap.score_stream.cache_clear()


def approve(*emails: str) -> None:
    for email in emails:
        stream = {"Records": [record(approval_image(email))]}
        assert scoring_handler.lambda_handler(stream, FakeLambdaContext()) == {"batchItemFailures": []}
        time.sleep(0.01)  # equal scores rank by who got there first


def put_company(aws, period: str, shard: int, counters: dict[str, int]) -> None:
    item = {"PK": {"S": keys.stats_pk(period, shard)}, "SK": {"S": "COMPANY"}, "entity": {"S": "stats"}}
    item.update({name: {"N": str(value)} for name, value in counters.items()})
    aws["dynamodb"].put_item(TableName=TABLE, Item=item)


def signed_in(issuer_) -> Browser:
    browser = Browser()
    sign_in(browser, issuer_)
    return browser


def test_the_overview_shows_this_company_week_publications_by_network_and_the_weekly_trend(issuer, aws):  # noqa: F811
    # Given this company week's counters over two shards, this month's, and a census of 20
    now = datetime.now(UTC)
    week = company_week_key(now, ENVIRONMENT["DIGEST_TIMEZONE"])
    put_company(aws, week, 1, {"approvals": 3, "participants": 2, "publications": 2, "publications_linkedin": 2})
    put_company(aws, week, 6, {"approvals": 1, "participants": 3, "publications": 1, "publications_mastodon": 1})
    put_company(aws, f"M{now:%Y-%m}", 0, {"approvals": 9, "participants": 8, "publications_linkedin": 6})
    census = {"PK": {"S": "CENSUS"}, "SK": {"S": "TOTAL"}, "active": {"N": "20"}, "run": {"S": now.isoformat()}}
    aws["dynamodb"].put_item(TableName=TABLE, Item=census)
    browser = signed_in(issuer)

    # When the admin opens the Overview (counting its AWS calls) and its CSVs
    bootstrap.console_app.cache_clear()  # its clients are made inside the count
    with count_aws_calls(keep_requests=True) as calls:
        page = browser.call("GET", "/console")["body"]
    # (the clients made inside the count keep counting after it: what the page made, now)
    made = [operation for operation, _ in calls.requests]
    weeks = list(csv.DictReader(io.StringIO(browser.call("GET", "/console/overview/weeks.csv")["body"])))
    networks = list(csv.DictReader(io.StringIO(browser.call("GET", "/console/overview/networks.csv")["body"])))

    # Then this week: 5 participants of 20 active employees, 4 approvals; per network both periods
    assert "This week (" in page and "25&nbsp;%" in page and "5 of 20 active employees approved" in page
    assert '<th scope="row">LinkedIn</th><td>2</td><td>6</td>' in page
    assert networks == [
        {"network": "LinkedIn", "publications_this_week": "2", "publications_this_month": "6"},
        {"network": "Mastodon", "publications_this_week": "1", "publications_this_month": "0"},
    ]
    # and the 12-week trend: SVG with its title, the table, and the CSV, current week last
    assert '<title id="weeks-title">Approvals per week' in page and 'aria-labelledby="weeks-title weeks-desc"' in page
    assert len(weeks) == 12 and weeks[-1]["approvals"] == "4" and weeks[-1]["participation_percent"] == "25"
    assert weeks[-1]["week"].startswith(f"{week[1:5]}-W{week[-2:]}")
    assert all(row["approvals"] == "0" for row in weeks[:-1])
    # within the page budget: the session, then 12 months + 12 weeks x 8 shards + census in 2 BatchGetItems
    assert made == ["dynamodb.GetItem"] + ["dynamodb.BatchGetItem"] * 2


def test_reports_show_participation_by_group_from_the_census_run_and_the_top_advocates(issuer, world):  # noqa: F811
    # Given Ada, Bob and Cy approving (Bob hidden from leaderboards), then the daily census
    approve("cy@example.com", "ada@example.com", "bob@example.com")
    bootstrap.build_scoring_service(TableSettings.from_env(ENVIRONMENT), dynamodb_client=world["dynamodb"]).hide(
        employee_id("bob@example.com"), True
    )
    reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
    browser = signed_in(issuer)

    # When the admin opens the reports
    bootstrap.console_app.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        response = browser.call("GET", "/console/reports")
    made = [operation for operation, _ in calls.requests]
    page = response["body"]
    participation = browser.call("GET", "/console/reports/participation.csv")
    advocates = browser.call("GET", "/console/reports/advocates.csv", query={"period": "all"})

    assert response["statusCode"] == 200
    # the session, participation, the board, the roll-up (none yet: the page says so)
    assert made == ["dynamodb.GetItem"] + ["dynamodb.Query"] * 2 + ["dynamodb.GetItem"]
    assert "Not computed yet" in page
    # Then engineering: 2 of 2 approved this month; sales: 1 of 2
    month = f"{datetime.now(UTC):%Y-%m}"
    rows = {(row["group"], row["month"]): row for row in csv.DictReader(io.StringIO(participation["body"]))}
    assert rows[("engineering", month)] == {
        "month": month,
        "group": "engineering",
        "participants": "2",
        "active_employees": "2",
        "participation_percent": "100",
    }
    assert rows[("sales", month)]["participation_percent"] == "50"
    assert len(rows) == 24  # two groups x twelve months
    assert '<title id="group-trend-title">Participation of engineering per month' in page
    assert '100&nbsp;% <span class="muted">2/2</span>' in page
    # and the top advocates leave out Bob, who hid himself from leaderboards
    assert [row["name"] for row in csv.DictReader(io.StringIO(advocates["body"]))] == ["Cy", "Ada"]
    assert "Bob" not in page and '<th scope="row">Cy</th>' in page
    assert "/console/reports/content" not in page and 'aria-current="page">Reports</a>' in page


def test_a_chosen_group_and_period_are_shown_and_an_unknown_one_is_a_clear_error(issuer, world):  # noqa: F811
    approve("bob@example.com")
    reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
    browser = signed_in(issuer)

    sales = browser.call("GET", "/console/reports", query={"group": "sales", "period": "quarter"})
    unknown_group = browser.call("GET", "/console/reports", query={"group": "nobody"})
    unknown_period = browser.call("GET", "/console/reports", query={"period": "week"})
    bad_csv = browser.call("GET", "/console/reports/advocates.csv", query={"period": "decade"})

    assert sales["statusCode"] == 200 and '<option value="sales" selected>' in sales["body"]
    assert '<option value="quarter" selected>' in sales["body"]
    assert unknown_group["statusCode"] == 422 and "has no participation recorded" in unknown_group["body"]
    assert unknown_period["statusCode"] == 422 and "is month, quarter or all" in unknown_period["body"]
    assert bad_csv["statusCode"] == 422 and "text/csv" not in bad_csv["headers"]["Content-Type"]


@pytest.mark.parametrize(
    "path",
    [
        "/console/reports",
        "/console/reports/participation.csv",
        "/console/reports/advocates.csv",
        "/console/overview/weeks.csv",
        "/console/overview/networks.csv",
    ],
)
def test_without_a_session_every_report_sends_the_browser_to_sign_in(issuer, aws, path):  # noqa: F811
    response = Browser().call("GET", path)

    assert response["statusCode"] == 303 and "text/csv" not in response["headers"].get("Content-Type", "")


def test_a_non_admin_never_gets_a_session_to_read_reports(issuer, aws):  # noqa: F811
    browser = Browser()
    refused = sign_in(browser, issuer, NOT_ADMIN)

    assert refused["statusCode"] == 403
    assert browser.call("GET", "/console/reports")["statusCode"] == 303


def test_reading_the_reports_writes_nothing(issuer, world):  # noqa: F811
    approve("ada@example.com")
    browser = signed_in(issuer)
    before = world["dynamodb"].scan(TableName=TABLE)["Items"]

    for path in ("/console/reports", "/console/reports/participation.csv", "/console/reports/advocates.csv"):
        browser.call("GET", path)
        browser.call("HEAD", path)

    after = world["dynamodb"].scan(TableName=TABLE)["Items"]
    # the session's last-seen time is the only change a page view may make
    changed = [item for item in after if item not in before and not item["PK"]["S"].startswith("CONSOLE#")]
    assert changed == []


def test_the_census_run_updates_last_months_participants_but_keeps_its_own_census(world):
    # Given last month's snapshot (sales: 4 members then) and a participant counted since
    now = datetime.now(UTC)
    last_month = f"M{(now.replace(day=1) - timedelta(days=1)):%Y-%m}"
    snapshot = {
        "PK": {"S": "PARTICIPATION"},
        "SK": {"S": last_month},
        "participants": {"M": {"sales": {"N": "1"}}},
        "active": {"M": {"sales": {"N": "4"}}},
    }
    world["dynamodb"].put_item(TableName=TABLE, Item=snapshot)
    late = {"PK": {"S": keys.stats_pk(last_month, 3)}, "SK": {"S": "GROUP#sales"}, "participants": {"N": "2"}}
    world["dynamodb"].put_item(TableName=TABLE, Item=late)

    # When the daily census runs (sales has 2 active members today)
    reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())

    # Then last month counts 2 participants of its own 4 members; this month has today's census
    item = world["dynamodb"].get_item(TableName=TABLE, Key={"PK": {"S": "PARTICIPATION"}, "SK": {"S": last_month}})
    assert item["Item"]["participants"]["M"] == {"sales": {"N": "2"}}
    assert item["Item"]["active"]["M"] == {"sales": {"N": "4"}}
    current = world["dynamodb"].get_item(
        TableName=TABLE, Key={"PK": {"S": "PARTICIPATION"}, "SK": {"S": f"M{now:%Y-%m}"}}
    )["Item"]
    assert current["active"]["M"] == {"engineering": {"N": "2"}, "sales": {"N": "2"}}


def test_the_console_function_may_make_every_call_of_the_overview_and_the_reports(issuer, world):  # noqa: F811
    approve("ada@example.com", "bob@example.com")
    reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
    browser = signed_in(issuer)

    bootstrap.console_app.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        for path in ("/console", "/console/overview/weeks.csv", "/console/overview/networks.csv"):
            assert browser.call("GET", path)["statusCode"] == 200
        for path in ("/console/reports", "/console/reports/participation.csv", "/console/reports/advocates.csv"):
            assert browser.call("GET", path)["statusCode"] == 200

    assert {"dynamodb.BatchGetItem", "dynamodb.Query"} <= {operation for operation, _ in calls.requests}
    assert denied("ConsoleFunction", calls.requests) == []
