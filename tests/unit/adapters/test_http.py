"""Shared helpers: wait times from rate-limit headers, and message hygiene."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.adapters.networks.http import (
    NetworkCredentials,
    one_line,
    redact,
    seconds_from_retry_after,
    seconds_until_epoch,
    seconds_until_iso,
)

NOW = datetime(2025, 10, 14, 9, 12, 44, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        ("0", 1),
        ("Tue, 14 Oct 2025 09:13:44 GMT", 60),
        ("Tue, 14 Oct 2025 09:00:00 GMT", 1),
        ("soon", None),
        ("", None),
        (None, None),
        ("99999999", 86400),
    ],
)
def test_retry_after(value: str | None, expected: int | None) -> None:
    assert seconds_from_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(str(int(NOW) + 300), 300), (str(int(NOW) - 5), 1), ("abc", None), (None, None)],
)
def test_epoch_reset(value: str | None, expected: int | None) -> None:
    assert seconds_until_epoch(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-10-14T09:15:00.019685Z", 137),
        ("2025-10-14T09:15:00+00:00", 136),
        ("2025-10-14T11:15:00+02:00", 136),
        ("2025-10-14T09:00:00Z", 1),
        ("yesterday", None),
    ],
)
def test_iso_reset(value: str | None, expected: int | None) -> None:
    assert seconds_until_iso(value, NOW) == expected


TOKEN_LIKE = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=", min_size=8)


@given(TOKEN_LIKE, st.text())
def test_redact_removes_every_copy_of_the_secret(secret: str, text: str) -> None:
    assert secret not in redact(f"{text}{secret}{text}{secret}", (secret,)).replace("[redacted]", " ")


def test_messages_are_one_bounded_line() -> None:
    message = one_line("line one\nline two\r\n" + "x" * 1000)
    assert "\n" not in message and "\r" not in message
    assert len(message) <= 300


def test_credentials_repr_hides_the_token() -> None:
    text = repr(NetworkCredentials(access_token="very-secret-token", member_id="m1"))
    assert "very-secret-token" not in text
    assert "m1" in text
