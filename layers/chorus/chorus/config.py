"""Validated settings, one model per function.

This is the only module that reads ``os.environ``. Each model fails loudly on the first
invocation (cold start) when a setting is missing or malformed, instead of running with a
placeholder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(RuntimeError):
    """A function was deployed without a setting it needs."""


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        try:
            return cls.model_validate(dict(source))
        except ValidationError as exc:
            missing = ", ".join(str(err["loc"][0]) for err in exc.errors())
            raise SettingsError(f"{cls.__name__}: invalid or missing settings: {missing}") from exc


class StorageSettings(_Settings):
    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    uploads_bucket: str = Field(alias="UPLOADS_BUCKET", min_length=3)


# 25 MiB keeps a whole JSON array comfortably in a 512 MB function while CSV and JSON Lines stream.
DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024


class IngestSettings(StorageSettings):
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=3)
    max_upload_bytes: int = Field(alias="MAX_UPLOAD_BYTES", default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)


class AdminApiSettings(StorageSettings):
    admin_group: str = Field(alias="ADMIN_GROUP", min_length=1)
    groups_claim: str = Field(alias="GROUPS_CLAIM", min_length=1)
    max_upload_bytes: int = Field(alias="MAX_UPLOAD_BYTES", default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)
    upload_url_ttl_seconds: int = Field(alias="UPLOAD_URL_TTL_SECONDS", default=900, ge=60, le=3600)
