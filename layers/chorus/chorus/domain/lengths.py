"""How long a post may be on each network, counted the way that network counts it.

One rule per network (its profile's, ``chorus.domain.networks``), used by upload validation,
approval validation, the approval page's live counter (the page gets `LengthRule.for_page()` and
`PAGE_PATTERNS`, and `chorus.js` runs the same algorithm on the same patterns) and the adapters
(which compose the post with the rule's separator).

- X: twitter-text v3 weighted length (https://docs.x.com/fundamentals/counting-characters,
  config v3.json of https://github.com/twitter/twitter-text): text NFC-normalised; code points
  in U+0000-U+10FF and a few punctuation ranges weigh 1, all others 2; each emoji sequence
  (the Java library's pattern) weighs 2; each URL, with or without a protocol, weighs 23. The
  post is the text, a space, then the link (23): 280 in all.
- Mastodon: `StatusLengthValidator` counts grapheme clusters of the text after replacing each
  http(s) URL (twitter-text's URL pattern, protocol required) by 23 characters. We count code
  points, which is never fewer than grapheme clusters: a text we accept is never refused. The
  limit is the employee's server's (`configuration.statuses.max_characters` of
  `/api/v2/instance`, https://docs.joinmastodon.org/methods/instance/#v2), 500 by default; the
  post is the text, a blank line, then the link.
- LinkedIn: 3,000 characters of `commentary` as sent, that is after little-text escaping (each
  reserved character gains a backslash), counted in UTF-16 code units as LinkedIn's Java
  services count strings. The link goes in the article card, not in the text.
- Bluesky: 300 grapheme clusters (`app.bsky.feed.post` text: maxGraphemes 300, maxLength 3,000
  UTF-8 bytes), the text as written: a URL costs what it is, no shortening. The post is the text,
  a blank line, then the tracked link as written; `BLUESKY_LINK_RESERVE` graphemes are kept for
  it, and the adapter refuses, before sending, a post that does not fit after all.
- Sandbox: 3,000 code points.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from chorus.domain import twitter_text_data

if TYPE_CHECKING:
    import regex

# twitter-text v3 config (config/v3.json): weights are scaled by 100.
WEIGHT_SCALE = 100
DEFAULT_WEIGHT = 200
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
TRANSFORMED_URL_LENGTH = 23
MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
MAX_DOMAIN_LABEL_LENGTH = 63

# LinkedIn's "little" text format reserves these; each is sent backslash-escaped.
LITTLE_TEXT_RESERVED = frozenset("\\|{}@[]()<>#*_~")
# Mastodon's default, and what a server that does not say is assumed to allow.
MASTODON_DEFAULT_LIMIT = 500
# Bounds on what a server may claim (it is employee-chosen): beyond them, assume the default.
MAX_SERVER_LIMIT = 100_000
# A server may allow far more, but a post Chorus offers stays at most this long: the approval
# form (web.pages.MAX_FORM_BYTES) must hold every network's text at its limit.
MAX_HONOURED_LIMIT = 5_000
MAX_SERVER_URL_COST = 1_000
# app.bsky.feed.post text: at most 300 grapheme clusters and 3,000 UTF-8 bytes.
BLUESKY_LIMIT = 300
BLUESKY_MAX_BYTES = 3_000
# What the post keeps for the tracked link as written (``<PublicBaseUrl>/r/<12 letters>``): a
# base URL of up to 65 characters fits, the API's own execute-api URL (at most 62) included.
BLUESKY_LINK_RESERVE = 80


class Counting(StrEnum):
    WEIGHTED = "weighted"  # twitter-text v3
    CODE_POINTS = "code_points"
    UTF16 = "utf16"
    GRAPHEMES = "graphemes"  # extended grapheme clusters (UAX #29), as Bluesky counts


class UrlCounting(StrEnum):
    NONE = "none"  # URLs count as typed
    ANY = "any"  # every URL twitter-text finds, with or without a protocol
    WITH_PROTOCOL = "with_protocol"  # only http(s):// URLs


# ---------------------------------------------------------------- twitter-text patterns
# Written for both Python's `re` and JavaScript's RegExp with the `u` flag (chorus.js): only
# syntax characters are escaped, code points above U+FFFF as \U........ (rewritten as \u{...}
# for the page), no \d \w \s (they differ between the two engines).
_SPACES = r"\x09-\x0d\x20\x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_INVALID_CHARS = r"\ufffe\ufeff\uffff"
_DIRECTIONAL = r"\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]\^_{|}~$"
_LATIN_ACCENTS = (
    r"\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268\u026f"
    r"\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = r"\u0400-\u04ff"


def _tld_pattern(tlds: tuple[str, ...]) -> str:
    # TLDs are letters and marks only (checked by the tests): nothing to escape.
    return "(?:(?:" + "|".join(tlds) + ")(?=[^0-9a-zA-Z@+\\-]|$))"


def _url_patterns() -> dict[str, str]:
    domain_char = f"[^{_PUNCT}{_SPACES}{_INVALID_CHARS}{_DIRECTIONAL}]"
    subdomain = f"(?:(?:{domain_char}(?:[_\\-]|{domain_char})*)?{domain_char}\\.)"
    domain_name = f"(?:(?:{domain_char}(?:-|{domain_char})*)?{domain_char}\\.)"
    gtld = _tld_pattern(twitter_text_data.GENERIC_TLDS)
    cctld = _tld_pattern(twitter_text_data.COUNTRY_TLDS)
    punycode = "(?:xn--[\\-0-9a-z]+)"
    domain = f"(?:{subdomain}*{domain_name}(?:{gtld}|{cctld}|{punycode}))"
    path_char = f"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\\u2013_~@|&{_LATIN_ACCENTS}]"
    parens = f"\\((?:{path_char}+|(?:{path_char}*\\({path_char}+\\){path_char}*))\\)"
    path_end = f"(?:[+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|(?:{parens}))"
    path = f"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:@{path_char}+/))"
    query_char = "[a-z0-9!?*'@();:&=+$/%#\\[\\]\\-_.,~|]"
    query_end = "[a-z0-9\\-_&=#/]"
    preceding = f"(?:[^A-Za-z0-9@\\uff20$#\\uff03{_INVALID_CHARS}]|[{_DIRECTIONAL}]|^)"
    return {
        # groups: 1 preceding, 2 url, 3 protocol, 4 domain, 5 port, 6 path, 7 query
        "url": (f"({preceding})((https?://)?({domain})(?::([0-9]+))?(/{path}*)?(\\?{query_char}*{query_end})?)"),
        "ascii_domain": f"(?:(?:[\\-a-z0-9{_LATIN_ACCENTS}]+)\\.)+(?:{gtld}|{cctld}|{punycode})",
        "tco": f"^https?://t\\.co/([a-z0-9]+)(?:\\?{query_char}*{query_end})?",
        "emoji": twitter_text_data.EMOJI,
    }


@cache
def _pattern(name: str) -> re.Pattern[str]:
    """Each compiled when first needed: the TLD alternations make the URL patterns slow to compile
    (about 17 ms for "url", 11 ms for "ascii_domain", of a cold start), and most texts need
    "ascii_domain" (a URL without protocol) or "tco" never."""
    if name == "emoji":
        return re.compile(twitter_text_data.EMOJI)
    return re.compile(_url_patterns()[name], re.IGNORECASE)


_INVALID_WITHOUT_PROTOCOL_BEFORE = re.compile(r"[-_./]$")


def _punycode_label(label: str) -> str:
    """punycode.js toASCII of one label (its "non-ASCII" is anything above U+007E)."""
    if all(ord(char) <= 0x7E for char in label):
        return label
    return "xn--" + label.encode("punycode").decode("ascii")


def _valid_domain(domain: str) -> bool:
    """twitter-text's idna.toAscii check: every label 1..63 characters once punycode-encoded."""
    if domain[:4] == "xn--" and not _pattern("ascii_domain").search(domain):
        return False
    return all(1 <= len(_punycode_label(label)) <= MAX_DOMAIN_LABEL_LENGTH for label in domain.split("."))


def url_spans(text: str, *, without_protocol: bool = True) -> list[tuple[int, int]]:
    """(start, end) code point indices of the URLs twitter-text extracts (extractUrlsWithIndices)."""
    if not text or ("." not in text if without_protocol else ":" not in text):
        return []
    spans: list[tuple[int, int]] = []
    for match in _pattern("url").finditer(text):
        before, url, protocol, domain, path = (
            match.group(1),
            match.group(2),
            match.group(3),
            match.group(4),
            match.group(6),
        )
        end = match.end()
        start = end - len(url)
        if not _valid_domain(domain) or len(protocol or "https://") + len(url) > MAX_URL_LENGTH:
            continue
        if not protocol:
            if not without_protocol or _INVALID_WITHOUT_PROTOCOL_BEFORE.search(before):
                continue
            found = [(start + m.start(), start + m.end()) for m in _pattern("ascii_domain").finditer(domain)]
            if not found:
                continue
            if path:
                found[-1] = (found[-1][0], end)
            spans.extend(found)
            continue
        tco = _pattern("tco").match(url)
        if tco:
            if len(tco.group(1)) > MAX_TCO_SLUG_LENGTH:
                continue
            end = start + len(tco.group(0))
        spans.append((start, end))
    return spans


def _light(point: int) -> bool:
    return any(low <= point <= high for low, high in LIGHT_RANGES)


def weighted_length(text: str) -> int:
    """twitter-text v3 `parseTweet(text).weightedLength`."""
    text = unicodedata.normalize("NFC", text)
    urls = dict(url_spans(text))
    emoji = {match.start(): match.end() for match in _pattern("emoji").finditer(text)}
    weight = 0
    index = 0
    while index < len(text):
        if index in urls:
            weight += TRANSFORMED_URL_LENGTH * WEIGHT_SCALE
            index = urls[index]
        elif index in emoji:
            weight += DEFAULT_WEIGHT
            index = emoji[index]
        else:
            weight += WEIGHT_SCALE if _light(ord(text[index])) else DEFAULT_WEIGHT
            index += 1
    return weight // WEIGHT_SCALE


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@cache
def _grapheme_pattern() -> regex.Pattern[str]:
    # Imported on first use: `regex` costs about 50 ms to import, which only Bluesky needs.
    import regex

    return regex.compile(r"\X")


def grapheme_count(text: str) -> int:
    """Extended grapheme clusters: what a reader sees as one character (an emoji ZWJ sequence,
    a letter and its combining marks, a flag). The page counts with Intl.Segmenter, the same
    UAX #29 rules."""
    return sum(1 for _ in _grapheme_pattern().finditer(text))


@dataclass(frozen=True)
class LengthRule:
    """A network's length rule. `room` is what the employee may write: the limit less the link
    the publisher appends (separator included)."""

    limit: int
    counting: Counting
    urls: UrlCounting = UrlCounting.NONE
    url_cost: int = TRANSFORMED_URL_LENGTH
    # What goes between the text and the link in the post; None: the link is not in the text.
    separator: str | None = None
    # Characters counted twice because they are sent escaped (LinkedIn's little text).
    escaped: frozenset[str] = frozenset()

    @property
    def link_cost(self) -> int:
        return 0 if self.separator is None else len(self.separator) + self.url_cost

    @property
    def room(self) -> int:
        return self.limit - self.link_cost

    def length(self, text: str) -> int:
        """The text's length as the network counts it (the text as approved: NFC, LF newlines)."""
        text = unicodedata.normalize("NFC", text)
        if self.counting is Counting.WEIGHTED:
            return weighted_length(text)
        spans = url_spans(text, without_protocol=True) if self.urls is UrlCounting.ANY else []
        if self.urls is UrlCounting.WITH_PROTOCOL:
            spans = url_spans(text, without_protocol=False)
        count = self.url_cost * len(spans)
        kept = "".join(text[start:end] for start, end in _gaps(spans, len(text)))
        if self.counting is Counting.GRAPHEMES:
            count += grapheme_count(kept)
        else:
            count += _utf16_units(kept) if self.counting is Counting.UTF16 else len(kept)
        return count + sum(1 for char in kept if char in self.escaped)

    def fits(self, text: str) -> bool:
        return self.length(text) <= self.room

    def compose(self, text: str, link: str) -> str:
        """The post as sent: the text, then the separator and the link where the link goes in it."""
        return f"{text}{self.separator}{link}" if self.separator is not None and link else text

    def with_limit(self, limit: int, url_cost: int) -> LengthRule:
        return replace(self, limit=limit, url_cost=url_cost)

    def for_page(self) -> dict[str, Any]:
        """What the page's counter needs (chorus.js), besides PAGE_PATTERNS."""
        return {
            "room": self.room,
            "counting": self.counting.value,
            "urls": self.urls.value,
            "url_cost": self.url_cost,
            "escaped": "".join(sorted(self.escaped)),
        }


@dataclass(frozen=True)
class InstanceLimits:
    """A Mastodon server's own status limits (`/api/v2/instance` configuration.statuses)."""

    max_characters: int = MASTODON_DEFAULT_LIMIT
    characters_reserved_per_url: int = TRANSFORMED_URL_LENGTH

    @classmethod
    def from_configuration(cls, max_characters: object, reserved_per_url: object) -> InstanceLimits:
        """What a server says, where plausible; the defaults for anything else."""
        return cls(
            max_characters=min(
                _plausible(max_characters, 1, MAX_SERVER_LIMIT, MASTODON_DEFAULT_LIMIT), MAX_HONOURED_LIMIT
            ),
            characters_reserved_per_url=_plausible(reserved_per_url, 0, MAX_SERVER_URL_COST, TRANSFORMED_URL_LENGTH),
        )


def _plausible(value: object, low: int, high: int, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return default


def _gaps(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    gaps, position = [], 0
    for start, end in spans:
        gaps.append((position, start))
        position = end
    gaps.append((position, size))
    return gaps


def _for_javascript(pattern: str) -> str:
    r"""\U0001f468 (Python) -> \u{1f468} (JavaScript, `u` flag); real characters -> escapes."""
    source = pattern.encode("ascii", "backslashreplace").decode("ascii")
    return re.sub(r"\\U([0-9a-fA-F]{8})", lambda match: "\\u{" + match.group(1).lstrip("0") + "}", source)


@cache
def page_patterns() -> dict[str, Any]:
    """The twitter-text patterns and weights for the page's counter (served as /assets/lengths.js)."""
    return {
        "patterns": {name: _for_javascript(pattern) for name, pattern in _url_patterns().items()},
        "light_ranges": LIGHT_RANGES,
        "scale": WEIGHT_SCALE,
        "default_weight": DEFAULT_WEIGHT,
        "url_length": TRANSFORMED_URL_LENGTH,
        "max_url_length": MAX_URL_LENGTH,
        "max_tco_slug": MAX_TCO_SLUG_LENGTH,
        "max_label": MAX_DOMAIN_LABEL_LENGTH,
    }
