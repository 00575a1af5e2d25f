"""``chorus demo``: the local cloud loaded with the sample roster and content, digest sent.

Only valid content goes live: ``content.csv`` is uploaded with its dates moved to this week (the
samples keep their gaps: what runs one, two or three weeks still does), so the demo never goes
empty. ``content-with-mistakes.csv`` is only checked, by the same ingest code, and its report
printed: its one valid row ("A valid row") is never imported, so it never reaches a digest.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from chorus.domain.content import Content
from chorus.domain.employee import Employee
from chorus.domain.report import IngestReport, UploadKind
from chorus.domain.tabular import UploadFormat
from chorus.services.ingest import IngestService
from chorus_local.console_login import DEMO_ADMIN_FILE

if TYPE_CHECKING:
    from chorus_local.cloud import LocalCloud

DATE_COLUMNS = ("starts_at", "ends_at")
LIVE_FILES = (("employees", "employees.csv"), ("content", "content.csv"))
CHECKED_FILE = ("content", "content-with-mistakes.csv")
HTTP_TIMEOUT = 30


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def rebase_dates(csv_text: str, today: date) -> str:
    """The CSV with its dates moved by whole weeks so the earliest falls in ``today``'s week."""
    reader = csv.DictReader(io.StringIO(csv_text))
    rows = list(reader)
    dates = [date.fromisoformat(row[column][:10]) for row in rows for column in DATE_COLUMNS if row.get(column)]
    if not dates:
        return csv_text
    shift = _monday(today) - _monday(min(dates))
    for row in rows:
        for column in DATE_COLUMNS:
            if row.get(column):
                row[column] = (date.fromisoformat(row[column][:10]) + shift).isoformat() + row[column][10:]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


class _NothingKept:
    """A catalog that keeps nothing: every valid row would be new."""

    @contextmanager
    def upsert_batch(self) -> Iterator[_NothingKept]:
        yield self

    def add_contents(self, contents: Sequence[Content]) -> Sequence[str]:
        return ["created"] * len(contents)

    def add_employees(self, employees: Sequence[Employee]) -> Sequence[str]:
        return ["created"] * len(employees)


class _Scratch:
    """Objects kept in memory for the length of one check."""

    def __init__(self) -> None:
        self.saved: dict[str, bytes] = {}

    def open(self, key: str, version_id: str | None = None) -> Any:
        raise KeyError(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.saved[key] = data


def check_without_importing(kind: str, path: Path, max_bytes: int) -> IngestReport:
    """The report an upload of ``path`` would get, with nothing stored anywhere."""
    fmt = UploadFormat.for_name(path.name)
    if fmt is None:
        raise ValueError(f"{path.name}: unknown format")
    service = IngestService(_NothingKept(), _Scratch(), max_bytes=max_bytes)
    return service.ingest_payload(UploadKind(kind), fmt, path.read_bytes(), f"checked/{kind}/{path.name}")


def load_demo(cloud: LocalCloud, root: Path) -> None:
    from chorus_local.cli import format_report

    samples = root / "events" / "samples"
    bucket = cloud.stack.physical_name("UploadsBucket")
    s3 = cloud.client("s3")
    today = cloud.clock.now().date()
    print("Loading the sample roster and content (dates moved to this week)...", flush=True)
    for kind, name in LIVE_FILES:
        body = (samples / name).read_text(encoding="utf-8")
        key = f"uploads/{kind}/{today:%Y/%m/%d}/{name}"
        s3.put_object(Bucket=bucket, Key=key, Body=rebase_dates(body, today).encode())
        cloud.settle()
        report = json.loads(s3.get_object(Bucket=bucket, Key=f"reports/{key}.json")["Body"].read())
        counts = report.get("counts", {})
        print(
            f"  {key}: {counts.get('accepted', 0)} accepted, {counts.get('rejected', 0)} rejected "
            f"(report: chorus report {key})",
            flush=True,
        )
    kind, name = CHECKED_FILE
    checked = check_without_importing(kind, samples / name, max_bytes=25 * 1024 * 1024)
    print(f"\nWhat an upload with mistakes gets back (checked only, nothing imported): {name}", flush=True)
    shown = checked.model_dump(mode="json")
    shown["counts"] = {key: shown["counts"][key] for key in ("rows", "accepted", "rejected")}
    for line in format_report(shown)[1:]:
        print(f"  {line}", flush=True)
    token = cloud.issuer.issue({"sub": "demo-admin", cloud.groups_claim: [cloud.admin_group]}, 3600)
    response = requests.post(
        f"{cloud.api_url}/admin/digests", headers={"Authorization": f"Bearer {token}"}, timeout=HTTP_TIMEOUT
    )
    answer = response.json()
    cloud.settle()  # the roster pages are planned and the batches sent
    week = requests.get(
        f"{cloud.api_url}/admin/digests", headers={"Authorization": f"Bearer {token}"}, timeout=HTTP_TIMEOUT
    ).json()
    print(
        f"\nWeekly digest ({answer.get('week_id')}): {week.get('queued')} recipients queued, "
        f"{week.get('sent')} sent ({answer.get('note', answer)})",
        flush=True,
    )
    print(f"\nOpen {cloud.api_url}/_local/outbox, click a magic link, approve a post on the sandbox network;")
    print(f"it appears on {cloud.api_url}/_local/feed when its time comes (`chorus local tick --to <time>`).")
    print(f"Admin API token (1 h of the local clock): {token}", flush=True)
    admin = cloud.console_logins.admin
    print(f"\nAdmin console: {cloud.api_url}/console", flush=True)
    print(
        f"  sign in as {admin.username} / {admin.password} (local-only demo admin, kept in "
        f"{cloud.config.state_dir / DEMO_ADMIN_FILE})\n",
        flush=True,
    )
