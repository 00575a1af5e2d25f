"""Bounces and complaints from SES suppress the employee they concern (see domain.email_feedback)."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from chorus.domain.digest import RunWeek, run_week
from chorus.domain.email_feedback import EmailFeedback, Recorded, Suppression
from chorus.domain.employee import normalise_email
from chorus.observability import logger


class SuppressionRecords(Protocol):
    def employee_for_address(self, address: str) -> str | None: ...
    def suppress(
        self, employee_id: str, suppression: Suppression, feedback: EmailFeedback, counted_in: RunWeek
    ) -> Recorded: ...


class EmailFeedbackService:
    def __init__(self, records: SuppressionRecords, *, digest_timezone: str) -> None:
        self._records = records
        self._digest_timezone = digest_timezone

    def record(self, feedback: EmailFeedback) -> dict[str, int]:
        """Applies the feedback to each address it names; counts what happened (safe to repeat)."""
        outcomes: Counter[str] = Counter()
        suppression = feedback.suppression
        if suppression is None:
            # SES retried and gave up, or could not tell why: the next email may well arrive.
            logger.info("soft bounce, nothing suppressed", kind=feedback.kind.value, reason=feedback.reason)
            outcomes["ignored"] += len(feedback.addresses)
            return dict(outcomes)
        # Counted in the digest run of the week it arrived (the history's bounced and complained).
        counted_in = run_week(feedback.occurred_at, self._digest_timezone)
        for address in feedback.addresses:
            employee_id = self._records.employee_for_address(normalise_email(address))
            outcome = (
                self._records.suppress(employee_id, suppression, feedback, counted_in)
                if employee_id
                else Recorded.NO_EMPLOYEE
            )
            outcomes[outcome.value] += 1
            # Never the address: the employee id is the pseudonymous reference in logs.
            logger.info(
                "email feedback",
                employee_id=employee_id,
                suppression=suppression.value,
                outcome=outcome.value,
                kind=feedback.kind.value,
                reason=feedback.reason,
            )
        return dict(outcomes)
