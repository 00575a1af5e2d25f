"""The console's server-rendered SVG charts: an image named by its title, its values spelled out
in its desc, every text escaped, the bars where the geometry puts them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chorus.domain.overview import bar_chart
from chorus.messages.rendering import environment
from chorus.web.rendering import PAGE_TEMPLATES

SVG = "{http://www.w3.org/2000/svg}"


def chart_svg(chart, title: str, unit: str = "") -> ET.Element:
    macro = environment(PAGE_TEMPLATES).get_template("pages/console/chart.html.j2").module.bar_chart_svg
    markup = str(macro(chart, "c", title, unit)).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1)
    return ET.fromstring(markup)


def test_the_chart_is_an_image_named_by_its_title_and_described_by_its_values():
    chart = bar_chart([("2026-W48 (23 Nov)", 3), ("2026-W49 (30 Nov)", 6)], ticks=["W48", "W49"])

    svg = chart_svg(chart, "Approvals per week")

    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find(f"{SVG}title").text == "Approvals per week"
    assert svg.find(f"{SVG}desc").text.startswith("2026-W48 (23 Nov): 3; 2026-W49 (30 Nov): 6.")
    rects = svg.findall(f"{SVG}rect")
    assert [float(rect.get("height")) for rect in rects] == [bar.height for bar in chart.bars]
    assert float(rects[1].get("height")) == 2 * float(rects[0].get("height"))
    assert [text.text for text in svg.findall(f"{SVG}text")][1:] == ["W48", "W49"]


def test_names_in_a_chart_are_escaped():
    chart = bar_chart([("1. <script>alert(1)</script> & co", 12)], ticks=["1"])

    svg = chart_svg(chart, "Top <b>advocates</b>", "%")

    # parsed as XML: the tags are text, never elements
    assert svg.find(f"{SVG}title").text == "Top <b>advocates</b>"
    assert "<script>alert(1)</script> & co: 12%" in svg.find(f"{SVG}desc").text
    assert svg.find(f".//{SVG}script") is None


def test_an_empty_chart_says_so():
    svg = chart_svg(bar_chart([]), "Top advocates")

    assert svg.find(f"{SVG}desc").text.startswith("No data yet")
    assert svg.findall(f"{SVG}rect") == []
