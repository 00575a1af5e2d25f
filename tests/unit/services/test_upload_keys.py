"""The upload key rule both the admin API and the console use, and the check that keeps the
console's report page to upload reports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.report import UploadKind
from chorus.errors import InvalidInput
from chorus.services.uploads import checked_upload_key, key_prefix, safe_name, upload_key

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@given(kind=st.sampled_from(list(UploadKind)), filename=st.text(min_size=1, max_size=200))
def test_every_key_the_admin_api_makes_is_one_the_console_reads(kind, filename):
    key = upload_key(kind, filename, NOW)
    assert checked_upload_key(key) == key
    assert key.startswith(f"uploads/{kind.value}/2026/11/30/")
    assert "/" not in key.removeprefix(f"uploads/{kind.value}/2026/11/30/")


@given(filename=st.text(min_size=1, max_size=200))
def test_a_safe_name_is_never_empty_nor_a_path(filename):
    name = safe_name(filename)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")


def test_two_uploads_of_the_same_file_get_different_keys():
    assert key_prefix(UploadKind.CONTENT, NOW) != key_prefix(UploadKind.CONTENT, NOW)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "exports/report.csv",
        "reports/uploads/content/2026/11/30/abcdef12-a.csv.json",
        "uploads/api/content/2026/11/30/abcdef12-a.csv",
        "uploads/content/2026/11/30/ABCDEF12-a.csv",
        "uploads/content/2026/11/30/abcdef12-",
        "uploads/content/2026/11/30/abcdef12-../../exports/x",
        "uploads/content/2026/11/30/abcdef12-a\nb.csv",
        "uploads/content/../exports/abcdef12-a.csv",
    ],
)
def test_anything_else_is_not_an_upload(key):
    with pytest.raises(InvalidInput):
        checked_upload_key(key)
