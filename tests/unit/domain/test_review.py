"""The compliance review's rules (chorus.domain.review): which approvals wait for a reviewer, when
a reviewed post goes out (never outside the content's window), and the diff the reviewer reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.content import Network
from chorus.domain.review import REVIEW_PUBLISH_DELAY, edited, publish_time_after_review, review_note, text_diff
from chorus.domain.timing import QuietHours

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OFFERED = {Network.SANDBOX: {"We opened in Lyon\n\n#employee", "We opened in Lyon\n\n#collaborateur"}}


def test_a_text_left_as_offered_in_any_language_is_not_edited():
    assert not edited({Network.SANDBOX: "We opened in Lyon\n\n#collaborateur"}, OFFERED)


def test_any_change_is_an_edit_even_a_dropped_disclosure_or_one_character():
    assert edited({Network.SANDBOX: "We opened in Lyon"}, OFFERED)
    assert edited({Network.SANDBOX: "We opened in Lyon!\n\n#employee"}, OFFERED)


def test_one_edited_network_is_enough():
    offered = {**OFFERED, Network.X: {"Lyon"}}
    assert edited({Network.SANDBOX: "We opened in Lyon\n\n#employee", Network.X: "Lyon!"}, offered)


def test_a_network_nothing_was_offered_for_counts_as_edited():
    assert edited({Network.X: "anything"}, OFFERED)


def test_a_chosen_time_still_ahead_is_kept():
    chosen = NOW + timedelta(hours=3)
    assert publish_time_after_review(chosen, NOW, "Europe/Paris", ends_at=None) == chosen


def test_a_passed_time_goes_out_a_minute_after_the_review():
    chosen = NOW - timedelta(hours=3)
    assert publish_time_after_review(chosen, NOW, "Europe/Paris", ends_at=None) == NOW + REVIEW_PUBLISH_DELAY


def test_a_passed_time_in_quiet_hours_waits_for_their_end():
    late = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    moment = publish_time_after_review(
        late - timedelta(hours=1), late, "Europe/Paris", ends_at=None, quiet=QuietHours(22, 7)
    )
    assert moment == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 07:00 in Paris


def test_the_approval_lapses_rather_than_go_out_after_the_window():
    assert publish_time_after_review(NOW - timedelta(hours=1), NOW, "UTC", ends_at=NOW) is None
    assert publish_time_after_review(NOW - timedelta(hours=1), NOW, "UTC", ends_at=NOW + timedelta(seconds=30)) is None
    late = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert (
        publish_time_after_review(late, late, "UTC", ends_at=late + timedelta(hours=2), quiet=QuietHours(22, 7)) is None
    )


@given(
    chosen=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    window=st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))),
    quiet=st.one_of(
        st.none(),
        st.builds(QuietHours, st.integers(0, 23), st.integers(0, 23)).filter(lambda hours: hours.start != hours.end),
    ),
)
def test_a_reviewed_post_never_goes_out_before_now_nor_after_the_window(chosen, window, quiet):
    ends_at = None if window is None else NOW + window
    moment = publish_time_after_review(chosen, NOW, "Europe/Paris", ends_at=ends_at, quiet=quiet)
    if moment is None:
        assert ends_at is not None
        return
    assert moment >= min(chosen, NOW + REVIEW_PUBLISH_DELAY)
    assert moment >= NOW + REVIEW_PUBLISH_DELAY or moment == chosen
    assert ends_at is None or moment < ends_at
    if chosen >= NOW + REVIEW_PUBLISH_DELAY:
        assert moment == chosen


@given(st.text(alphabet="ab é\n#", max_size=40), st.text(alphabet="ab é\n#", max_size=40))
def test_the_diff_holds_both_texts_exactly(offered, approved):
    parts = text_diff(offered, approved)
    assert "".join(part.text for part in parts if part.kind != "added") == offered
    assert "".join(part.text for part in parts if part.kind != "removed") == approved


def test_the_diff_marks_the_words_changed():
    parts = text_diff("We opened in Lyon", "We finally opened in Lyon!")
    assert [(part.kind, part.text) for part in parts if part.kind != "same"] == [
        ("added", " finally"),
        ("removed", "Lyon"),
        ("added", "Lyon!"),
    ]


def test_a_note_is_trimmed_and_bounded():
    assert review_note("  too\n\nsalesy  ") == "too salesy"
    assert len(review_note("x" * 900)) == 500
