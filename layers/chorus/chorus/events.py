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


class Deactivation(BaseModel):
    """A table stream record of an employee profile whose ``active`` went from true to false."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    employee_id: str


def deactivation_of(record: dict[str, Any]) -> Deactivation | None:
    """The deactivation a stream record stands for; None for any other change (the event source
    mapping's filter should let none through, but the handler does not rely on it)."""
    stream = record.get("dynamodb") or {}
    new, old = stream.get("NewImage") or {}, stream.get("OldImage") or {}
    if (new.get("entity") or {}).get("S") != "employee" or "employee_id" not in new:
        return None
    if (new.get("active") or {}).get("BOOL") is not False or (old.get("active") or {}).get("BOOL") is not True:
        return None
    return Deactivation(event_id=str(record.get("eventID", "")), employee_id=new["employee_id"]["S"])
