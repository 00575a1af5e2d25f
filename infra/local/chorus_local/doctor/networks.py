"""What employees connect to and share on: the LinkedIn version, the sandbox, the public base URL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from chorus_local.doctor.findings import Finding, failed, passed, warned
from chorus_local.doctor.secrets import enabled_networks
from chorus_local.doctor.stack import DeployedStack

# LinkedIn announces a version's sunset; inside this many days the operator has to act.
SUNSET_WARNING_DAYS = 60
VERSIONING_PAGE = "https://learn.microsoft.com/en-us/linkedin/marketing/versioning"
# What the functions' settings accept (chorus.config): scheme and host, no path, no trailing slash.
_BASE_URL = re.compile(r"^https://[^/]+$")


class NetworkChecks:
    def __init__(
        self,
        stack: DeployedStack,
        apigatewayv2: Any,
        *,
        sunset: Callable[[str], date],
        recommended_version: str,
        today: date,
    ) -> None:
        self._stack = stack
        self._apigatewayv2 = apigatewayv2
        self._sunset = sunset
        self._recommended = recommended_version
        self._today = today

    def linkedin_version(self) -> Finding:
        check, version = "networks.linkedin-version", self._stack.parameter("LinkedInVersion")
        if "linkedin" not in enabled_networks(self._stack):
            return passed(check, "LinkedIn is not enabled (Networks)")
        try:
            sunset = self._sunset(version)
        except ValueError:
            return failed(check, f"LinkedInVersion {version!r} is not YYYYMM", self._redeploy_fix(version))
        days = (sunset - self._today).days
        if days < 0:
            return failed(
                check,
                f"LinkedIn retired version {version} on {sunset.isoformat()}: every LinkedIn post is refused",
                self._redeploy_fix(version),
            )
        if days <= SUNSET_WARNING_DAYS:
            return warned(
                check,
                f"LinkedIn retires version {version} on {sunset.isoformat()}, in {days} day(s)",
                self._redeploy_fix(version),
            )
        return passed(check, f"version {version} is served until {sunset.isoformat()} ({days} days)")

    def _redeploy_fix(self, version: str) -> str:
        try:
            newer = self._sunset(self._recommended) > self._sunset(version)
        except ValueError:
            newer = True
        if newer:
            return f"redeploy with LinkedInVersion={self._recommended} (samconfig.toml parameter_overrides)"
        return f"pick a newer version at {VERSIONING_PAGE} and redeploy with LinkedInVersion=YYYYMM"

    def sandbox(self) -> Finding:
        check = "networks.sandbox"
        if self._stack.parameter("SandboxEnabled").lower() == "true":
            return warned(
                check,
                "the sandbox network is offered: employees may approve posts that go to a demo feed, not a network",
                "redeploy with SandboxEnabled=false",
            )
        return passed(check, "off")

    def public_base_url(self) -> Finding:
        check, base = "web.public-base-url", self._stack.parameter("PublicBaseUrl")
        if not base:
            return passed(
                check, f"not set: employee links use {self._stack.outputs.get('ApiUrl', 'the ApiUrl output')}"
            )
        if not _BASE_URL.match(base):
            return failed(
                check,
                f"PublicBaseUrl {base!r} is not https://host (no path, no trailing slash): the functions refuse it",
                f"redeploy with PublicBaseUrl=https://{urlsplit(base).hostname or '<host>'}",
            )
        host = urlsplit(base).hostname or ""
        api = self._stack.physical_id("HttpApi")
        try:
            self._apigatewayv2.get_domain_name(DomainName=host)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                raise
            return warned(
                check,
                f"{host} is not an API Gateway custom domain in {self._stack.region} (fine if a CDN in front "
                "forwards to the API)",
                "API Gateway -> Custom domain names: create it with an ACM certificate, map it to the stack's "
                "API, point DNS at it",
            )
        mappings = self._apigatewayv2.get_api_mappings(DomainName=host).get("Items", [])
        if not any(mapping.get("ApiId") == api for mapping in mappings):
            return failed(
                check,
                f"the custom domain {host} does not lead to this stack's API ({api})",
                f"aws apigatewayv2 create-api-mapping --region {self._stack.region} --domain-name {host} "
                f"--api-id {api} --stage '$default'",
            )
        return passed(check, f"{host} is mapped to the stack's API")
