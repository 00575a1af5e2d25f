"""Compliance review (ReviewEditedPosts): which approvals wait for a reviewer, and when a reviewed
post goes out.

A text the employee edited is their own words under the company's name: with ReviewEditedPosts
on, it waits for a reviewer in the console before anything is scheduled. The reviewer approves
or rejects; they never change the text (the approval's snapshot and its SHA-256 are what goes
out). A text the employee left as offered (the company's text and the disclosure) was written by
the company and goes straight through.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from chorus.domain.networks import Network
from chorus.domain.timing import QuietHours

MAX_REVIEW_NOTE = 500
# As an approval "now": Scheduler needs a future time, and the employee a moment to cancel.
REVIEW_PUBLISH_DELAY = timedelta(minutes=1)


@dataclass(frozen=True)
class Reviewer:
    """Who decided: the console session's OIDC subject and display name."""

    subject: str
    name: str


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ReviewOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    # Approved by the reviewer too late (the content's window closed), or the content changed,
    # was retracted, or the employee left meanwhile: nothing is scheduled.
    LAPSED = "lapsed"


class ReviewRefusal(StrEnum):
    """Why a reviewer's approval could not schedule the post."""

    NOT_IN_REVIEW = "not_in_review"
    EMPLOYEE_INACTIVE = "employee_inactive"
    CONTENT_CHANGED = "content_changed"


def edited(texts: Mapping[Network, str], offered: Mapping[Network, Iterable[str]]) -> bool:
    """Whether any network's approved text is not one the employee was offered. ``offered`` holds,
    per network, every text the company offers (one per disclosure language): a text equal to one
    of them is the company's own words."""
    return any(text not in set(offered.get(network, ())) for network, text in texts.items())


def publish_time_after_review(
    chosen: datetime,
    now: datetime,
    timezone: str,
    *,
    ends_at: datetime | None,
    quiet: QuietHours | None = None,
) -> datetime | None:
    """When a post the reviewer approved goes out: at the time the employee chose if it is still
    ahead; otherwise as soon as possible (as an approval "now": a minute ahead, after the quiet
    hours), provided that is still inside the content's window. None: the window has closed by
    then, the approval lapses and nothing is scheduled (never a post outside the window)."""
    moment = chosen
    if chosen < now + REVIEW_PUBLISH_DELAY:
        moment = now + REVIEW_PUBLISH_DELAY
        if quiet and quiet.contains(moment, timezone):
            moment = quiet.next_end(moment, timezone)
    if ends_at is not None and moment >= ends_at:
        return None
    return moment


def review_note(note: str) -> str:
    """The note as stored and emailed: trimmed, bounded."""
    return " ".join(note.split())[:MAX_REVIEW_NOTE]


@dataclass(frozen=True)
class DiffPart:
    kind: Literal["same", "removed", "added"]
    text: str


def text_diff(offered: str, approved: str) -> list[DiffPart]:
    """What the employee changed, word by word (spaces and line breaks kept), for the reviewer to
    read: the offered text's words they removed, and the words they added."""
    before, after = re.split(r"(\s+)", offered), re.split(r"(\s+)", approved)
    parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(DiffPart("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("removed", "".join(before[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("added", "".join(after[j1:j2])))
    return [part for part in parts if part.text]
