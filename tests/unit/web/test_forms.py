"""Reading a posted form: only the fields the page sends, each as often as the page sends it."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

import pytest

from chorus.domain.content import Network
from chorus.domain.lengths import MAX_HONOURED_LIMIT, LengthRule
from chorus.domain.networks import networks, profile_of
from chorus.web.employee.activity import activity_form
from chorus.web.employee.connect import CONNECT_FORM
from chorus.web.employee.me import ME_FORM
from chorus.web.employee.unsubscribe import UNSUBSCRIBE_FORM
from chorus.web.pages import MAX_FORM_BYTES, FormRejected, FormSpec, read_form

SPEC = FormSpec(single=frozenset({"action", "text"}), repeated={"network": 3})


class Event:
    """The two attributes read_form reads of an API Gateway event."""

    def __init__(self, body: str, content_type: str = "application/x-www-form-urlencoded") -> None:
        self.body = body
        self.is_base64_encoded = False
        self.headers: dict[str, Any] = {"content-type": content_type}


def read(body: str, spec: FormSpec = SPEC) -> dict[str, list[str]]:
    return read_form(Event(body), spec).fields  # type: ignore[arg-type]


def test_checkboxes_repeat_with_distinct_values():
    assert read("action=approve&network=x&network=linkedin")["network"] == ["x", "linkedin"]


@pytest.mark.parametrize(
    "body",
    [
        "action=approve&action=approve",
        "network=x&network=x",
        "network=a&network=b&network=c&network=d",
        "action=approve&unknown=1",
        "action",
    ],
)
def test_what_a_page_never_sends_is_refused(body):
    with pytest.raises(FormRejected):
        read(body)


def test_an_empty_body_is_an_empty_form():
    assert read("") == {}


def _longest(rule: LengthRule, character: str) -> str:
    """The longest text of ``character`` the rule lets an employee write."""
    count = 0
    while rule.length(character * (count + 1)) <= rule.room:
        count += 1
    return character * count


def test_the_largest_form_a_person_can_send_fits():
    """Every network's text at its limit in 4-byte emoji (12 bytes each once percent-encoded), with
    the longest Mastodon limit Chorus honours from a server."""
    emoji = "\U0001f600"
    rules = {network: profile_of(network).length_rule for network in networks()}
    rules[Network.MASTODON] = rules[Network.MASTODON].with_limit(MAX_HONOURED_LIMIT, 23)
    fields = [("form", "k1." + "9" * 10 + "." + "A" * 43), ("action", "approve"), ("when", "at")]
    fields += [("at", "2026-12-01T09:00"), ("timezone", "America/Argentina/ComodRivadavia")]
    fields += [("content_version", "4294967295")]
    for network in networks():
        fields += [("network", network.value), (f"text_{network.value}", _longest(rules[network], emoji))]
        fields += [(f"revision_{network.value}", "999999")]
    body = urlencode(fields)
    assert len(body) < MAX_FORM_BYTES
    assert len(read(body, activity_form())["network"]) == len(networks())


TEMPLATES = files("chorus.web").joinpath("templates", "pages")
SPECS = {
    "activity.html.j2": activity_form(),
    "me.html.j2": ME_FORM,
    "connect.html.j2": CONNECT_FORM,
    "unsubscribe.html.j2": UNSUBSCRIBE_FORM,
}


def field_names(template: str) -> set[str]:
    """Every field name a page's forms can send, with per-network names expanded."""
    source = TEMPLATES.joinpath(template).read_text(encoding="utf-8")
    names: set[str] = set()
    for name in re.findall(r'<(?:input|textarea|select|button)\b[^>]*\bname="([^"]+)"', source):
        if "{{" in name:
            names |= {re.sub(r"\{\{[^}]*\}\}", network.value, name) for network in networks()}
        else:
            names.add(name)
    return names


@pytest.mark.parametrize("template", list(SPECS))
def test_each_form_accepts_every_field_its_page_renders(template):
    """A field added to a page but not to its form's spec would be refused as excess: this
    catches it before an employee does."""
    spec = SPECS[template]
    allowed = set(spec.single) | set(spec.repeated)
    assert field_names(template) <= allowed, field_names(template) - allowed
