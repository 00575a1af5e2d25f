"""The company's brand on employee pages and emails: its name ("Acme via Chorus"), its logo and
its accent colour.

The accent colour is the company's, but text must stay readable: links and buttons use it on
white (and white on it), so it is darkened, if need be, until its contrast with white reaches
WCAG 2.1's 4.5:1 for normal text (success criterion 1.4.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

PRODUCT = "Chorus"
DEFAULT_ACCENT = "#3b5bdb"
MIN_CONTRAST = 4.5
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.04045 else ((srgb + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of ``#rrggbb``."""
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_with_white(colour: str) -> float:
    return 1.05 / (relative_luminance(colour) + 0.05)


def readable_on_white(colour: str) -> str:
    """``colour``, or the nearest darker shade of it with a contrast of at least 4.5:1 on white."""
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    for step in range(101):
        keep = 1 - step / 100
        shade = f"#{round(red * keep):02x}{round(green * keep):02x}{round(blue * keep):02x}"
        if contrast_with_white(shade) >= MIN_CONTRAST:
            return shade
    return "#000000"


def https_origin(url: str) -> str:
    """The ``https://host[:port]`` of an https URL without credentials; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise ValueError("must be an https URL without credentials")
    if any(character in url for character in " \"'<>\\") or any(ord(character) < 0x21 for character in url):
        raise ValueError("must be a plain URL")
    return f"https://{parts.netloc.lower()}"


@dataclass(frozen=True)
class Brand:
    company_name: str = ""
    logo_url: str | None = None
    accent: str = DEFAULT_ACCENT

    def __post_init__(self) -> None:
        if not _HEX_COLOUR.fullmatch(self.accent):
            raise ValueError("the accent colour must be #rrggbb")
        if self.logo_url is not None:
            https_origin(self.logo_url)

    @property
    def display_name(self) -> str:
        """``Acme via Chorus``, or ``Chorus`` without a company name."""
        return f"{self.company_name} via {PRODUCT}" if self.company_name else PRODUCT

    def sender_name(self, product_sender: str) -> str:
        """The email sender's display name: "Acme via <the configured sender name>"."""
        return f"{self.company_name} via {product_sender}" if self.company_name else product_sender

    @property
    def accent_readable(self) -> str:
        return readable_on_white(self.accent.lower())

    @property
    def logo_origin(self) -> str | None:
        return https_origin(self.logo_url) if self.logo_url else None
