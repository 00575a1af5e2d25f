"""The Disclosure, RequireDisclosure, CompanyName, LogoUrl and AccentColor settings are checked at
cold start: a malformed one stops the function with its name, never a page with a broken brand."""

from __future__ import annotations

import pytest

from chorus.config import BrandSettings, DisclosureSettings, SettingsError
from chorus.domain.disclosure import Disclosure


def test_a_disclosure_per_language():
    settings = DisclosureSettings.from_env(
        {"DISCLOSURE": '{"en": "#employee", "fr": "#collaborateur"}', "REQUIRE_DISCLOSURE": "true"}
    )
    assert settings.disclosure_rule == Disclosure({"en": "#employee", "fr": "#collaborateur"}, required=True)
    assert DisclosureSettings.from_env({}).disclosure_rule == Disclosure()


@pytest.mark.parametrize(
    "environ",
    [
        {"DISCLOSURE": "#employee"},  # not JSON
        {"DISCLOSURE": '["#employee"]'},  # not an object
        {"DISCLOSURE": '{"english": "#employee"}'},  # not a language code
        {"DISCLOSURE": '{"en": ""}'},
        {"DISCLOSURE": '{"en": "#employee\\nBcc: x"}'},  # one line only
        {"DISCLOSURE": '{"en": "#employee\\u202e"}'},  # no bidirectional override
        {"DISCLOSURE": '{"en": "' + "x" * 41 + '"}'},
        {"REQUIRE_DISCLOSURE": "true"},  # required, but none set
        {"REQUIRE_DISCLOSURE": "maybe", "DISCLOSURE": '{"en": "#employee"}'},
    ],
)
def test_a_malformed_disclosure_stops_the_function(environ):
    with pytest.raises(SettingsError):
        DisclosureSettings.from_env(environ)


def test_the_brand():
    brand = BrandSettings.from_env(
        {"COMPANY_NAME": "Acme", "LOGO_URL": "https://cdn.acme.example/logo.svg", "ACCENT_COLOR": "#0A7F3F"}
    ).brand
    assert (brand.display_name, brand.logo_origin) == ("Acme via Chorus", "https://cdn.acme.example")
    assert brand.accent == "#0A7F3F"
    unbranded = BrandSettings.from_env({"COMPANY_NAME": "", "LOGO_URL": ""}).brand
    assert (unbranded.display_name, unbranded.logo_url) == ("Chorus", None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOGO_URL", "http://cdn.acme.example/logo.svg"),
        ("LOGO_URL", "https://cdn.acme.example/a'b.svg"),
        ("ACCENT_COLOR", "blue"),
        ("ACCENT_COLOR", "#abc"),
        ("COMPANY_NAME", "Acme\r\nBcc: x@example.com"),
        ("COMPANY_NAME", "A" * 61),
    ],
)
def test_a_malformed_brand_stops_the_function(name, value):
    with pytest.raises(SettingsError, match=name):
        BrandSettings.from_env({name: value})
