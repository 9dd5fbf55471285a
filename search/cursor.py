"""Opaque cursors for deep paging: the position of the next result, tied to one search.

A cursor is base64url JSON ``{"o": offset, "f": fingerprint}``. The fingerprint is a
hash of everything that decides the order of results (query, filters, sort, collapse,
recency), so a cursor pasted into another search is refused instead of silently
paging through something else. Page size may change between pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from search.errors import InvalidRequest

MAX_CURSOR_CHARS = 200
MAX_OFFSET = 10_000_000


def fingerprint(state: dict[str, Any]) -> str:
    text = json.dumps(state, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode(offset: int, print_: str) -> str:
    raw = json.dumps({"o": offset, "f": print_}, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(token: str, print_: str) -> int:
    """The offset a cursor points at; InvalidRequest when it is not one of ours or
    belongs to another search."""
    bad = InvalidRequest("cursor is not valid: pass the 'next' value of a search response.")
    if not token or len(token) > MAX_CURSOR_CHARS:
        raise bad
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise bad from None
    if not isinstance(data, dict):
        raise bad
    offset = data.get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise bad
    if data.get("f") != print_:
        raise InvalidRequest(
            "cursor belongs to a different search: keep the query, filters and sort "
            "it was made with."
        )
    return offset
