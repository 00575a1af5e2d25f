"""Uploads of content and roster files straight to S3, and the reports the ingest writes for them.

The admin API hands out a presigned PUT (a client that knows the file's name); the console hands
out a presigned POST form (a browser posts the file itself, with or without JavaScript): both name
the object by the same rule, so the ingest and its report are the same whichever way it came.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chorus import clock
from chorus.domain.report import IngestReport, UploadKind, report_key_for
from chorus.errors import FieldProblem, InvalidInput, NotFound

# What S3 puts in place of this in a form's key: the name of the file the browser sends.
FILE_NAME_VARIABLE = "${filename}"
# An upload's key as either path names it: uploads/<kind>/<yyyy>/<mm>/<dd>/<8 hex>-<file name>.
_UPLOAD_KEY = re.compile(r"^uploads/(content|employees)/\d{4}/\d{2}/\d{2}/[0-9a-f]{8}-[^/\x00-\x1f\x7f]{1,200}$")


def safe_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "upload"


def key_prefix(kind: UploadKind, now: datetime) -> str:
    """Where one upload's object goes: a fresh prefix, so two files of the same name never meet."""
    return f"uploads/{kind.value}/{now:%Y/%m/%d}/{uuid.uuid4().hex[:8]}-"


def upload_key(kind: UploadKind, filename: str, now: datetime) -> str:
    return f"{key_prefix(kind, now)}{safe_name(filename)}"


def checked_upload_key(key: str) -> str:
    """An upload key as our forms and the admin API make them (InvalidInput otherwise): a report
    page reads nothing else from the bucket."""
    if not _UPLOAD_KEY.match(key):
        raise InvalidInput("not an upload", [FieldProblem("key", "is not the key of an upload")])
    return key


@dataclass(frozen=True)
class UploadForm:
    """A presigned POST: the form's action and its hidden fields (the file goes last)."""

    kind: UploadKind
    url: str
    fields: dict[str, str]
    key_prefix: str
    max_bytes: int


class UploadBucket(Protocol):
    def presigned_post(
        self, key: str, *, max_bytes: int, redirect_url: str, expires_in: int
    ) -> tuple[str, dict[str, str]]: ...
    def read(self, key: str) -> bytes: ...
    def presigned_get(self, key: str, expires_in: int, filename: str) -> str: ...


class UploadDesk:
    def __init__(
        self,
        bucket: UploadBucket,
        *,
        max_bytes: int,
        url_ttl_seconds: int,
        download_ttl_seconds: int,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._bucket = bucket
        self._max_bytes = max_bytes
        self._url_ttl = url_ttl_seconds
        self._download_ttl = download_ttl_seconds
        self._now = now

    def form(self, kind: UploadKind, redirect_url: str) -> UploadForm:
        """A form that puts one file under a fresh key, then sends the browser to ``redirect_url``
        (S3 adds the key to its query). Signing writes nothing."""
        prefix = key_prefix(kind, self._now())
        url, fields = self._bucket.presigned_post(
            prefix + FILE_NAME_VARIABLE,
            max_bytes=self._max_bytes,
            redirect_url=redirect_url,
            expires_in=self._url_ttl,
        )
        return UploadForm(kind, url, fields, prefix, self._max_bytes)

    def report(self, key: str) -> IngestReport | None:
        """The upload's report; None while the ingest has not written it yet."""
        try:
            raw = self._bucket.read(report_key_for(checked_upload_key(key)))
        except NotFound:
            return None
        return IngestReport.model_validate_json(raw)

    def report_download(self, key: str) -> str:
        report_key = report_key_for(checked_upload_key(key))
        filename = f"chorus-report-{safe_name(key.rsplit('/', 1)[-1])}.json"
        return self._bucket.presigned_get(report_key, self._download_ttl, filename)
