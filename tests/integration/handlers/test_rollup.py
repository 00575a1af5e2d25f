"""The report function's roll-up on moto: its schedule's event through the report handler, what it
writes (twice gives the same figures), what it may call (ReportFunction's policy); then what the
console shows from it: the funnel per campaign and the top content on /console/reports (charts,
tables, CSVs, within 5 calls) and the team board "as of" the roll-up."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from bench.aws_calls import count_aws_calls

import reports_handler
import scoring_handler
from chorus import bootstrap
from chorus.domain.scoring import period_keys
from chorus.store import keys
from chorus.store.catalog import CatalogStore
from chorus.store.funnel import FunnelStore
from tests.conftest import TABLE
from tests.integration.handlers.test_console import NOT_ADMIN, Browser, issuer, sign_in
from tests.integration.handlers.test_scoring import CONTENT, approval_image, record
from tests.support.iam import denied
from tests.support.lambda_context import FakeLambdaContext
from tests.support.seed import content_id, seed

__all__ = ["issuer"]  # the fixture, used by name

PEOPLE = [
    {"email": "ada@example.com", "name": "Ada", "groups": ["engineering"]},
    {"email": "bob@example.com", "name": "Bob", "groups": ["sales"]},
]
LIBRARY = [
    {**CONTENT, "campaign": "spring"},  # "lyon": the item the scoring tests' approvals are of
    {"id": "paris", "title": "Paris <opens>", "url": "https://example.com/paris", "text": "Hi", "campaign": "spring"},
    {"id": "rome", "title": "Rome", "url": "https://example.com/rome", "text": "Hi", "campaign": "autumn <b>"},
    {"id": "oslo", "title": "Oslo", "url": "https://example.com/oslo", "text": "Hi"},
]


@pytest.fixture
def library(aws):
    """Four items over two campaigns and none; digests sent of three, pages opened, Ada's and
    Bob's approvals of Lyon through the scorer, and Oslo retracted (its figures still count)."""
    seed(aws, LIBRARY, PEOPLE)
    funnels = FunnelStore(aws["dynamodb"], TABLE)
    funnels.add_sent({content_id("lyon"): 2, content_id("paris"): 2, content_id("oslo"): 1}, "digest:w48")
    funnels.mark_opened(content_id("lyon"), "e-ada", 2_000_000_000)
    funnels.mark_opened(content_id("paris"), "e-bob", 2_000_000_000)
    bootstrap.score_stream.cache_clear()
    stream = {"Records": [record(approval_image(email)) for email in ("ada@example.com", "bob@example.com")]}
    assert scoring_handler.lambda_handler(stream, FakeLambdaContext()) == {"batchItemFailures": []}
    CatalogStore(aws["dynamodb"], TABLE).retract_content(content_id("oslo"))
    reports_handler.lambda_handler({"job": "census"}, FakeLambdaContext())
    bootstrap.report_requests.cache_clear()
    yield aws
    bootstrap.score_stream.cache_clear()


def rollup_items(aws) -> dict[str, dict]:
    items = aws["dynamodb"].query(
        TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": keys.ROLLUP}}
    )["Items"]
    return {item["SK"]["S"]: json.loads(item["body"]["S"]) for item in items}


def without_time(document: dict) -> dict:
    return {name: value for name, value in document.items() if name != "computed_at"}


def signed_in(issuer_) -> Browser:
    browser = Browser()
    assert sign_in(browser, issuer_)["statusCode"] == 303
    return browser


def test_the_rollup_sums_funnels_per_campaign_and_running_it_twice_writes_the_same_figures(library):
    # When the schedule's event reaches the report function, twice
    with count_aws_calls(keep_requests=True) as calls:
        first = reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    written = rollup_items(library)
    second = reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    again = rollup_items(library)

    # Then one item per period's teams and one of campaigns, the same figures both times
    month, everything = (period_keys(datetime.now(UTC))[period] for period in ("month", "all"))
    assert sorted(written) == sorted([keys.ROLLUP_CAMPAIGNS, f"TEAMS#{month}", f"TEAMS#{everything}"])
    assert first == second == {"teams": 2, "campaigns": 3, "content_items": 4}
    assert {sk: without_time(body) for sk, body in written.items()} == {
        sk: without_time(body) for sk, body in again.items()
    }
    # the funnel per campaign is its items' funnels added up (Oslo retracted, still counted)
    campaigns = {row["campaign"]: row for row in written[keys.ROLLUP_CAMPAIGNS]["campaigns"]}
    assert campaigns["spring"]["items"] == 2
    assert campaigns["spring"]["funnel"] == {"sent": 4, "opened": 2, "approvals": 2, "publications": 0, "visits": 0}
    assert campaigns["spring"]["points"] == 20  # the scorer's campaign counters, all time
    assert campaigns[""]["funnel"]["sent"] == 1 and campaigns["autumn <b>"]["funnel"]["sent"] == 0
    assert [row["content_id"] for row in written[keys.ROLLUP_CAMPAIGNS]["top_by_approvals"]] == [content_id("lyon")]
    teams = {row["group"]: row["points"] for row in written[f"TEAMS#{month}"]["teams"]}
    assert teams == {"engineering": 10, "sales": 10}
    # and every call it made is one the report function's policy allows; the library is read
    # through its listing index, never scanned
    assert denied("ReportFunction", calls.requests) == []
    operations = {operation for operation, _ in calls.requests}
    assert "dynamodb.Scan" not in operations
    assert operations == {"dynamodb.Query", "dynamodb.BatchGetItem", "dynamodb.PutItem"}


def test_calls_per_run_grow_with_content_items_by_one_batch_read_per_25(aws):
    # Given 60 content items in one campaign
    rows = [{"id": f"n{n}", "title": f"N{n}", "url": f"https://example.com/{n}", "text": "Hi"} for n in range(60)]
    seed(aws, rows, [])
    bootstrap.report_requests.cache_clear()

    with count_aws_calls() as calls:
        reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())

    # 2 periods x 8 shards, one page of each listing, 3 BatchGetItems of 25 items' 4 shards, 3 puts
    assert calls.by_operation() == {"dynamodb.Query": 16 + 2, "dynamodb.BatchGetItem": 3, "dynamodb.PutItem": 3}


def test_the_reports_page_shows_the_funnel_per_campaign_and_the_top_content_within_five_calls(library, issuer):
    reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    browser = signed_in(issuer)

    bootstrap.console_app.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        page = browser.call("GET", "/console/reports")
    # (the clients made inside the count keep counting after it: what the page made, now)
    made = list(calls.requests)
    body = page["body"]
    campaigns_csv = browser.call("GET", "/console/reports/campaigns.csv")
    content_csv = browser.call("GET", "/console/reports/content.csv", query={"rank": "approvals"})

    assert page["statusCode"] == 200
    # the session, participation, the top advocates, the roll-up
    assert [operation for operation, _ in made] == ["dynamodb.GetItem"] + ["dynamodb.Query"] * 2 + ["dynamodb.GetItem"]
    assert denied("ConsoleFunction", made) == []
    # The chart of the campaign with the most approvals, its steps spelled out for screen readers
    assert '<title id="campaign-funnel-title">Funnel of spring, all time</title>' in body
    assert "Sent in digests: 4; Opened the approval page: 2; Approved: 2; Published: 0; Visits: 0" in body
    assert '<th scope="row">spring</th><td>2</td><td>4</td><td>2</td><td>2</td><td>0</td><td>0</td><td>20</td>' in body
    assert '<th scope="row">(no campaign)</th>' in body and "Figures as of" in body
    assert '<th scope="row">autumn &lt;b&gt;</th>' in body and "autumn <b>" not in body
    # the top content links to each item's detail, titles escaped
    assert f'<a href="/console/content/{content_id("lyon")}">Lyon</a>' in body
    assert "Paris &lt;opens&gt;" not in body  # no approvals: not in the approvals ranking
    # The CSVs carry the same rows
    rows = {row["campaign"]: row for row in csv.DictReader(io.StringIO(campaigns_csv["body"]))}
    assert campaigns_csv["headers"]["Content-Type"].startswith("text/csv")
    assert rows["spring"] | {"figures_as_of": ""} == {
        "campaign": "spring",
        "items": "2",
        "sent": "4",
        "opened": "2",
        "approvals": "2",
        "publications": "0",
        "visits": "0",
        "points": "20",
        "figures_as_of": "",
    }
    assert "autumn <b>" in rows and "(no campaign)" in rows
    top = list(csv.DictReader(io.StringIO(content_csv["body"])))
    assert [(row["rank"], row["content_id"], row["title"]) for row in top] == [("1", content_id("lyon"), "Lyon")]


def test_a_chosen_campaign_and_ranking_are_shown_and_unknown_ones_are_clear_errors(library, issuer):
    reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    browser = signed_in(issuer)

    none = browser.call("GET", "/console/reports", query={"campaign": "(no campaign)", "rank": "visits"})
    unknown = browser.call("GET", "/console/reports", query={"campaign": "winter"})
    bad_rank = browser.call("GET", "/console/reports", query={"rank": "clicks"})
    bad_csv = browser.call("GET", "/console/reports/content.csv", query={"rank": "clicks"})

    assert none["statusCode"] == 200
    assert '<option value="(no campaign)" selected>' in none["body"]
    assert '<option value="visits" selected>' in none["body"] and "No content has visits yet." in none["body"]
    assert unknown["statusCode"] == 422 and "has no funnel rolled up" in unknown["body"]
    assert bad_rank["statusCode"] == 422 and "is approvals or visits" in bad_rank["body"]
    assert bad_csv["statusCode"] == 422 and "text/csv" not in bad_csv["headers"]["Content-Type"]


@pytest.mark.parametrize("path", ["/console/reports/campaigns.csv", "/console/reports/content.csv"])
def test_the_rollup_csvs_need_an_admin_session(library, issuer, path):
    reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    anonymous = Browser().call("GET", path)
    browser = Browser()
    refused = sign_in(browser, issuer, NOT_ADMIN)

    assert anonymous["statusCode"] == 303 and "text/csv" not in anonymous["headers"].get("Content-Type", "")
    assert refused["statusCode"] == 403
    assert browser.call("GET", path)["statusCode"] == 303


def test_reading_the_rollup_pages_writes_nothing(library, issuer):
    reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    browser = signed_in(issuer)
    before = library["dynamodb"].scan(TableName=TABLE)["Items"]

    for path in ("/console/reports", "/console/reports/campaigns.csv", "/console/reports/content.csv"):
        browser.call("GET", path)
        browser.call("HEAD", path)
    browser.call("GET", "/console/leaderboards/teams")

    after = library["dynamodb"].scan(TableName=TABLE)["Items"]
    changed = [item for item in after if item not in before and not item["PK"]["S"].startswith("CONSOLE#")]
    assert changed == []


def test_the_console_team_board_shows_an_award_after_the_rollup_as_of_its_time(library, issuer):
    # Given a roll-up, then Ada's approval of Rome (engineering) the roll-up has not seen
    reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    browser = signed_in(issuer)

    def engineering_points() -> str:
        page = browser.call("GET", "/console/leaderboards/teams")["body"]
        found = re.search(r'<th scope="row">engineering</th><td>[^<]*</td><td>(\d+)</td>', page)
        assert found, page
        assert "Points and participants as of" in page
        return found.group(1)

    assert engineering_points() == "10"
    rome = approval_image("ada@example.com") | {"content_id": {"S": content_id("rome")}}
    rome["SK"] = {"S": keys.approval_sk(content_id("rome"), "sandbox")}
    rome["approval_id"] = {"S": "a-ada-rome"}
    assert scoring_handler.lambda_handler({"Records": [record(rome)]}, FakeLambdaContext()) == {"batchItemFailures": []}
    assert engineering_points() == "10"  # as of the last roll-up

    # When the next roll-up runs, Then the board shows it, in 2 calls besides the session
    reports_handler.lambda_handler({"job": "rollup"}, FakeLambdaContext())
    bootstrap.console_app.cache_clear()
    with count_aws_calls(keep_requests=True) as calls:
        assert engineering_points() == "20"
    # the session, the census, the roll-up
    assert sorted(operation for operation, _ in calls.requests) == ["dynamodb.GetItem"] * 2 + ["dynamodb.Query"]
    assert denied("ConsoleFunction", calls.requests) == []


def test_before_any_rollup_the_reports_say_not_computed_yet_and_the_team_board_counts_now(library, issuer):
    browser = signed_in(issuer)

    reports = browser.call("GET", "/console/reports")["body"]
    teams = browser.call("GET", "/console/leaderboards/teams")["body"]
    empty = browser.call("GET", "/console/reports/campaigns.csv")["body"]

    assert reports.count("Not computed yet") == 2
    assert "Points and participants counted now (not rolled up yet)." in teams
    assert re.search(r'<th scope="row">engineering</th><td>[^<]*</td><td>10</td>', teams)
    assert empty.strip().splitlines() == [
        "campaign,items,sent,opened,approvals,publications,visits,points,figures_as_of"
    ]
