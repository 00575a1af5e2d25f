"""Row models: each field fails with a reason an admin can act on; identities are stable."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chorus.domain.content import CONTENT_REQUIRED_COLUMNS, ContentRow, content_columns, content_id_for
from chorus.domain.employee import EmployeeRow, employee_id_for
from chorus.domain.fields import MAX_NAMES, formula_problem
from chorus.domain.problems import field_problems
from chorus.domain.tabular import ReadLimits, SourceRow, TabularReader, UploadFormat

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
            ("text", "is required (or one of text_linkedin, text_x, text_mastodon, text_bluesky)"),
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


FORMULA_REASON = "which spreadsheets run as a formula"


class TestFormulaGuard:
    """A formula is refused on the value as stored: after trimming and line-ending normalisation."""

    @pytest.mark.parametrize(
        "cell",
        [
            "=cmd|' /C calc'!A0",
            "@SUM(A1:A2)",
            '+HYPERLINK("x")',
            "-2+3*A1",
            " =1+2",
            "\t=1+2",
            "   \t @SUM(A1)",
            "\n=cmd|' /C calc'!A0",
            "\r\n=cmd|' /C calc'!A0",
            "\u00a0=1+2",
            "\u3000=1+2",
            "\u200b=1+2",
        ],
    )
    @pytest.mark.parametrize("field", ["title", "campaign", "text", "text_x"])
    def test_formula_after_leading_blanks_is_refused(self, cell, field):
        [(name, reason)] = problems_of(ContentRow, {**VALID, field: cell})
        assert name == field and FORMULA_REASON in reason

    def test_formula_in_a_roster_name_is_refused(self):
        [(name, reason)] = problems_of(EmployeeRow, {"email": "a@b.co", "name": ' =HYPERLINK("x")'})
        assert name == "name" and FORMULA_REASON in reason

    @pytest.mark.parametrize(
        "cell", ["- our new office", "+33 1 23 45 67 89", "Hello = world", "-10% off", "- see room B12", "\tQ3"]
    )
    def test_ordinary_text_is_kept(self, cell):
        assert formula_problem(cell) is None
        assert ContentRow.model_validate({**VALID, "title": cell}).title == cell.strip()


class TestControlCharacters:
    SINGLE_LINE_REFUSED = ["\r", "\n", "\r\n", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]
    BIDI = ["\u202a", "\u202e", "\u2066", "\u2069"]

    @pytest.mark.parametrize("char", SINGLE_LINE_REFUSED + BIDI)
    @pytest.mark.parametrize(
        ("model", "base", "field"),
        [
            (EmployeeRow, {"email": "a@b.co", "name": "Ada"}, "name"),
            (ContentRow, VALID, "title"),
            (ContentRow, VALID, "campaign"),
            (ContentRow, {**VALID, "id": "n-1"}, "id"),
            (ContentRow, VALID, "groups"),
            (ContentRow, VALID, "tags"),
        ],
    )
    def test_single_line_fields_refuse_controls_inside(self, model, base, field, char):
        # Given a value with the character inside (a name that would carry "\r\nBcc: ..." into a header)
        value = f"ada{char}bcc"
        # When validated, Then it is refused, naming the character
        [(name, reason)] = problems_of(model, {**base, field: value})
        assert name == field
        assert "must be a single line of plain text" in reason and "U+" in reason

    @pytest.mark.parametrize("char", SINGLE_LINE_REFUSED + BIDI)
    def test_email_timezone_locale_and_urls_refuse_controls(self, char):
        assert ("email", "contains") in {
            (field, reason.split(" ")[0])
            for field, reason in problems_of(EmployeeRow, {"email": f"a{char}x@b.co", "name": "A"})
        }
        assert {
            field
            for field, _ in problems_of(
                EmployeeRow, {"email": "a@b.co", "name": "A", "timezone": f"Europe/Paris{char}x"}
            )
        } == {"timezone"}
        assert {
            field for field, _ in problems_of(EmployeeRow, {"email": "a@b.co", "name": "A", "locale": f"fr{char}FR"})
        } == {"locale"}
        assert {field for field, _ in problems_of(ContentRow, {**VALID, "url": f"https://example.com/a{char}b"})} == {
            "url"
        }

    def test_the_reason_names_the_character_and_its_position(self):
        assert problems_of(EmployeeRow, {"email": "a@b.co", "name": "Ada\r\nBcc: eve@example.com"}) == {
            ("name", "contains a carriage return (U+000D) at character 4; it must be a single line of plain text")
        }

    def test_surrounding_blanks_and_line_breaks_are_trimmed(self):
        assert EmployeeRow.model_validate({"email": " a@b.co\r\n", "name": "\tAda Lovelace\n"}).name == "Ada Lovelace"

    def test_post_texts_keep_line_breaks_and_tabs_with_crlf_as_lf(self):
        row = ContentRow.model_validate({**VALID, "text": "First line\r\n\tindented\rthird\n\nlast\r\n"})
        assert row.text == "First line\n\tindented\nthird\n\nlast"

    @pytest.mark.parametrize(
        "char", ["\x00", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u202e"]
    )
    def test_post_texts_refuse_other_controls(self, char):
        [(name, reason)] = problems_of(ContentRow, {**VALID, "text_linkedin": f"Hello{char}world"})
        assert name == "text_linkedin"
        assert "a post text may hold line breaks and tabs but no other control characters" in reason

    def test_lone_surrogates_are_refused(self):
        assert problems_of(ContentRow, {**VALID, "title": "Caf\ud800"}) == {
            ("title", "is not valid Unicode text (it holds a lone UTF-16 surrogate)")
        }

    def test_echoed_values_are_escaped_and_short(self):
        [(_, reason)] = problems_of(EmployeeRow, {"email": "a@b.co", "name": "A", "locale": "\u202e" + "x" * 80})
        assert reason.startswith("'\\u202E")
        assert "…'" in reason and len(reason) < 120


class TestBoundedValues:
    def test_dates_beyond_what_utc_can_hold_are_refused(self):
        assert problems_of(ContentRow, {**VALID, "starts_at": "0001-01-01T00:00:00+05:00"}) == {
            ("starts_at", "is out of the range of dates Chorus can store")
        }

    @pytest.mark.parametrize("points", ["9" * 5000, "١٢", "1e3"])
    def test_points_are_a_few_ascii_digits(self, points):
        assert problems_of(ContentRow, {**VALID, "points": points}) == {("points", "must be a whole number")}

    def test_a_cell_holds_at_most_so_many_groups(self):
        groups = ";".join(f"g{i}" for i in range(MAX_NAMES + 1))
        assert problems_of(ContentRow, {**VALID, "groups": groups}) == {
            ("groups", f"holds more than {MAX_NAMES} names")
        }


_REFUSED_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_REFUSED_IN_A_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_awkward = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(" \t\r\n\x00\x1b\x85\u00a0\u200b\u2028\u202e=@+-"),
    ),
    max_size=30,
)


@given(_awkward)
def test_what_is_stored_is_trimmed_single_line_and_never_a_formula(value):
    for model, base, field in ((ContentRow, VALID, "title"), (EmployeeRow, {"email": "a@b.co"}, "name")):
        try:
            stored = model.model_validate({**base, field: value}).__getattribute__(field)
        except ValidationError:
            continue
        if stored is not None:
            assert stored == stored.strip()
            assert not _REFUSED_IN_A_LINE.search(stored)
            assert formula_problem(stored) is None


@given(_awkward)
def test_a_stored_post_text_keeps_only_line_breaks_and_tabs(value):
    try:
        stored = ContentRow.model_validate({**VALID, "text": value}).text
    except ValidationError:
        return
    if stored is not None:
        assert stored == stored.strip() and "\r" not in stored
        assert not _REFUSED_IN_A_TEXT.search(stored)
        assert formula_problem(stored) is None


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
        known_columns=content_columns(),
        required_columns=CONTENT_REQUIRED_COLUMNS,
        limits=ReadLimits(max_bytes=10**6),
    )
    read = [row for row in reader if isinstance(row, SourceRow)]
    assert [(row.values["title"], row.values["text"]) for row in read] == rows
