"""Field parsers shared by the upload models, each failing with a reason an admin can act on.

Used as pydantic ``BeforeValidator``s so CSV strings and JSON values go through one path.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator

MAX_URL_LENGTH = 2048
_LIST_SEPARATORS = re.compile(r"[;,|]")
_NAME_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_.:/-]{0,63}$")
_TRUE = {"true", "yes", "y", "1", "active"}
_FALSE = {"false", "no", "n", "0", "inactive", "left"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_https_url(value: Any) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError("must be a URL text")
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"is longer than {MAX_URL_LENGTH} characters")
    if any(character.isspace() for character in url):
        raise ValueError("must not contain spaces")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https":
        got = f"a {scheme}: URL" if scheme else "no scheme"
        raise ValueError(f"must be an https:// URL (got {got})")
    if not parts.hostname or "." not in parts.hostname:
        raise ValueError("must name a host, like https://example.com/page")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password")
    return url


def parse_name_list(value: Any) -> list[str]:
    """Groups and tags: 'Sales; Paris' in CSV or ["sales", "paris"] in JSON -> ['sales', 'paris']."""
    if _blank(value):
        return []
    if isinstance(value, str):
        items = _LIST_SEPARATORS.split(value)
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError("must be a list of names (separate them with ';' in CSV)")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError("must be a list of names (text)")
        name = re.sub(r"\s+", "-", item.strip().lower())
        if not name:
            continue
        if not _NAME_TOKEN.match(name):
            raise ValueError(f"'{item.strip()}' is not a valid name: use letters, digits, '-', '_', '.' (at most 64)")
        if name not in names:
            names.append(name)
    return names


def parse_timestamp(value: Any, *, end_of_day: bool = False) -> datetime | None:
    """ISO 8601 date or date-time. A bare date means the whole day in UTC; no offset means UTC."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC).replace(microsecond=0)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be a date (2026-12-01) or a date-time (2026-12-01T09:00:00+01:00)") from None
    else:
        raise ValueError("must be a date (2026-12-01) or a date-time (2026-12-01T09:00:00+01:00)")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_start(value: Any) -> datetime | None:
    return parse_timestamp(value)


def parse_end(value: Any) -> datetime | None:
    return parse_timestamp(value, end_of_day=True)


def parse_flag(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return False
    raise ValueError("must be true/false (or yes/no, active/inactive)")


def parse_timezone(value: Any) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError("must be an IANA time zone name like Europe/Paris")
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not an IANA time zone name (like Europe/Paris)") from None
    return name


def parse_locale(value: Any) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError("must be a language tag like en or fr-FR")
    match = re.fullmatch(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?", value.strip())
    if not match:
        raise ValueError(f"'{value.strip()}' is not a language tag like en or fr-FR")
    language, region = match.groups()
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


def parse_text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value.strip()


def parse_points(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    raise ValueError("must be a whole number")


HttpsUrl = Annotated[str | None, BeforeValidator(parse_https_url)]
NameList = Annotated[list[str], BeforeValidator(parse_name_list)]
StartTime = Annotated[datetime | None, BeforeValidator(parse_start)]
EndTime = Annotated[datetime | None, BeforeValidator(parse_end)]
Flag = Annotated[bool | None, BeforeValidator(parse_flag)]
TimeZoneName = Annotated[str | None, BeforeValidator(parse_timezone)]
Locale = Annotated[str | None, BeforeValidator(parse_locale)]
Text = Annotated[str | None, BeforeValidator(parse_text)]
Points = Annotated[int | None, BeforeValidator(parse_points)]
