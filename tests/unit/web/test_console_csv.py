"""The console's CSV downloads: RFC 4180 lines, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

from chorus.web.console.overview import csv_response


def test_a_cell_starting_like_a_formula_is_quoted_and_numbers_stay_numbers():
    response = csv_response(("name", "points"), [{"name": "=HYPERLINK(1)", "points": -5}], "x.csv")

    assert response.body == "name,points\r\n'=HYPERLINK(1),-5\r\n"
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response.content_type == "text/csv; charset=utf-8"
