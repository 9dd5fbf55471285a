"""Identity and duplicates: a stable id per record, a content hash per story."""

from __future__ import annotations

import hashlib
import re

from search.models import RawRecord

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_SPACES = re.compile(r"\s+")


def article_id(record: RawRecord) -> str:
    """The record's own id when it is URL-safe; else a hash of its id, URL or position."""
    if record.record_id and _SAFE_ID.match(record.record_id):
        return record.record_id
    key = record.record_id or record.url or record.origin.key()
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def content_hash(headline: str, body: str) -> str:
    """Equal for the same story whatever its case, spacing or file it came in."""
    normalised = _SPACES.sub(" ", f"{headline}\n{body}").strip().casefold()
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()
