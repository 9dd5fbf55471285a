"""Typed records passed between the stages of the pipeline.

raw file -> RawRecord (readers) -> Article (pipeline) -> indexed document -> Hit (searcher).
A record that cannot go on becomes a Reject, so that every input is accounted for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

ENTITY_KINDS = ("person", "organization", "place", "other")

# Why a record was rejected, from a fixed set so that runs can be counted and compared;
# ``Reject.reason`` says the same for a person, with the details.
RejectCode = Literal[
    "empty",  # no headline and no body, in the file or the record, or none left after cleaning
    "not_text",  # binary content
    "unreadable",  # the file cannot be read, or its text not decoded in any encoding
    "malformed",  # broken JSON, CSV row, WARC record or compressed stream
    "unsupported_type",  # a file type, or a WARC response's content type, that is not read
    "no_article_text",  # a page with no article in it (or an HTTP error page in a WARC)
    "duplicate_id",  # an id used twice in one run for different content
]
REJECT_CODES: tuple[str, ...] = get_args(RejectCode)


@dataclass(frozen=True)
class Origin:
    """Where a record came from: a file and, when the format has them, a line or row."""

    path: str
    line: int | None = None
    row: int | None = None

    def describe(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.row is not None:
            return f"{self.path} row {self.row}"
        return self.path

    def key(self) -> str:
        """A stable key for records without an id or URL."""
        position = self.line if self.line is not None else self.row
        return self.path if position is None else f"{self.path}#{position}"


@dataclass
class RawRecord:
    """One article as a reader found it, before any cleaning."""

    origin: Origin
    headline: str
    body: str
    record_id: str | None = None
    date: str | None = None
    url: str | None = None
    source: str | None = None
    author: str | None = None


@dataclass
class Reject:
    """A record (or a whole file) that could not be indexed: why, as a code and in words."""

    origin: Origin
    reason: str
    code: RejectCode

    def __post_init__(self) -> None:
        # Two strings side by side are easy to swap; fail at once rather than count nonsense.
        if self.code not in REJECT_CODES:
            raise ValueError(f"unknown reject code {self.code!r}; one of {REJECT_CODES}")

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.origin.path,
            "line": self.origin.line,
            "row": self.origin.row,
            "code": self.code,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Unchanged:
    """A record read again exactly as it was indexed: nothing to redo."""

    id: str
    content_hash: str


@dataclass
class Article:
    """A cleaned, understood article, ready to be indexed."""

    id: str
    headline: str
    body: str
    lang: str
    date: datetime | None
    date_has_time: bool
    source: str
    url: str
    author: str
    path: str
    content_hash: str
    raw_hash: str = ""
    entities: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in ENTITY_KINDS})
    entities_status: str = "ok"
    warnings: list[str] = field(default_factory=list)
    # The semantic vector (search.semantic): float16 bytes, b"" when the model cannot read it.
    vector: bytes = b""
    # The story signature (search.dedup.Signature.to_bytes), b"" for a body too short.
    signature: bytes = b""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["vector"], data["signature"]
        data["date"] = iso_date(self.date, self.date_has_time)
        return data


def iso_date(value: datetime | None, has_time: bool) -> str | None:
    """ISO 8601: a date alone when the time is unknown."""
    if value is None:
        return None
    return value.isoformat() if has_time else value.date().isoformat()
