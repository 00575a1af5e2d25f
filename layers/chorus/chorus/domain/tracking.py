"""Tracked links: each approved post shares a per-employee short link /r/{code}."""

from __future__ import annotations

import hashlib

CODE_LENGTH = 12
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def link_code(approval_id: str) -> str:
    """Stable per approval (so the publisher knows it without a read), unguessable enough
    (12 chars of a 55-letter alphabet from SHA-256), and free of look-alike characters."""
    number = int.from_bytes(hashlib.sha256(f"link\x00{approval_id}".encode()).digest(), "big")
    letters = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(_ALPHABET))
        letters.append(_ALPHABET[index])
    return "".join(letters)
