"""Row models: each field fails with a reason an admin can act on; identities are stable."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chorus.domain.content import CONTENT_COLUMNS, CONTENT_REQUIRED_COLUMNS, ContentRow, content_id_for
from chorus.domain.employee import EmployeeRow, employee_id_for
from chorus.domain.problems import field_problems
from chorus.domain.tabular import SourceRow, TabularReader, UploadFormat

VALID = {"title": "Office", "url": "https://example.com/office", "text": "We opened in Lyon"}


def problems_of(model, values):
    try:
        row = model.model_validate(values)
    except ValidationError as exc:
        return {(p.field, p.reason) for p in field_problems(exc)}
    return {(p.field, p.reason) for p in row.problems()}


class TestContentRow:
    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("javascript:alert(1)", "must be an https:// URL (got a javascript: URL)"),
            ("http://example.com", "must be an https:// URL (got a http: URL)"),
            ("example.com/x", "must be an https:// URL (got no scheme)"),
            ("https://user:pw@example.com", "must not carry a user name or password"),
            ("https://exa mple.com", "must not contain spaces"),
            ("https://localhost/x", "must name a host, like https://example.com/page"),
        ],
    )
    def test_url_must_be_https(self, url, reason):
        assert problems_of(ContentRow, {**VALID, "url": url}) == {("url", reason)}

    def test_image_url_is_checked_too(self):
        assert problems_of(ContentRow, {**VALID, "image_url": "data:image/png;base64,xx"}) == {
            ("image_url", "must be an https:// URL (got a data: URL)")
        }

    def test_required_fields(self):
        assert problems_of(ContentRow, {"title": " "}) == {
            ("title", "is required"),
            ("url", "is required"),
            ("text", "is required (or one of text_linkedin, text_x, text_mastodon)"),
        }

    def test_network_limits(self):
        # As each network counts, leaving room for the link the post carries (" " + 23 on X,
        # "\n\n" + 23 on Mastodon): what an employee can approve unchanged.
        found = problems_of(ContentRow, {**VALID, "text_x": "x" * 257, "text_mastodon": "m" * 476})
        assert found == {
            ("text_x", "is 257 characters as x counts them; at most 256"),
            ("text_mastodon", "is 476 characters as mastodon counts them; at most 475"),
        }
        assert problems_of(ContentRow, {**VALID, "text_x": "x" * 256, "text_mastodon": "m" * 475}) == set()

    def test_x_counts_cjk_twice(self):
        assert problems_of(ContentRow, {**VALID, "text_x": "漢" * 128}) == set()
        assert problems_of(ContentRow, {**VALID, "text_x": "漢" * 129}) == {
            ("text_x", "is 258 characters as x counts them; at most 256")
        }

    def test_linkedin_counts_the_escaped_text(self):
        assert problems_of(ContentRow, {**VALID, "text_linkedin": "#" * 1500}) == set()
        assert problems_of(ContentRow, {**VALID, "text_linkedin": "#" * 1501}) == {
            ("text_linkedin", "is 3002 characters as linkedin counts them; at most 3000")
        }

    def test_window_and_points(self):
        found = problems_of(ContentRow, {**VALID, "starts_at": "2026-12-02", "ends_at": "2026-12-01", "points": "5000"})
        assert found == {("ends_at", "must be after starts_at"), ("points", "must be between 0 and 1000")}

    def test_bad_date_has_an_example(self):
        assert problems_of(ContentRow, {**VALID, "starts_at": "next monday"}) == {
            ("starts_at", "must be a date (2026-12-01) or a date-time (2026-12-01T09:00:00+01:00)")
        }

    def test_dates_expand_to_whole_days_in_utc(self):
        content = ContentRow.model_validate({**VALID, "starts_at": "2026-12-01", "ends_at": "2026-12-07"}).to_entity()
        assert content.starts_at == datetime(2026, 12, 1, tzinfo=UTC)
        assert content.ends_at == datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC)

    def test_lists_from_csv_and_json_agree(self):
        from_csv = ContentRow.model_validate({**VALID, "groups": "Sales; Paris Office", "tags": "a,b,a"}).to_entity()
        from_json = ContentRow.model_validate(
            {**VALID, "groups": ["sales", "paris-office"], "tags": ["a", "b"]}
        ).to_entity()
        assert from_csv.groups == from_json.groups == ["sales", "paris-office"]
        assert from_csv.tags == ["a", "b"]
        assert from_csv.fingerprint() == from_json.fingerprint()

    def test_identity_is_external_id_else_url_and_campaign(self):
        assert content_id_for("n-1", "https://a.example", "") == content_id_for("n-1", "https://b.example", "x")
        assert content_id_for(None, "https://a.example", "q1") != content_id_for(None, "https://a.example", "q2")

    def test_fingerprint_changes_with_content(self):
        first = ContentRow.model_validate(VALID).to_entity()
        second = ContentRow.model_validate({**VALID, "text": "changed"}).to_entity()
        assert first.content_id == second.content_id
        assert first.fingerprint() != second.fingerprint()


class TestEmployeeRow:
    def test_email_is_normalised_and_identity_follows(self):
        employee = EmployeeRow.model_validate({"email": "  Ada@Example.COM ", "name": "Ada"}).to_entity()
        assert employee.email == "ada@example.com"
        assert employee.employee_id == employee_id_for("ada@example.com")
        assert (employee.timezone, employee.locale, employee.active) == ("UTC", "en", True)

    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            ({"email": "not-an-email", "name": "X"}, {("email", "'not-an-email' is not a valid address")}),
            (
                {"email": "a@b.co", "name": "X", "timezone": "Paris"},
                {("timezone", "'Paris' is not an IANA time zone name (like Europe/Paris)")},
            ),
            (
                {"email": "a@b.co", "name": "X", "locale": "french"},
                {("locale", "'french' is not a language tag like en or fr-FR")},
            ),
            (
                {"email": "a@b.co", "name": "X", "active": "maybe"},
                {("active", "must be true/false (or yes/no, active/inactive)")},
            ),
            ({"email": "a@b.co"}, {("name", "is required")}),
        ],
    )
    def test_bad_values(self, values, expected):
        assert problems_of(EmployeeRow, values) == expected

    def test_inactive_and_locale_forms(self):
        employee = EmployeeRow.model_validate(
            {
                "email": "a@b.co",
                "name": "X",
                "active": "inactive",
                "locale": "fr_fr",
                "timezone": "Europe/Paris",
            }
        ).to_entity()
        assert (employee.active, employee.locale, employee.timezone) == (False, "fr-FR", "Europe/Paris")


# Cells a spreadsheet would hold: any text without formula prefixes or NUL.
_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"), max_size=40
).filter(lambda value: not value.startswith(("=", "@", "+", "-")) and value.strip() == value)


@given(st.lists(st.tuples(_cell.filter(bool), _cell), min_size=1, max_size=20))
def test_csv_written_by_a_spreadsheet_reads_back_cell_for_cell(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["title", "url", "text"])
    for title, text in rows:
        writer.writerow([title, "https://example.com/x", text])
    data = buffer.getvalue().encode()
    reader = TabularReader(
        [data[i : i + 13] for i in range(0, len(data), 13)],
        UploadFormat.CSV,
        known_columns=CONTENT_COLUMNS,
        required_columns=CONTENT_REQUIRED_COLUMNS,
        max_bytes=10**6,
    )
    read = [row for row in reader if isinstance(row, SourceRow)]
    assert [(row.values["title"], row.values["text"]) for row in read] == rows
