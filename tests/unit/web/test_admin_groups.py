"""The admin group is matched exactly, element by element (issue 8, item 4)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.errors import NotAuthenticated
from chorus.web.admin.auth import groups_from_claim, token_payload

ADMIN = "chorus-admins"


@given(st.lists(st.text(max_size=30).filter(lambda name: name != ADMIN), max_size=6))
def test_no_list_without_the_exact_name_is_an_admin(groups):
    assert ADMIN not in groups_from_claim(groups)
    assert ADMIN not in groups_from_claim(groups, ",")


@given(st.lists(st.text(max_size=30), max_size=6), st.integers(min_value=0, max_value=6))
def test_a_list_with_the_exact_name_is_an_admin(groups, position):
    groups.insert(min(position, len(groups)), ADMIN)
    assert ADMIN in groups_from_claim(groups)


@pytest.mark.parametrize(
    ("claim", "delimiter", "groups"),
    [
        ("chorus-admins", "", {"chorus-admins"}),
        ("sales chorus-admins", "", {"sales chorus-admins"}),
        ("sales,chorus-admins", ",", {"sales", "chorus-admins"}),
        ("sales , chorus-admins,", ",", {"sales", "chorus-admins"}),
        ("sales chorus-admins", " ", {"sales", "chorus-admins"}),
        (["a,b"], ",", {"a,b"}),
        (42, "", set()),
        (None, "", set()),
        (["ok", 1, None], "", {"ok"}),
    ],
)
def test_claim_shapes(claim, delimiter, groups):
    assert groups_from_claim(claim, delimiter) == groups


def encoded(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer ", ""])
def test_the_payload_is_read_with_or_without_the_bearer_prefix(prefix):
    claims = {"sub": "a", "cognito:groups": ["Friends of chorus-admins"]}
    assert token_payload(f"{prefix}h.{encoded(claims)}.s") == claims


@pytest.mark.parametrize(
    "header", [None, "", "Bearer x", "Bearer h..s", f"Bearer h.{encoded([1])}.s", "Bearer h.%%%.s"]
)
def test_an_unreadable_token_is_not_authenticated(header):
    with pytest.raises(NotAuthenticated):
        token_payload(header)


def test_a_deeply_nested_payload_is_not_authenticated_not_a_crash():
    with pytest.raises(NotAuthenticated):
        token_payload(f"h.{base64.urlsafe_b64encode(b'[' * 100_000).decode()}.s")
