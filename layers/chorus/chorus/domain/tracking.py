"""Tracked links: each approved post shares a per-employee short link /r/{code}."""

from __future__ import annotations

import hashlib

CODE_LENGTH = 12
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def link_code(approval_id: str, revision: int = 1) -> str:
    """Stable per approval revision (so the publisher knows it without a read), unguessable
    enough (12 chars of a 55-letter alphabet from SHA-256), and free of look-alike characters.

    A later revision has a code of its own: an UNCONFIRMED post may be out there and be approved
    again with another url, and its link must keep leading where its employee approved. The
    first revision's code is the one every earlier post carries."""
    seed = approval_id if revision == 1 else f"{approval_id}\x00r{revision}"
    number = int.from_bytes(hashlib.sha256(f"link\x00{seed}".encode()).digest(), "big")
    letters = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(_ALPHABET))
        letters.append(_ALPHABET[index])
    return "".join(letters)
