"""Magic links: signed, expiring, bound to one employee and one purpose; keys rotate without
breaking links; forms are bound to the page, the employee and the action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.magic_links import (
    ME_SCOPE,
    UNSUBSCRIBE_SCOPE,
    FormTooFast,
    KeyRing,
    LinkExpired,
    LinkRejected,
    Purpose,
    activity_link_expiry,
    activity_scope,
    check_form,
    connect_scope,
    form_subject,
    purpose_of,
    sign_form,
    sign_link,
    verify_link,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RING = KeyRing(current="k1", keys={"k1": b"a" * 40})
ANY = frozenset(Purpose)


def test_round_trip_binds_employee_and_scope():
    token = sign_link(RING, "e-1", activity_scope("c-1"), NOW + timedelta(days=3))
    claims = verify_link(RING, token, NOW, {Purpose.ACTIVITY})
    assert (claims.employee_id, claims.content_id) == ("e-1", "c-1")


def test_links_for_the_same_thing_differ():
    """Random bytes per link (a link cannot be guessed from another: that is the MAC's job)."""
    links = {sign_link(RING, "e-1", "me", NOW + timedelta(days=1)) for _ in range(3)}
    assert len(links) > 1


def test_expired_link_is_410():
    token = sign_link(RING, "e-1", "me", NOW + timedelta(minutes=1))
    with pytest.raises(LinkExpired) as error:
        verify_link(RING, token, NOW + timedelta(minutes=2), {Purpose.ME})
    assert error.value.http_status == 410


@given(st.integers(min_value=0, max_value=200), st.sampled_from("AQgw_-"))
def test_any_tampered_character_is_rejected(position, replacement):
    token = sign_link(RING, "e-1", activity_scope("c-1"), NOW + timedelta(days=1))
    index = position % len(token)
    if token[index] == replacement:
        return
    tampered = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(LinkRejected):
        claims = verify_link(RING, tampered, NOW, ANY)
        # base64 padding bits can make two characters decode alike; the claims must then be intact
        assert (claims.employee_id, claims.scope) != ("e-1", "c:c-1")
        raise LinkRejected("same claims")


def test_rotation_keeps_old_links_until_the_old_key_is_removed():
    old_token = sign_link(RING, "e-1", "me", NOW + timedelta(days=1))
    rotated = KeyRing(current="k2", keys={"k1": b"a" * 40, "k2": b"b" * 40})
    assert verify_link(rotated, old_token, NOW, ANY).employee_id == "e-1"
    assert sign_link(rotated, "e-1", "me", NOW + timedelta(days=1)).startswith("k2.")
    retired = KeyRing(current="k2", keys={"k2": b"b" * 40})
    with pytest.raises(LinkRejected):
        verify_link(retired, old_token, NOW, ANY)


def test_another_key_cannot_forge():
    forged = sign_link(KeyRing(current="k1", keys={"k1": b"z" * 40}), "e-1", "me", NOW + timedelta(days=1))
    with pytest.raises(LinkRejected):
        verify_link(RING, forged, NOW, ANY)


@pytest.mark.parametrize("garbage", ["", "a.b", "k1.!!.??", "k9.e30.AAAA", "k1." + "A" * 20 + ".x"])
def test_garbage_is_rejected_not_crashing(garbage):
    with pytest.raises(LinkRejected):
        verify_link(RING, garbage, NOW, ANY)


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


# Minted by the code before purposes were checked (commit 370f2a9), as digests already sent hold them.
SENT_BEFORE = {
    Purpose.ACTIVITY: "k1.eyJlIjoiZS0xIiwicyI6ImM6Yy0xIiwieCI6MTc5ODc2MTYwMCwibiI6IkQ1SEkteGMtOUpUT1FoOFlUUHpibGcifQ"
    ".103qIVvvKJpAuOZN2gy55k9_Qdh-fPVmjOeOE6FZDns",
    Purpose.ME: "k1.eyJlIjoiZS0xIiwicyI6Im1lIiwieCI6MTc5ODc2MTYwMCwibiI6InZqc3ZGVVhoT3p4NkpwVDJKb3gxNkEifQ"
    ".ZoKqQ9FiQZR_3foMS3DqN9sVJFYTGYw4adoQ9yhwSS8",
    Purpose.UNSUBSCRIBE: "k1.eyJlIjoiZS0xIiwicyI6InVuc3ViIiwieCI6MTc5ODc2MTYwMCwibiI6IkQ1R3lmLTloSFhzZUZscW5mQlctVmcifQ"
    ".rmi8tM5s7kjfWAFogcH9YmwoJXA6JDKZXo7C6MtZNpU",
}


class TestPurposes:
    @pytest.mark.parametrize("purpose", list(SENT_BEFORE))
    def test_links_already_sent_keep_working_for_their_own_purpose_only(self, purpose):
        token = SENT_BEFORE[purpose]
        assert verify_link(RING, token, NOW, {purpose}).purpose is purpose
        with pytest.raises(LinkRejected, match="another page"):
            verify_link(RING, token, NOW, ANY - {purpose})

    @pytest.mark.parametrize(
        ("scope", "purpose"),
        [
            (activity_scope("c-1"), Purpose.ACTIVITY),
            (ME_SCOPE, Purpose.ME),
            (UNSUBSCRIBE_SCOPE, Purpose.UNSUBSCRIBE),
            (connect_scope(activity_scope("c-1")), Purpose.CONNECT),
            (connect_scope(ME_SCOPE), Purpose.CONNECT),
        ],
    )
    def test_each_purpose_opens_only_pages_that_accept_it(self, scope, purpose):
        token = sign_link(RING, "e-1", scope, NOW + timedelta(days=1))
        assert verify_link(RING, token, NOW, {purpose}).purpose is purpose
        for other in ANY - {purpose}:
            with pytest.raises(LinkRejected):
                verify_link(RING, token, NOW, {other})

    def test_a_purpose_is_checked_before_expiry(self):
        """An expired unsubscribe link on /me says "another page", not "expired": nothing to renew there."""
        token = sign_link(RING, "e-1", UNSUBSCRIBE_SCOPE, NOW - timedelta(days=1))
        with pytest.raises(LinkRejected) as error:
            verify_link(RING, token, NOW, {Purpose.ME})
        assert not isinstance(error.value, LinkExpired)

    def test_a_page_must_say_what_it_accepts(self):
        token = sign_link(RING, "e-1", ME_SCOPE, NOW + timedelta(days=1))
        with pytest.raises(ValueError, match="purposes"):
            verify_link(RING, token, NOW, set())

    @pytest.mark.parametrize("scope", ["", "c:", "x:1", "unsubscribe", "ME", "c", "k"])
    def test_a_signed_link_with_an_unknown_scope_is_refused(self, scope):
        token = sign_link(RING, "e-1", scope, NOW + timedelta(days=1))
        with pytest.raises(LinkRejected):
            verify_link(RING, token, NOW, ANY)

    def test_a_connect_link_leads_back_only_to_its_page_and_is_no_longer_than_its_link(self):
        activity = activity_scope("c-0123456789abcdef0123")
        assert len(connect_scope(activity)) == len(activity)
        from_page = verify_link(
            RING, sign_link(RING, "e-1", connect_scope(activity), NOW + timedelta(days=1)), NOW, {Purpose.CONNECT}
        )
        assert (from_page.origin_scope, from_page.content_id) == (activity, None)
        from_me = verify_link(
            RING, sign_link(RING, "e-1", connect_scope(ME_SCOPE), NOW + timedelta(days=1)), NOW, {Purpose.CONNECT}
        )
        assert from_me.origin_scope == ME_SCOPE
        with pytest.raises(ValueError, match="minted on"):
            connect_scope(UNSUBSCRIBE_SCOPE)

    @given(st.text(max_size=40))
    def test_any_scope_has_at_most_one_purpose_and_never_crashes(self, scope):
        purpose = purpose_of(scope)
        token = sign_link(RING, "e-1", scope, NOW + timedelta(days=1))
        if purpose is None:
            with pytest.raises(LinkRejected):
                verify_link(RING, token, NOW, ANY)
        else:
            assert verify_link(RING, token, NOW, {purpose}).purpose is purpose

    def test_a_form_token_is_not_a_link_and_a_link_is_not_a_form_token(self):
        subject = form_subject("e-1", ME_SCOPE, "hide")
        form = sign_form(RING, subject, NOW)
        with pytest.raises(LinkRejected):
            verify_link(RING, form, NOW + timedelta(seconds=20), ANY)
        link = sign_link(RING, "e-1", ME_SCOPE, NOW + timedelta(days=1))
        with pytest.raises(LinkRejected):
            check_form(RING, link, subject, NOW + timedelta(seconds=20))

    def test_a_form_is_bound_to_its_action(self):
        form = sign_form(RING, form_subject("e-1", ME_SCOPE, "hide"), NOW)
        check_form(RING, form, form_subject("e-1", ME_SCOPE, "hide"), NOW + timedelta(seconds=20))
        for subject in (
            form_subject("e-1", ME_SCOPE, "redeem"),
            form_subject("e-2", ME_SCOPE, "hide"),
            form_subject("e-1", activity_scope("c-1"), "hide"),
        ):
            with pytest.raises(LinkRejected):
                check_form(RING, form, subject, NOW + timedelta(seconds=20))


class TestCompactFormat:
    """Links are ``<kid>.<base64url of binary fields and a 96-bit MAC>``."""

    EMPLOYEE = "e-" + "0123456789abcdef0123"
    CONTENT = "c-" + "fedcba98765432100123"

    @given(st.text(min_size=1, max_size=40), st.text(max_size=40), st.datetimes(min_value=datetime(2000, 1, 1)))
    def test_any_employee_and_scope_round_trip(self, employee_id, scope, moment):
        expires_at = moment.replace(tzinfo=UTC, microsecond=0)
        token = sign_link(RING, employee_id, scope, expires_at)
        purpose = purpose_of(scope)
        if purpose is None:
            return
        claims = verify_link(RING, token, datetime(1999, 1, 1, tzinfo=UTC), {purpose})
        assert (claims.employee_id, claims.scope, claims.expires_at) == (employee_id, scope, expires_at)

    def test_our_ids_take_ten_bytes_each(self):
        token = sign_link(RING, self.EMPLOYEE, activity_scope(self.CONTENT), NOW + timedelta(days=14))
        # 1 kind + 4 expiry + 10 + 10 + 2 random + 12 MAC = 39 bytes = 52 base64 characters
        assert len(token) == len("k1.") + 52
        assert verify_link(RING, token, NOW, {Purpose.ACTIVITY}).content_id == self.CONTENT

    @given(st.integers(min_value=0, max_value=200), st.sampled_from("AQgw_-9"))
    def test_any_tampered_character_of_a_real_link_is_rejected(self, position, replacement):
        token = sign_link(RING, self.EMPLOYEE, activity_scope(self.CONTENT), NOW + timedelta(days=1))
        index = position % len(token)
        if token[index] == replacement:
            return
        with pytest.raises(LinkRejected):
            verify_link(RING, token[:index] + replacement + token[index + 1 :], NOW, ANY)

    def test_a_mac_made_with_another_key_id_is_refused(self):
        rotated = KeyRing(current="k2", keys={"k1": b"a" * 40, "k2": b"a" * 40})
        token = sign_link(rotated, self.EMPLOYEE, ME_SCOPE, NOW + timedelta(days=1))
        # Same key bytes under another id: the MAC covers the id, so relabelling fails.
        with pytest.raises(LinkRejected):
            verify_link(rotated, "k1" + token.removeprefix("k2"), NOW, ANY)

    def test_old_and_new_links_verify_side_by_side(self):
        new = sign_link(RING, "e-1", ME_SCOPE, NOW + timedelta(days=1))
        assert new.count(".") == 1 and SENT_BEFORE[Purpose.ME].count(".") == 2
        assert verify_link(RING, new, NOW, {Purpose.ME}).employee_id == "e-1"
        assert verify_link(RING, SENT_BEFORE[Purpose.ME], NOW, {Purpose.ME}).employee_id == "e-1"
