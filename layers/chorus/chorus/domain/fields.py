"""Field parsers shared by the upload models, each failing with a reason an admin can act on.

Used as pydantic ``BeforeValidator``s so CSV strings and JSON values go through one path. Every
parser raises ``ValueError`` and nothing else: pydantic turns it into a field problem, any other
exception would end the upload without a report.

What each kind of field accepts (README, "Uploading content and the roster"):
- single-line fields (title, campaign, id, email, name, groups, tags, time zone, locale, URLs):
  trimmed; refused if they hold any C0 or C1 control character (tab, CR, LF, NUL, ESC, NEL...),
  DEL, a line or paragraph separator (U+2028, U+2029), or a bidirectional embedding, override or
  isolate (U+202A-U+202E, U+2066-U+2069: they make text display in another order than it is
  stored). A name with CR/LF would otherwise reach an email header.
- post texts (text, text_linkedin, text_x, text_mastodon): CRLF and CR become LF, then trimmed;
  line breaks and tabs are kept, every other character above is refused.
- both: no lone surrogates (not Unicode text), and no spreadsheet formula at the start once
  leading blanks and invisible characters are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator

from chorus.domain.report import echo

MAX_URL_LENGTH = 2048
# Groups or tags in one cell; the digest matches them against every employee's groups.
MAX_NAMES = 50
_LIST_SEPARATORS = re.compile(r"[;,|]")
_NAME_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_.:/-]{0,63}$")
_TRUE = {"true", "yes", "y", "1", "active"}
_FALSE = {"false", "no", "n", "0", "inactive", "left"}
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE_REFUSED = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}]")
_MULTI_LINE_REFUSED = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI_CONTROL = re.compile(f"[{_BIDI_CONTROLS}]")
_CHARACTER_NAMES = {
    "\t": "a tab",
    "\n": "a line break",
    "\r": "a carriage return",
    "\x00": "a NUL character",
    "\x1b": "an escape character",
    "\x85": "a next-line character",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}
# Spreadsheets run a cell that starts with these as a formula (CSV/formula injection, OWASP).
_FORMULA_PREFIXES = ("=", "@")
# "+" and "-" start ordinary text ("- new office", "+33 1 23", "-10% off"), so they only count
# when glued to what follows and the cell holds a call, a sheet reference or a cell reference.
_SIGNED_FORMULA = re.compile(r"^[+-]\S.*(\(|!|\b\$?[A-Za-z]{1,3}\$?\d+\b)")
# What a spreadsheet skips before deciding a cell is a formula: blanks, controls, invisible marks.
_IGNORED_BEFORE_FORMULA = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _character(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char in _CHARACTER_NAMES:
        return f"{_CHARACTER_NAMES[char]} ({code})"
    if _BIDI_CONTROL.match(char):
        return f"a bidirectional override ({code})"
    return f"a control character ({code})"


def formula_problem(value: str) -> str | None:
    """Why a spreadsheet would run ``value`` as a formula, looking past leading blanks,
    line breaks, controls and invisible characters (``" =1+2"``, ``"\\n=cmd|..."``)."""
    start = 0
    while start < len(value) and _ignored_before_formula(value[start]):
        start += 1
    rest = value[start:]
    if not rest.startswith(_FORMULA_PREFIXES) and not _SIGNED_FORMULA.match(rest):
        return None
    after = " after leading blanks" if start else ""
    return (
        f"starts with {rest[:1]!r}{after}, which spreadsheets run as a formula; "
        "remove the leading character (or start the cell with an apostrophe)"
    )


def _ignored_before_formula(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in _IGNORED_BEFORE_FORMULA


def _unicode_checked(value: str) -> str:
    if _SURROGATE.search(value):
        raise ValueError("is not valid Unicode text (it holds a lone UTF-16 surrogate)")
    return value


def single_line(value: str) -> str:
    """``value`` trimmed, or ValueError if it holds a control, separator or bidi override."""
    text = _unicode_checked(value).strip()
    refused = _SINGLE_LINE_REFUSED.search(text)
    if refused:
        raise ValueError(
            f"contains {_character(refused.group())} at character {refused.start() + 1}; "
            "it must be a single line of plain text"
        )
    return text


def multi_line(value: str) -> str:
    """``value`` with CRLF/CR as LF, trimmed; line breaks and tabs are the only controls kept."""
    text = _unicode_checked(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    refused = _MULTI_LINE_REFUSED.search(text)
    if refused:
        raise ValueError(
            f"contains {_character(refused.group())} at character {refused.start() + 1}; "
            "a post text may hold line breaks and tabs but no other control characters"
        )
    return text


def parse_https_url(value: Any) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError("must be a URL text")
    url = single_line(value)
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"is longer than {MAX_URL_LENGTH} characters")
    if any(character.isspace() for character in url):
        raise ValueError("must not contain spaces")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        has_userinfo = bool(parts.username or parts.password)
    except ValueError:
        raise ValueError("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme != "https":
        got = f"a {scheme}: URL" if scheme else "no scheme"
        raise ValueError(f"must be an https:// URL (got {got})")
    if not hostname or "." not in hostname:
        raise ValueError("must name a host, like https://example.com/page")
    if has_userinfo:
        raise ValueError("must not carry a user name or password")
    return url


def parse_name_list(value: Any) -> list[str]:
    """Groups and tags: 'Sales; Paris' in CSV or ["sales", "paris"] in JSON -> ['sales', 'paris']."""
    if _blank(value):
        return []
    if isinstance(value, str):
        items: list[Any] = _LIST_SEPARATORS.split(single_line(value))
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError("must be a list of names (separate them with ';' in CSV)")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError("must be a list of names (text)")
        name = re.sub(r"\s+", "-", single_line(item).lower())
        if not name:
            continue
        if not _NAME_TOKEN.match(name):
            raise ValueError(
                f"{echo(item.strip())} is not a valid name: use letters, digits, '-', '_', '.' (at most 64)"
            )
        if name not in names:
            if len(names) == MAX_NAMES:
                raise ValueError(f"holds more than {MAX_NAMES} names")
            names.append(name)
    return names


_DATE_EXAMPLE = "must be a date (2026-12-01) or a date-time (2026-12-01T09:00:00+01:00)"


def parse_timestamp(value: Any, *, end_of_day: bool = False) -> datetime | None:
    """ISO 8601 date or date-time. A bare date means the whole day in UTC; no offset means UTC."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = single_line(value)
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC).replace(microsecond=0)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(_DATE_EXAMPLE) from None
    else:
        raise ValueError(_DATE_EXAMPLE)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before the first representable UTC instant
        raise ValueError("is out of the range of dates Chorus can store") from None


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


# The longest IANA name is 32 characters (America/Argentina/ComodRivadavia).
_MAX_ZONE_NAME = 64


def parse_timezone(value: Any) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError("must be an IANA time zone name like Europe/Paris")
    name = single_line(value)
    if not _is_zone(name):
        raise ValueError(f"{echo(name)} is not an IANA time zone name (like Europe/Paris)")
    return name


def _is_zone(name: str) -> bool:
    if len(name) > _MAX_ZONE_NAME:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_locale(value: Any) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise ValueError("must be a language tag like en or fr-FR")
    match = re.fullmatch(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?", value.strip())
    if not match:
        raise ValueError(f"{echo(value.strip())} is not a language tag like en or fr-FR")
    language, region = match.groups()
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


def _as_text(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value


def parse_line(value: Any) -> str | None:
    """A single-line text field (title, campaign, id, email, name)."""
    if _blank(value):
        return None
    text = single_line(_as_text(value))
    problem = formula_problem(text)
    if problem:
        raise ValueError(problem)
    return text


def parse_post_text(value: Any) -> str | None:
    """A post text: may span lines."""
    if _blank(value):
        return None
    text = multi_line(_as_text(value))
    problem = formula_problem(text)
    if problem:
        raise ValueError(problem)
    return text


def parse_points(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        return value
    # ASCII digits only, and few of them: int() of thousands of digits is refused by Python itself.
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        return int(value)
    raise ValueError("must be a whole number")


HttpsUrl = Annotated[str | None, BeforeValidator(parse_https_url)]
NameList = Annotated[list[str], BeforeValidator(parse_name_list)]
StartTime = Annotated[datetime | None, BeforeValidator(parse_start)]
EndTime = Annotated[datetime | None, BeforeValidator(parse_end)]
Flag = Annotated[bool | None, BeforeValidator(parse_flag)]
TimeZoneName = Annotated[str | None, BeforeValidator(parse_timezone)]
Locale = Annotated[str | None, BeforeValidator(parse_locale)]
Line = Annotated[str | None, BeforeValidator(parse_line)]
PostText = Annotated[str | None, BeforeValidator(parse_post_text)]
Points = Annotated[int | None, BeforeValidator(parse_points)]
