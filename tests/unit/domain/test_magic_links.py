"""Magic links: signed, expiring, bound to one employee and scope; keys rotate without breaking links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.magic_links import (
    FormTooFast,
    KeyRing,
    LinkExpired,
    LinkRejected,
    activity_link_expiry,
    activity_scope,
    check_form,
    sign_form,
    sign_link,
    verify_link,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RING = KeyRing(current="k1", keys={"k1": b"a" * 40})


def test_round_trip_binds_employee_and_scope():
    token = sign_link(RING, "e-1", activity_scope("c-1"), NOW + timedelta(days=3))
    claims = verify_link(RING, token, NOW)
    assert (claims.employee_id, claims.content_id) == ("e-1", "c-1")


def test_two_links_for_the_same_thing_differ():
    """128 random bits per link: a link cannot be guessed from another."""
    first = sign_link(RING, "e-1", "me", NOW + timedelta(days=1))
    second = sign_link(RING, "e-1", "me", NOW + timedelta(days=1))
    assert first != second


def test_expired_link_is_410():
    token = sign_link(RING, "e-1", "me", NOW + timedelta(minutes=1))
    with pytest.raises(LinkExpired) as error:
        verify_link(RING, token, NOW + timedelta(minutes=2))
    assert error.value.http_status == 410


@given(st.integers(min_value=0, max_value=200), st.sampled_from("AQgw_-"))
def test_any_tampered_character_is_rejected(position, replacement):
    token = sign_link(RING, "e-1", activity_scope("c-1"), NOW + timedelta(days=1))
    index = position % len(token)
    if token[index] == replacement:
        return
    tampered = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(LinkRejected):
        claims = verify_link(RING, tampered, NOW)
        # base64 padding bits can make two characters decode alike; the claims must then be intact
        assert (claims.employee_id, claims.scope) != ("e-1", "c:c-1")
        raise LinkRejected("same claims")


def test_rotation_keeps_old_links_until_the_old_key_is_removed():
    old_token = sign_link(RING, "e-1", "me", NOW + timedelta(days=1))
    rotated = KeyRing(current="k2", keys={"k1": b"a" * 40, "k2": b"b" * 40})
    assert verify_link(rotated, old_token, NOW).employee_id == "e-1"
    assert sign_link(rotated, "e-1", "me", NOW + timedelta(days=1)).startswith("k2.")
    retired = KeyRing(current="k2", keys={"k2": b"b" * 40})
    with pytest.raises(LinkRejected):
        verify_link(retired, old_token, NOW)


def test_another_key_cannot_forge():
    forged = sign_link(KeyRing(current="k1", keys={"k1": b"z" * 40}), "e-1", "me", NOW + timedelta(days=1))
    with pytest.raises(LinkRejected):
        verify_link(RING, forged, NOW)


@pytest.mark.parametrize("garbage", ["", "a.b", "k1.!!.??", "k9.e30.AAAA", "k1." + "A" * 20 + ".x"])
def test_garbage_is_rejected_not_crashing(garbage):
    with pytest.raises(LinkRejected):
        verify_link(RING, garbage, NOW)


def test_short_keys_are_refused():
    with pytest.raises(ValueError, match="256 bits"):
        KeyRing(current="k1", keys={"k1": b"short"})


def test_activity_links_expire_with_the_window_and_within_14_days():
    assert activity_link_expiry(NOW, NOW + timedelta(days=3)) == NOW + timedelta(days=3)
    assert activity_link_expiry(NOW, NOW + timedelta(days=40)) == NOW + timedelta(days=14)
    assert activity_link_expiry(NOW, None) == NOW + timedelta(days=14)


class TestFormTokens:
    def test_a_form_submitted_at_once_is_refused(self):
        form = sign_form(RING, "e-1|c:c-1", NOW)
        with pytest.raises(FormTooFast):
            check_form(RING, form, "e-1|c:c-1", NOW + timedelta(milliseconds=500))

    def test_a_form_submitted_by_a_person_passes(self):
        form = sign_form(RING, "e-1|c:c-1", NOW)
        check_form(RING, form, "e-1|c:c-1", NOW + timedelta(seconds=20))

    def test_a_form_for_another_subject_is_refused(self):
        form = sign_form(RING, "e-2|c:c-1", NOW)
        with pytest.raises(LinkRejected):
            check_form(RING, form, "e-1|c:c-1", NOW + timedelta(seconds=20))

    def test_an_old_form_is_refused(self):
        form = sign_form(RING, "s", NOW)
        with pytest.raises(LinkRejected):
            check_form(RING, form, "s", NOW + timedelta(days=1))
