"""Click tracking rules: who counts as a person, how a visitor is pseudonymised, where /r/{code} goes.

Pure functions only: no clock, no SDK, no settings. The service decides when to apply them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from chorus.domain.content import Network
from chorus.domain.tracking import CODE_LENGTH
from chorus.errors import ChorusError

# A visitor clicking again within this window is the same click.
CLICK_WINDOW = timedelta(hours=24)
VISITOR_KEY_LENGTH = 32
UTM_MEDIUM = "employee_advocacy"
DEFAULT_CAMPAIGN = "chorus"
UTM_NAMES = ("utm_source", "utm_medium", "utm_campaign", "utm_content")

_CODE = re.compile(rf"[0-9A-Za-z]{{{CODE_LENGTH}}}")

# Link unfurlers, crawlers, mail and link scanners, HTTP libraries and headless browsers.
# "bot" catches Googlebot, bingbot, Twitterbot, LinkedInBot, Slackbot, Discordbot, TelegramBot,
# Applebot... but not the "CUBOT" phone brand, whose model names appear in real browsers' UAs.
_AUTOMATED_AGENT = re.compile(
    r"(?<!cu)bot|crawl|spider|slurp|facebookexternalhit|facebookcatalog|whatsapp|embedly|pinterest"
    r"|curl|wget|python-requests|python-urllib|aiohttp|httpx|go-http-client|okhttp|java/|libwww|axios"
    r"|node-fetch|scrapy|headlesschrome|phantomjs|barracuda|mimecast|proofpoint|urldefense|safelinks"
    r"|preview",
    re.IGNORECASE,
)


class UnsafeTarget(ChorusError):
    """A stored link points somewhere we will not send people (not an absolute https URL)."""

    code = "unsafe_target"


class TrackedLink(BaseModel):
    """The link an approved post shares: /r/{code} -> the content's URL, on behalf of one employee."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str
    employee_id: str
    content_id: str
    network: Network
    target: str
    campaign: str = ""


def is_link_code(code: str) -> bool:
    """Shape check before any read: a crafted path never reaches the table."""
    return _CODE.fullmatch(code) is not None


def is_automated(user_agent: str, headers: Mapping[str, str]) -> bool:
    """True for requests no person made: known bots and scanners, an empty UA, prefetches, previews."""
    if not user_agent.strip() or _AUTOMATED_AGENT.search(user_agent):
        return True
    lowered = {name.lower(): value.lower() for name, value in headers.items()}
    purpose = " ".join(lowered.get(name, "") for name in ("purpose", "sec-purpose", "x-moz"))
    return "prefetch" in purpose or "preview" in lowered.get("x-purpose", "")


def visitor_key(secret: bytes, ip: str, user_agent: str, accept_language: str) -> str:
    """A keyed hash of what identifies a browser for a day; neither the IP nor the UA can be read back."""
    message = "\x00".join((ip, user_agent, accept_language)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:VISITOR_KEY_LENGTH]


def _ascii(text: str) -> str:
    """Non-ASCII characters percent-encoded (UTF-8), everything else left as it was."""
    return quote(text, safe=string.punctuation) if not text.isascii() else text


def _checked(target: str) -> tuple[str, str, str, str, str]:
    """The parts of an absolute https URL without credentials, ready for an ASCII Location header."""
    if any(character.isspace() or not character.isprintable() for character in target):
        raise UnsafeTarget("the link's destination is not a valid web address")
    parts = urlsplit(target)
    if parts.scheme.lower() != "https" or not parts.hostname or parts.username or parts.password:
        raise UnsafeTarget("the link's destination is not a secure web address")
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            netloc = netloc.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UnsafeTarget("the link's destination has an invalid host name") from exc
    return "https", netloc, _ascii(parts.path), _ascii(parts.query), _ascii(parts.fragment)


def tracked_target(target: str, network: str, campaign: str, content_id: str) -> str:
    """The stored target with our UTM parameters: other query parameters are kept byte for byte,
    earlier values of the four we set are replaced."""
    scheme, netloc, path, query, fragment = _checked(target)
    kept = [
        piece
        for piece in query.split("&")
        if piece and unquote_plus(piece.partition("=")[0]).strip().lower() not in UTM_NAMES
    ]
    utm = urlencode(
        {
            "utm_source": network,
            "utm_medium": UTM_MEDIUM,
            "utm_campaign": campaign or DEFAULT_CAMPAIGN,
            "utm_content": content_id,
        }
    )
    return urlunsplit((scheme, netloc, path, "&".join([*kept, utm]), fragment))
