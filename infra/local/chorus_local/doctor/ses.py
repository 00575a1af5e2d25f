"""SES: the sender's identity and DKIM, production access, and the quota against the roster.

SES lets an address send when the address or its domain (or a parent domain) is a verified
identity, and signs with that domain's DKIM keys. Gmail and Yahoo want DKIM aligned with the From
domain, so a verified address without its domain's DKIM is a failure here, not a detail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chorus.store import keys
from chorus_local.doctor.findings import Finding, failed, passed, warned
from chorus_local.doctor.stack import DeployedStack

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sesv2 import SESV2Client

# The template's default SenderEmail: nobody can verify example.com.
PLACEHOLDER_DOMAIN = "example.com"
# The sparse roster index (chorus.store.reads lists it page by page for the digest).
ROSTER_INDEX = "GSI2"
# DigestBacklogAlarm fires when a digest batch has waited this long.
BACKLOG_ALARM_SECONDS = 3600
UNLIMITED = -1.0


def count_active_roster(client: DynamoDBClient, table: str) -> int:
    """Active employees, counted on the sparse roster index: Select=COUNT returns no items."""
    total = 0
    start: Mapping[str, Any] | None = None
    while True:
        query: dict[str, Any] = {
            "TableName": table,
            "IndexName": ROSTER_INDEX,
            "KeyConditionExpression": "GSI2PK = :roster",
            "ExpressionAttributeValues": {":roster": {"S": keys.ROSTER_ACTIVE}},
            "Select": "COUNT",
        }
        if start:
            query["ExclusiveStartKey"] = start
        page = client.query(**query)
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


class SesChecks:
    def __init__(self, stack: DeployedStack, sesv2: SESV2Client, dynamodb: DynamoDBClient) -> None:
        self._stack = stack
        self._sesv2 = sesv2
        self._dynamodb = dynamodb
        self._identities: dict[str, Mapping[str, Any] | None] = {}
        self._region = stack.region

    # ------------------------------------------------------------------ what SES knows
    @cached_property
    def _account(self) -> Mapping[str, Any]:
        return self._sesv2.get_account()

    @cached_property
    def _roster(self) -> int:
        table = self._stack.outputs.get("TableName") or self._stack.physical_id("Table") or ""
        return count_active_roster(self._dynamodb, table)

    def _identity(self, name: str) -> Mapping[str, Any] | None:
        if name not in self._identities:
            try:
                self._identities[name] = self._sesv2.get_email_identity(EmailIdentity=name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                    raise
                self._identities[name] = None
        return self._identities[name]

    @property
    def _sender(self) -> str:
        return self._stack.parameter("SenderEmail")

    def _domains(self) -> list[str]:
        """The sender's domain, then its parents down to two labels: where SES looks for a domain identity."""
        labels = self._sender.rpartition("@")[2].lower().split(".")
        return [".".join(labels[i:]) for i in range(len(labels) - 1)]

    # ------------------------------------------------------------------ checks
    def identity(self) -> Finding:
        check, sender = "ses.identity", self._sender
        domain = sender.rpartition("@")[2].lower()
        if domain == PLACEHOLDER_DOMAIN or domain.endswith("." + PLACEHOLDER_DOMAIN):
            return failed(
                check,
                f"SenderEmail is the template's placeholder {sender}",
                "redeploy with SenderEmail=<an address on your sending domain> and SendingDomain=<that domain>",
            )
        sending_domain = self._stack.parameter("SendingDomain").lower()
        if sending_domain and sending_domain not in self._domains():
            return failed(
                check,
                f"SenderEmail {sender} is outside SendingDomain {sending_domain}: the stack's identity cannot send it",
                f"redeploy with SenderEmail=<name>@{sending_domain}",
            )
        candidates = [sender, *self._domains()]
        for name in candidates:
            found = self._identity(name)
            if found is not None and found.get("VerifiedForSendingStatus"):
                return passed(check, f"{sender} may send: identity {name} is verified")
        existing = [(name, found) for name in candidates if (found := self._identity(name)) is not None]
        if not existing:
            target = sending_domain or domain
            return failed(
                check,
                f"no SES identity for {sender} or its domain in {self._region}",
                f"redeploy with SendingDomain={target} (the stack creates the identity), "
                "then publish its DKIM records (README, step 3)",
            )
        name, found = existing[0]
        status = found.get("VerificationStatus", "PENDING")
        return failed(
            check,
            f"identity {name} is not verified yet (verification {status})",
            self._dkim_records_fix(name) if "@" not in name else f"open the link SES emailed to {name}",
        )

    def dkim(self) -> Finding:
        check = "ses.dkim"
        # SES signs with the most specific domain identity it has.
        most_specific = next(
            ((name, found) for name in self._domains() if (found := self._identity(name)) is not None), None
        )
        if most_specific is None:
            return failed(
                check,
                f"no domain identity for {self._sender}: mail is not DKIM-signed by your domain (DMARC fails)",
                f"redeploy with SendingDomain={self._domains()[0] if self._domains() else '<domain>'}, "
                "then publish its DKIM records (README, step 3)",
            )
        name, found = most_specific
        dkim = found.get("DkimAttributes") or {}
        status = dkim.get("Status", "NOT_STARTED")
        if status == "SUCCESS" and dkim.get("SigningEnabled"):
            return passed(check, f"{name} signs with DKIM (status SUCCESS)")
        if status == "SUCCESS":
            return failed(
                check,
                f"DKIM signing is disabled on {name}",
                f"aws sesv2 put-email-identity-dkim-attributes --region {self._region} "
                f"--email-identity {name} --signing-enabled",
            )
        return failed(
            check, f"DKIM for {name} is {status}: SES has not found its DNS records", self._dkim_records_fix(name)
        )

    def _dkim_records_fix(self, domain: str) -> str:
        if self._stack.parameter("SendingDomain").lower() == domain:
            return (
                "publish the three CNAMEs of the DkimRecord1-3 outputs in your DNS (README, step 3); "
                "SES checks for up to 72 hours"
            )
        return (
            f"publish the DKIM CNAMEs of `aws sesv2 get-email-identity --region {self._region} "
            f"--email-identity {domain}` (DkimAttributes.Tokens) in your DNS"
        )

    def production_access(self) -> Finding:
        check, account = "ses.production", self._account
        request_fix = (
            f"aws sesv2 put-account-details --region {self._region} --production-access-enabled --mail-type MARKETING "
            "--website-url https://<your site> --contact-language EN --use-case-description '<...>' (README, step 4)"
        )
        if not account.get("SendingEnabled", True):
            return failed(
                check,
                "sending is disabled for this account and region",
                f"aws sesv2 put-account-sending-attributes --region {self._region} --sending-enabled",
            )
        enforcement = account.get("EnforcementStatus", "HEALTHY")
        if enforcement == "SHUTDOWN":
            return failed(check, "SES has paused this account's sending (SHUTDOWN)", "answer SES's case in the console")
        if not account.get("ProductionAccessEnabled"):
            review = (account.get("Details") or {}).get("ReviewDetails") or {}
            if review.get("Status") == "PENDING":
                return failed(
                    check,
                    f"SES sandbox: production access requested, review PENDING (case {review.get('CaseId', '?')})",
                    "wait for SES's answer (usually a day); until then only verified recipients get mail",
                )
            return failed(
                check,
                "SES sandbox: only verified recipients, 200 emails a day",
                request_fix,
            )
        if enforcement == "PROBATION":
            return warned(
                check,
                "production access, but SES has put the account on PROBATION",
                "read SES's case in the console; keep bounces under 5% and complaints under 0.1%",
            )
        return passed(check, "production access; sending enabled")

    def _sandbox(self, check: str) -> Finding | None:
        """In the sandbox the quota is SES's 200 a day, 1 a second: one cause, reported by ses.production."""
        if self._account.get("ProductionAccessEnabled"):
            return None
        return warned(
            check, "sandbox limits (200 emails a day, 1 a second) until production access", "see ses.production"
        )

    def daily_quota(self) -> Finding:
        check = "ses.daily-quota"
        if (sandbox := self._sandbox(check)) is not None:
            return sandbox
        quota = (self._account.get("SendQuota") or {}).get("Max24HourSend", 0.0)
        roster = self._roster
        if roster == 0:
            return warned(
                check,
                "no active employee yet: the digest has nobody to go to",
                f"chorus upload employees <roster.csv> --stack {self._stack.name} --region {self._region}",
            )
        if quota == UNLIMITED:
            return passed(check, f"{roster} active employees; no daily limit")
        if roster > quota:
            return failed(
                check,
                f"{roster} active employees but SES sends {quota:,.0f} emails a day: "
                f"the digest stops after {quota:,.0f}",
                f"ask for a daily quota above {roster}: Service Quotas -> Amazon SES -> Sending quota, "
                f"region {self._region}",
            )
        return passed(check, f"{roster} active employees; {quota:,.0f} emails a day")

    def send_rate(self) -> Finding:
        check = "ses.send-rate"
        if (sandbox := self._sandbox(check)) is not None:
            return sandbox
        account_rate = float((self._account.get("SendQuota") or {}).get("MaxSendRate", 0.0))
        stack_rate = float(self._stack.parameter("SesMaxSendRate") or 0)
        if stack_rate > account_rate:
            return failed(
                check,
                f"SesMaxSendRate {stack_rate:g}/s is above the account's {account_rate:g}/s: SES throttles the digest",
                f"redeploy with SesMaxSendRate={math.floor(account_rate) or 1} (samconfig.toml parameter_overrides)",
            )
        roster = self._roster
        seconds = roster / stack_rate if stack_rate else 0.0
        if seconds > BACKLOG_ALARM_SECONDS:
            raise_to = min(account_rate, math.ceil(roster / BACKLOG_ALARM_SECONDS))
            return warned(
                check,
                f"the digest to {roster} takes {seconds / 3600:.1f} h at {stack_rate:g}/s: "
                "DigestBacklogAlarm fires after 1 h",
                f"redeploy with SesMaxSendRate={raise_to:g}"
                if raise_to > stack_rate
                else f"ask SES for a send rate of {math.ceil(roster / BACKLOG_ALARM_SECONDS)}/s (Service Quotas)",
            )
        return passed(
            check,
            f"the stack sends at {stack_rate:g}/s, the account allows {account_rate:g}/s"
            + (f"; the digest takes {math.ceil(seconds / 60)} min" if roster else ""),
        )
