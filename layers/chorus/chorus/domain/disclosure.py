"""The disclosure added to every proposed post, and the one text proposed to an employee.

Employees rewarded with points for sharing are endorsing their employer: the US FTC Endorsement
Guides (16 CFR Part 255, section 255.5) require the material connection between endorser and
company to be disclosed clearly, and other regulators (the UK CMA and ASA, the EU's Unfair
Commercial Practices Directive) ask the same. The company sets a short disclosure per language
(``#employee``, ``#collaborateur``); it is added to the text each employee is offered, so it is
in the editor, the preview, the length the network counts, and the approved snapshot and its
hash. With ``required``, an approved text that lost it is refused.

``proposed_text`` is the ONE place that says what an employee is offered for a piece of content
on a network; every channel that shows a post (the approval page, Slack) calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chorus.domain.content import Content
from chorus.domain.networks import Network

# The separator put between the company's text and the disclosure.
SEPARATOR = "\n\n"
DEFAULT_LANGUAGE = "en"


def language_of(locale: str) -> str:
    """``fr-FR`` -> ``fr``: disclosures are set per language."""
    return locale.replace("_", "-").split("-", maxsplit=1)[0].lower()


@dataclass(frozen=True)
class Disclosure:
    """The disclosure per language; a language without one gets the default language's."""

    by_language: dict[str, str] = field(default_factory=dict)
    required: bool = False

    def __post_init__(self) -> None:
        if self.required and not self.by_language:
            raise ValueError("a required disclosure needs at least one text")

    def for_locale(self, locale: str) -> str | None:
        texts = self.by_language
        return texts.get(language_of(locale)) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()), None)

    def carried_by(self, text: str) -> bool:
        """The text holds one of the disclosures, as a whole word (``#employees`` is not
        ``#employee``). Any language's counts: an employee may write in another language."""
        return any(_holds(text, disclosure) for disclosure in self.by_language.values())


def _holds(text: str, disclosure: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(disclosure)}(?!\w)", text) is not None


def proposed_text(content: Content, network: Network, locale: str, disclosure: Disclosure) -> str:
    """What the employee is offered to post: the content's text for the network, then the
    disclosure for their language unless the text already holds it."""
    return disclosed(content.text_for(network), locale, disclosure)


def disclosed(text: str, locale: str, disclosure: Disclosure) -> str:
    """The text followed by the disclosure for the locale, unless it already holds it."""
    text = text.strip()
    tag = disclosure.for_locale(locale)
    if tag is None or _holds(text, tag):
        return text
    return f"{text}{SEPARATOR}{tag}" if text else tag
