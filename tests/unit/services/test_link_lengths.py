"""Every link an email carries is at most 100 characters, so the text part of a digest or notice
stays readable (one line in most mail clients).

Assumptions, stated: the configured base URL is at most 40 characters (a company's own domain,
``https://chorus.example-company.com`` is 34; API Gateway's default domain is 54 and does not
fit), and key ids are at most 4 characters (``k1``, ``k2``..., as the secret's rotation makes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chorus.domain.content import content_id_for
from chorus.domain.employee import employee_id_for
from chorus.domain.magic_links import (
    ME_LIFETIME,
    ME_SCOPE,
    UNSUBSCRIBE_LIFETIME,
    UNSUBSCRIBE_SCOPE,
    KeyRing,
    activity_scope,
    sign_link,
)
from chorus.services.digest import Links

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BASE_URL = "https://advocacy.a-long-company-name.com"  # 40 characters
LONGEST_KEY_ID = "k999"
RING = KeyRing(current=LONGEST_KEY_ID, keys={LONGEST_KEY_ID: b"k" * 48})


def test_the_assumed_base_url_is_forty_characters():
    assert len(BASE_URL) == 40


@pytest.mark.parametrize("address", ["a@b.co", "firstname.lastname-with-a-long-double-barrel@subsidiary.example.com"])
def test_every_emailed_link_is_at_most_100_characters(address):
    links = Links(BASE_URL)
    employee_id = employee_id_for(address)
    content_id = content_id_for(None, "https://example.com/" + "long-path/" * 30, "a campaign")
    emailed = [
        links.activity(sign_link(RING, employee_id, activity_scope(content_id), NOW + timedelta(days=14))),
        links.me(sign_link(RING, employee_id, ME_SCOPE, NOW + ME_LIFETIME)),
        links.unsubscribe(sign_link(RING, employee_id, UNSUBSCRIBE_SCOPE, NOW + UNSUBSCRIBE_LIFETIME)),
    ]
    assert [len(link) for link in emailed] == [100, 90, 99]
    assert all(len(link) <= 100 for link in emailed)
