"""Incoming AWS events parsed at the edge into small typed models."""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.email_feedback import EmailFeedback, FeedbackKind


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


# ---------------------------------------------------------------- SES feedback (EventBridge)


class _Recipient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    email_address: str = Field(alias="emailAddress")


class _Bounce(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    bounce_type: str = Field(alias="bounceType")
    bounce_sub_type: str = Field(alias="bounceSubType", default="")
    bounced_recipients: list[_Recipient] = Field(alias="bouncedRecipients")
    feedback_id: str = Field(alias="feedbackId")
    timestamp: datetime


class _Complaint(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    complained_recipients: list[_Recipient] = Field(alias="complainedRecipients")
    complaint_feedback_type: str | None = Field(alias="complaintFeedbackType", default=None)
    complaint_sub_type: str | None = Field(alias="complaintSubType", default=None)
    feedback_id: str = Field(alias="feedbackId")
    timestamp: datetime


class _SesEventDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_type: str = Field(alias="eventType")
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None


def _addresses(recipients: list[_Recipient]) -> tuple[str, ...]:
    # Recipients may come as "Name <address>"; only the address identifies the employee.
    return tuple(parseaddr(recipient.email_address)[1] or recipient.email_address for recipient in recipients)


def email_feedback(event: dict[str, Any]) -> EmailFeedback | None:
    """A configuration set's Bounce or Complaint event, as EventBridge delivers it; None for
    any other SES event (nothing to do about a delivery or an open)."""
    detail = _SesEventDetail.model_validate(event.get("detail") or {})
    if detail.event_type == "Bounce" and detail.bounce is not None:
        bounce = detail.bounce
        return EmailFeedback(
            kind=FeedbackKind.HARD_BOUNCE if bounce.bounce_type == "Permanent" else FeedbackKind.SOFT_BOUNCE,
            feedback_id=bounce.feedback_id,
            occurred_at=bounce.timestamp,
            addresses=_addresses(bounce.bounced_recipients),
            reason=f"{bounce.bounce_type}/{bounce.bounce_sub_type}".rstrip("/"),
        )
    if detail.event_type == "Complaint" and detail.complaint is not None:
        complaint = detail.complaint
        return EmailFeedback(
            kind=FeedbackKind.COMPLAINT,
            feedback_id=complaint.feedback_id,
            occurred_at=complaint.timestamp,
            addresses=_addresses(complaint.complained_recipients),
            reason=complaint.complaint_feedback_type or complaint.complaint_sub_type or "complaint",
        )
    return None


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
