"""Bounded retention in the template (issue 14): every function logs to a log group of its own
with the LogRetentionDays retention, raw uploads expire before their reports, the TTLs and the
ledger's retention are parameters that reach the functions that use them, and the settings
read them."""

from __future__ import annotations

from typing import Any

from chorus.config import DigestSenderSettings, RetentionSettings, WebSettings
from tests.conftest import ENVIRONMENT
from tests.support.template import resource, template

RETENTION_PARAMETERS = {
    "LogRetentionDays": 30,
    "UploadRetentionDays": 30,
    "ReportRetentionDays": 400,
    "VisitorHashRetentionHours": 24,
    "DigestMarkerRetentionDays": 60,
    "LedgerRetentionDays": 1096,
}


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template()["Resources"].items() if res["Type"] == kind}


def test_the_retention_parameters_and_their_defaults() -> None:
    parameters = template()["Parameters"]
    assert {name: int(parameters[name]["Default"]) for name in RETENTION_PARAMETERS} == RETENTION_PARAMETERS


def test_every_function_logs_to_a_group_kept_log_retention_days() -> None:
    groups = of_type("AWS::Logs::LogGroup")
    assert groups
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    for name, function in of_type("AWS::Serverless::Function").items():
        logging = function["Properties"].get("LoggingConfig") or {}
        assert logging.get("LogGroup", {}).get("Ref") in groups, f"{name} logs to a group without retention"
        assert logging.get("LogFormat") == "JSON", name


def test_raw_uploads_expire_before_their_reports() -> None:
    rules = {rule["Id"]: rule for rule in resource("UploadsBucket")["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-uploads"]["Prefix"] == "uploads/"
    assert rules["expire-uploads"]["ExpirationInDays"] == {"Ref": "UploadRetentionDays"}
    assert rules["expire-uploads"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rules["expire-reports"]["Prefix"] == "reports/"
    assert rules["expire-reports"]["ExpirationInDays"] == {"Ref": "ReportRetentionDays"}
    assert all(rule["Status"] == "Enabled" for rule in rules.values())


def test_exports_expire_in_a_week_and_unfinished_uploads_of_them_in_a_day() -> None:
    # An export streamed in parts by a function that was stopped leaves parts that neither a
    # listing nor an expiration rule reaches: only AbortIncompleteMultipartUpload removes them.
    rules = {rule["Id"]: rule for rule in resource("UploadsBucket")["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert (rules["expire-points-reports"]["Prefix"], rules["expire-points-reports"]["ExpirationInDays"]) == (
        "exports/",
        7,
    )
    unfinished = rules["abort-unfinished-uploads"]
    assert unfinished["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "Prefix" not in unfinished and "Filter" not in unfinished  # every prefix: exports and any other


def test_the_ttls_and_the_ledger_retention_reach_the_functions_that_use_them() -> None:
    def variables(function: str) -> dict[str, Any]:
        found: dict[str, Any] = resource(function)["Properties"]["Environment"]["Variables"]
        return found

    assert variables("WebFunction")["VISITOR_HASH_RETENTION_HOURS"] == {"Ref": "VisitorHashRetentionHours"}
    assert variables("DigestSenderFunction")["DIGEST_MARKER_RETENTION_DAYS"] == {"Ref": "DigestMarkerRetentionDays"}
    assert variables("RetentionFunction")["LEDGER_RETENTION_DAYS"] == {"Ref": "LedgerRetentionDays"}
    [schedule] = resource("RetentionFunction")["Properties"]["Events"].values()
    assert schedule["Type"] == "ScheduleV2" and schedule["Properties"]["ScheduleExpression"].startswith("cron(")


def test_the_settings_read_the_retention_the_template_passes() -> None:
    web = WebSettings.from_env({**ENVIRONMENT, "VISITOR_HASH_RETENTION_HOURS": "48"})
    sender = DigestSenderSettings.from_env(
        {
            **ENVIRONMENT,
            "DIGEST_MARKER_RETENTION_DAYS": "90",
            "SENDER_EMAIL": "s@example.com",
            "SENDER_CONCURRENCY": "2",
        }
    )
    ledger = RetentionSettings.from_env({**ENVIRONMENT, "LEDGER_RETENTION_DAYS": "730"})
    assert (web.visitor_hash_hours, sender.digest_marker_days, ledger.ledger_retention_days) == (48, 90, 730)
    assert RetentionSettings.from_env(ENVIRONMENT).ledger_retention_days == RETENTION_PARAMETERS["LedgerRetentionDays"]
