"""Incoming AWS events parsed at the edge into small typed models."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict


class UploadedObject(BaseModel):
    """One object of an S3 ObjectCreated notification. Keys arrive URL-encoded ('+' = space)."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    sequencer: str | None = None


def uploaded_objects(event: dict[str, Any]) -> list[UploadedObject]:
    objects: list[UploadedObject] = []
    for record in event.get("Records", []):
        s3 = record["s3"]
        details = s3["object"]
        objects.append(
            UploadedObject(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(details["key"]),
                version_id=details.get("versionId"),
                etag=details.get("eTag"),
                sequencer=details.get("sequencer"),
            )
        )
    return objects
