"""Ingestion on moto: valid rows kept, bad rows reported, re-uploads change nothing."""

from __future__ import annotations

import json

from chorus.domain.content import content_id_for
from chorus.domain.employee import employee_id_for
from tests.conftest import BUCKET, ENVIRONMENT

CONTENT_CSV = (
    "id,title,url,text,text_x,groups,tags,starts_at,ends_at,points\n"
    "n-1,New office,https://example.com/office,We opened in Lyon,Lyon!,sales;paris,news,2026-11-23,2026-12-06,20\n"
    "n-2,Bad link,javascript:alert(1),Click,,,,,,\n"
    'n-3,=HYPERLINK("x"),https://example.com/3,Formula,,,,,,\n'
    ",Launch,https://example.com/launch,Our product launch,,,,,,\n"
)

ROSTER_CSV = (
    "email,name,groups,timezone,locale,active\n"
    "Ada@Example.com,Ada Lovelace,engineering,Europe/London,en,yes\n"
    "grace@example.com,Grace Hopper,engineering;leads,America/New_York,en-US,\n"
    "ADA@example.com,Ada Again,sales,Europe/Paris,fr,\n"
    "linus@example.com,Linus,ops,Mars/Olympus,en,\n"
)


class TestContentUpload:
    def test_valid_rows_are_kept_bad_rows_reported(self, service, upload, stored_report, item):
        # Given a content file with two good and two bad rows
        key = "uploads/content/2026/11/23/news.csv"
        upload(key, CONTENT_CSV)
        # When it is ingested
        report = service.ingest_object(key)
        # Then the good rows are stored, the bad ones listed with line, field and reason
        assert report.counts.model_dump() == {
            "rows": 4,
            "accepted": 2,
            "created": 2,
            "updated": 0,
            "unchanged": 0,
            "rejected": 2,
        }
        assert [(e.line, e.field) for e in report.errors] == [(3, "url"), (4, "title")]
        assert report.status == "partial"
        assert stored_report(key) == json.loads(report.model_dump_json())
        stored = item(f"CONTENT#{content_id_for('n-1', '', '')}", "META")
        assert stored["title"] == "New office"
        assert stored["texts"] == {"x": "Lyon!"}
        assert stored["groups"] == ["sales", "paris"]
        assert stored["status"] == "active"
        assert stored["GSI2PK"] == "CONTENT#active"
        assert stored["points"] == 20

    def test_reupload_changes_nothing(self, service, upload, aws, item):
        key = "uploads/content/news.csv"
        upload(key, CONTENT_CSV)
        service.ingest_object(key)
        pk = f"CONTENT#{content_id_for('n-1', '', '')}"
        before = item(pk, "META")
        # When the same file is uploaded again
        again = service.ingest_object(key)
        # Then nothing is written
        assert again.counts.unchanged == 2 and again.counts.created == again.counts.updated == 0
        assert item(pk, "META") == before

    def test_changed_row_is_updated_in_place(self, service, upload, item):
        upload("uploads/content/a.csv", CONTENT_CSV)
        service.ingest_object("uploads/content/a.csv")
        upload("uploads/content/b.csv", CONTENT_CSV.replace("We opened in Lyon", "We opened in Lyon and Nantes"))
        report = service.ingest_object("uploads/content/b.csv")
        assert (report.counts.updated, report.counts.unchanged) == (1, 1)
        stored = item(f"CONTENT#{content_id_for('n-1', '', '')}", "META")
        assert stored["text"] == "We opened in Lyon and Nantes"
        assert stored["version"] == 2

    def test_reupload_never_revives_retracted_content(self, service, upload, item, aws):
        from chorus.store.catalog import CatalogStore

        upload("uploads/content/a.csv", CONTENT_CSV)
        service.ingest_object("uploads/content/a.csv")
        content_id = content_id_for("n-1", "", "")
        CatalogStore(aws["dynamodb"], ENVIRONMENT["TABLE_NAME"]).retract_content(content_id)
        upload("uploads/content/b.csv", CONTENT_CSV.replace("We opened in Lyon", "Edited after retraction"))
        service.ingest_object("uploads/content/b.csv")
        stored = item(f"CONTENT#{content_id}", "META")
        assert stored["status"] == "retracted"
        assert stored["GSI2PK"] == "CONTENT#retracted"  # out of the active listing, in the console's
        assert stored["text"] == "Edited after retraction"

    def test_the_original_object_is_untouched(self, service, upload, aws):
        key = "uploads/content/news.csv"
        version = upload(key, CONTENT_CSV)
        service.ingest_object(key, version)
        versions = aws["s3"].list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
        assert [v["VersionId"] for v in versions] == [version]
        assert aws["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read().decode() == CONTENT_CSV

    def test_too_large_file_is_refused_whole_with_the_limit(self, service, upload):
        key = "uploads/content/huge.csv"
        upload(key, "title,url,text\n" + "A,https://example.com/a,t\n" * 50_000)
        report = service.ingest_object(key)
        assert report.status == "rejected"
        assert "the limit is 1.0 MiB" in report.file_errors[0].reason

    def test_unknown_extension(self, service, upload, stored_report):
        upload("uploads/content/news.xlsx", b"PK\x03\x04")
        report = service.ingest_object("uploads/content/news.xlsx")
        assert report.status == "rejected"
        assert ".csv, .json, .jsonl" in stored_report("uploads/content/news.xlsx")["file_errors"][0]["reason"]

    def test_json_lines_and_array_are_equivalent(self, service, upload):
        rows = [{"id": "j-1", "title": "T", "url": "https://example.com/j", "text": "x", "groups": ["a"]}]
        upload("uploads/content/a.json", json.dumps(rows))
        upload("uploads/content/b.jsonl", "\n".join(json.dumps(r) for r in rows))
        assert service.ingest_object("uploads/content/a.json").counts.created == 1
        assert service.ingest_object("uploads/content/b.jsonl").counts.unchanged == 1


class TestRosterUpload:
    def test_emails_normalised_duplicates_and_bad_rows_reported(self, service, upload, item):
        key = "uploads/employees/roster.csv"
        upload(key, ROSTER_CSV)
        report = service.ingest_object(key)
        assert report.counts.accepted == 2
        assert [(e.line, e.field, e.reason) for e in report.errors] == [
            (4, "email", "duplicate of line 2 (same email); not imported"),
            (5, "timezone", "'Mars/Olympus' is not an IANA time zone name (like Europe/Paris)"),
        ]
        ada = item(f"EMP#{employee_id_for('ada@example.com')}", "PROFILE")
        assert ada["email"] == "ada@example.com"
        assert ada["GSI1PK"] == "EMAIL#ada@example.com"
        assert ada["GSI2PK"] == "ROSTER#active"
        assert ada["digest_opt_in"] is True

    def test_marking_inactive_removes_from_roster_and_keeps_opt_out(self, service, upload, item, aws):
        upload("uploads/employees/a.csv", ROSTER_CSV)
        service.ingest_object("uploads/employees/a.csv")
        pk = f"EMP#{employee_id_for('grace@example.com')}"
        # Given Grace unsubscribed from digests
        aws["dynamodb"].update_item(
            TableName=ENVIRONMENT["TABLE_NAME"],
            Key={"PK": {"S": pk}, "SK": {"S": "PROFILE"}},
            UpdateExpression="SET digest_opt_in = :no, #v = #v + :one",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={":no": {"BOOL": False}, ":one": {"N": "1"}},
        )
        # When a roster marks her as having left
        upload(
            "uploads/employees/b.csv",
            "email,name,groups,timezone,locale,active\n"
            "grace@example.com,Grace Hopper,engineering,America/New_York,en-US,inactive\n",
        )
        report = service.ingest_object("uploads/employees/b.csv")
        # Then she leaves the active roster and her opt-out stands
        assert report.counts.updated == 1
        grace = item(pk, "PROFILE")
        assert grace["active"] is False
        assert "GSI2PK" not in grace
        assert grace["digest_opt_in"] is False

    def test_concurrent_change_between_read_and_write_is_not_clobbered(self, service, upload, item, aws):
        """A write conditioned on the version read retries instead of overwriting a newer change."""
        from chorus.store.catalog import CatalogStore

        upload("uploads/employees/a.csv", ROSTER_CSV)
        service.ingest_object("uploads/employees/a.csv")
        pk = f"EMP#{employee_id_for('grace@example.com')}"
        store = CatalogStore(aws["dynamodb"], ENVIRONMENT["TABLE_NAME"])
        original_read = store._read_versions
        calls = {"n": 0}

        def read_then_unsubscribe(keys):
            found = original_read(keys)
            calls["n"] += 1
            if calls["n"] == 1:  # someone unsubscribes right after our read
                aws["dynamodb"].update_item(
                    TableName=ENVIRONMENT["TABLE_NAME"],
                    Key={"PK": {"S": pk}, "SK": {"S": "PROFILE"}},
                    UpdateExpression="SET digest_opt_in = :no, #v = #v + :one",
                    ExpressionAttributeNames={"#v": "version"},
                    ExpressionAttributeValues={":no": {"BOOL": False}, ":one": {"N": "1"}},
                )
            return found

        store._read_versions = read_then_unsubscribe  # type: ignore[method-assign]
        from chorus.domain.employee import EmployeeRow

        grace = EmployeeRow.model_validate(
            {"email": "grace@example.com", "name": "Grace B. Hopper", "groups": "engineering"}
        ).to_entity()
        assert store.upsert_employees([grace]) == ["updated"]
        stored = item(pk, "PROFILE")
        assert stored["name"] == "Grace B. Hopper"
        assert stored["digest_opt_in"] is False
        assert calls["n"] == 2  # read, conflict, re-read, write
