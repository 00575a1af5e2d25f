"""SES bounce and complaint events (a configuration set's event destination, through EventBridge)
-> the employee is suppressed, once per feedback."""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from pydantic import BaseModel, ConfigDict, Field

from chorus.domain.email_feedback import EmailFeedback, FeedbackKind
from chorus.observability import logger
from chorus.services.email_feedback import EmailFeedbackService


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


def email_feedback(event: EventBridgeEvent) -> EmailFeedback | None:
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


class FeedbackEvents:
    def __init__(self, service: EmailFeedbackService) -> None:
        self._service = service

    def handle(self, event: dict[str, Any]) -> dict[str, int]:
        ses_event = EventBridgeEvent(event)
        feedback = email_feedback(ses_event)
        if feedback is None:
            logger.info("SES event without feedback to act on", detail_type=ses_event.get("detail-type"))
            return {}
        return self._service.record(feedback)
