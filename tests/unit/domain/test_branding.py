"""The company's brand: "Acme via Chorus", an https logo, an accent colour kept readable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.branding import Brand, contrast_with_white, https_origin, readable_on_white

COLOURS = st.integers(min_value=0, max_value=0xFFFFFF).map(lambda value: f"#{value:06x}")


@given(COLOURS)
def test_any_accent_is_made_readable_on_white_and_a_readable_one_is_kept(colour):
    readable = readable_on_white(colour)
    assert contrast_with_white(readable) >= 4.5
    if contrast_with_white(colour) >= 4.5:
        assert readable == colour


def test_contrast_matches_wcag_reference_values():
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#767676"), 2) == 4.54  # the lightest grey that passes AA
    assert contrast_with_white("#777777") < 4.5


def test_names():
    assert Brand("Acme").display_name == "Acme via Chorus"
    assert Brand("Acme").sender_name("Chorus") == "Acme via Chorus"
    assert Brand().display_name == "Chorus" and Brand().sender_name("Chorus at Example") == "Chorus at Example"


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.acme.com/logo.png",
        "javascript:alert(1)",
        "https://user:pw@cdn.acme.com/logo.png",
        "https:///logo.png",
        'https://cdn.acme.com/a"onerror="x.png',
        "https://cdn.acme.com/a b.png",
        "data:image/png;base64,AAAA",
    ],
)
def test_a_logo_must_be_a_plain_https_url(url):
    with pytest.raises(ValueError):
        Brand(logo_url=url)


def test_the_logos_origin_is_what_the_csp_names():
    assert Brand(logo_url="https://CDN.acme.com:8443/brand/logo.svg?v=2").logo_origin == "https://cdn.acme.com:8443"
    assert https_origin("https://cdn.acme.com/x") == "https://cdn.acme.com"


@pytest.mark.parametrize("colour", ["red", "#fff", "#12345g", "#1234567", ""])
def test_an_accent_must_be_rrggbb(colour):
    with pytest.raises(ValueError):
        Brand(accent=colour)
