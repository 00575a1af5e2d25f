"""CLI helpers: upload keys, report keys, report printing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chorus_local.cli import build_parser, format_report, print_report, report_key, upload_key


def test_upload_and_report_keys() -> None:
    key = upload_key("content", Path("/tmp/x/content.csv"), datetime(2025, 1, 2, tzinfo=UTC))
    assert key == "uploads/content/2025/01/02/content.csv"
    assert report_key(key) == "reports/uploads/content/2025/01/02/content.csv.json"
    assert report_key("reports/a.json") == "reports/a.json"


REPORT = {
    "key": "uploads/content/2025/01/02/c.csv",
    "kind": "content",
    "format": "csv",
    "status": "completed",
    "counts": {"rows": 3, "accepted": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 1},
    "errors": [{"line": 3, "field": "url", "reason": "not a URL"}],
    "warnings": [{"reason": "column x ignored"}],
}


def test_report_summary_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    lines = format_report(REPORT)
    assert lines[0] == "uploads/content/2025/01/02/c.csv: completed (content, csv)"
    assert lines[1] == "rows 3, accepted 2, created 2, updated 0, unchanged 0, rejected 1"
    assert "  line 3, field url: not a URL" in lines
    assert "  column x ignored" in lines
    assert print_report(REPORT) == 1
    clean = {**REPORT, "errors": [], "counts": {"rows": 1, "rejected": 0}}
    assert print_report(clean) == 0
    assert print_report({}) == 0  # defensive with missing keys
    capsys.readouterr()


def test_parser_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_API_PORT", "3100")
    args = build_parser().parse_args(["local", "up"])
    assert args.api_port == 3100
    assert args.aws_port == 4566
    assert not args.detach
    token = build_parser().parse_args(["local", "admin-token", "--group", "a", "--group", "b"])
    assert token.group == ["a", "b"]
