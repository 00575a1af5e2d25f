"""CatalogStore.created_items (what bench.console_calls puts to seed 10,000 employees) is exactly
what an upload writes when it creates the same rows: a benchmark seeded with it reads the table
the product would have."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chorus import clock
from chorus.domain.content import ContentRow
from chorus.domain.employee import EmployeeRow
from chorus.services.ingest import IngestService
from chorus.store import keys
from chorus.store.catalog import CatalogStore
from tests.conftest import TABLE

EMPLOYEES = [
    {"email": "ada@example.com", "name": "Ada", "timezone": "Europe/Paris", "groups": ["sales"], "locale": "fr"},
    {"email": "bob@example.com", "name": "Bob", "active": "false"},
]
CONTENTS = [
    {"id": "launch", "title": "Launch", "url": "https://example.com/launch", "text": "We launched"},
    {
        "title": "Dated",
        "url": "https://example.com/dated",
        "text": "Soon",
        "text_linkedin": "Soon, on LinkedIn",
        "campaign": "autumn",
        "starts_at": "2026-12-01T09:00:00+00:00",
        "points": "5",
    },
]


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    clock.install(lambda: datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    yield
    clock.install(None)


def table_items(aws: dict[str, Any]) -> list[dict[str, Any]]:
    items = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def test_created_items_are_the_items_an_upload_creates(
    aws: dict[str, Any], service: IngestService, upload: Any, frozen_clock: None
) -> None:
    # Given the same roster and content rows, once uploaded and once built by the store
    for kind, rows in (("employees", EMPLOYEES), ("content", CONTENTS)):
        key = f"uploads/{kind}/rows.jsonl"
        upload(key, "\n".join(json.dumps(row) for row in rows))
        report = service.ingest_object(key)
        assert report.counts.rejected == 0, report.errors
    uploaded = [item for item in table_items(aws) if item["PK"]["S"] != keys.DIGEST_ZONES]

    # When the store builds the items of the same rows
    built = CatalogStore(aws["dynamodb"], TABLE).created_items(
        employees=[EmployeeRow.model_validate(row).to_entity() for row in EMPLOYEES],
        contents=[ContentRow.model_validate(row).to_entity() for row in CONTENTS],
    )

    # Then they are the uploaded items, attribute for attribute (keys, indexes, defaults, version)
    assert sorted(built, key=lambda item: (item["PK"]["S"], item["SK"]["S"])) == uploaded
    assert len(uploaded) == len(EMPLOYEES) + len(CONTENTS)
