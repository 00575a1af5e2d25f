"""Counts and dates as each language writes them: English takes the singular for 1 only, French
for 0 and 1 (CLDR: "one" is i = 0,1); dates in the employee's zone with their language's names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chorus.messages.i18n import COUNTED, MESSAGES, counted, local_date, local_datetime


@pytest.mark.parametrize(
    ("locale", "count", "expected"),
    [
        ("en", 0, "0 visits"),
        ("en", 1, "1 visit"),
        ("en", 2, "2 visits"),
        ("en-GB", 1, "1 point"),
        ("fr", 0, "0 visite"),
        ("fr", 1, "1 visite"),
        ("fr-FR", 2, "2 visites"),
        ("fr", 1, "1 visite"),
        ("de", 1, "1 visit"),  # unknown languages fall back to English
    ],
)
def test_counts(locale, count, expected):
    assert counted(locale, "visits" if "visit" in expected else "points", count) == expected


def test_every_language_counts_the_same_nouns():
    nouns = set(COUNTED["en"])
    assert {language: set(words) for language, words in COUNTED.items()} == {language: nouns for language in MESSAGES}


def test_french_subjects_agree():
    subject = MESSAGES["fr"]["digest_subject"]
    assert subject.format(posts=counted("fr", "posts", 1)) == "1 contenu à partager cette semaine"
    assert MESSAGES["en"]["digest_subject"].format(posts=counted("en", "posts", 1)) == "Your 1 post to share this week"


MOMENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "locale", "expected"),
    [
        ("Europe/Paris", "en", "Tue 1 Dec 2026, 10:00"),
        ("Europe/Paris", "fr-FR", "mar. 1 déc. 2026, 10:00"),
        ("America/New_York", "en-US", "Tue 1 Dec 2026, 04:00"),
        ("Pacific/Auckland", "fr", "mar. 1 déc. 2026, 22:00"),
        ("Pacific/Honolulu", "fr", "lun. 30 nov. 2026, 23:00"),
    ],
)
def test_dates_are_in_the_employees_zone_and_language(zone, locale, expected):
    assert local_datetime(MOMENT, zone, locale) == expected


def test_dates_alone():
    assert local_date(MOMENT, "Europe/Paris", "fr") == "1 déc. 2026"
    assert local_date(MOMENT, "Pacific/Honolulu", "en") == "30 Nov 2026"
