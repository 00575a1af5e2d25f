"""SES feedback events parsed at the edge, and the rule of what each suppresses."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.email_feedback import FeedbackKind, Suppression
from chorus.domain.employee import Employee
from chorus.edge.email_feedback import email_feedback as feedback_of

EVENTS = Path(__file__).resolve().parents[3] / "events" / "email_feedback"


def email_feedback(event: dict[str, Any]):
    return feedback_of(EventBridgeEvent(event))


def ses_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def test_a_permanent_bounce_makes_the_address_undeliverable() -> None:
    feedback = email_feedback(ses_event("bounce_permanent"))
    assert feedback is not None
    assert feedback.kind is FeedbackKind.HARD_BOUNCE
    assert feedback.suppression is Suppression.UNDELIVERABLE
    assert feedback.addresses == ("Ada@Example.com",)
    assert feedback.reason == "Permanent/General"
    assert feedback.occurred_at == datetime(2026, 11, 30, 8, 2, 10, 512000, tzinfo=UTC)


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_a_bounce_that_may_pass_suppresses_nothing(bounce_type: str) -> None:
    event = ses_event("bounce_transient")
    event["detail"]["bounce"]["bounceType"] = bounce_type
    feedback = email_feedback(event)
    assert feedback is not None and feedback.kind is FeedbackKind.SOFT_BOUNCE
    assert feedback.suppression is None


def test_a_complaint_unsubscribes() -> None:
    feedback = email_feedback(ses_event("complaint"))
    assert feedback is not None
    assert feedback.suppression is Suppression.UNSUBSCRIBED
    assert feedback.reason == "abuse" and feedback.addresses == ("camille@example.com",)


def test_a_complaint_without_a_feedback_type_still_has_a_reason() -> None:
    event = ses_event("complaint")
    event["detail"]["complaint"].pop("complaintFeedbackType")
    event["detail"]["complaint"]["complaintSubType"] = "OnAccountSuppressionList"
    feedback = email_feedback(event)
    assert feedback is not None and feedback.reason == "OnAccountSuppressionList"


def test_events_without_feedback_are_none() -> None:
    event = ses_event("bounce_permanent")
    event["detail"] = {"eventType": "Delivery", "mail": event["detail"]["mail"], "delivery": {}}
    assert email_feedback(event) is None


addresses = st.emails().filter(lambda address: '"' not in address)


@given(address=addresses, name=st.text(alphabet=st.characters(categories=["L"]), max_size=20))
def test_the_address_is_taken_with_or_without_a_display_name(address: str, name: str) -> None:
    event = ses_event("bounce_permanent")
    shown = f"{name} <{address}>" if name else address
    event["detail"]["bounce"]["bouncedRecipients"] = [{"emailAddress": shown}]
    feedback = email_feedback(event)
    assert feedback is not None and feedback.addresses == (address,)


def test_what_uploads_do_not_own_is_not_in_the_fingerprint() -> None:
    # The fingerprint tells an upload whether a row changed; a bounce recorded on the profile must
    # not make every later upload report the employee as updated.
    employee = Employee(employee_id="e-1", email="ada@example.com", name="Ada", groups=["eng"])
    suppressed = employee.model_copy(
        update={"undeliverable_at": datetime(2026, 11, 30, tzinfo=UTC), "digest_opt_in": False}
    )
    uploaded = {
        "employee_id": "e-1",
        "email": "ada@example.com",
        "name": "Ada",
        "groups": ["eng"],
        "timezone": "UTC",
        "locale": "en",
        "active": True,
    }
    expected = hashlib.sha256(json.dumps(uploaded, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert employee.fingerprint() == suppressed.fingerprint() == expected
