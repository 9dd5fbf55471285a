"""Readers: files on disk -> RawRecord (or Reject, with the reason).

Formats: ``.txt`` (optional ``Key: value`` block, headline, body), ``.jsonl``,
``.json`` (object or array), ``.csv``/``.tsv`` with a header row, ``.html``/``.htm``
(main text via trafilatura), and any of these gzipped. Text encodings are
detected, not assumed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from search.errors import InputMissing
from search.models import Origin, RawRecord, Reject

TEXT_SUFFIXES = {".txt"}
JSON_LINES_SUFFIXES = {".jsonl", ".ndjson"}
JSON_SUFFIXES = {".json"}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = (
    TEXT_SUFFIXES | JSON_LINES_SUFFIXES | JSON_SUFFIXES | set(TABLE_SUFFIXES) | HTML_SUFFIXES
)

# Structured records name their fields in many ways; the first present wins.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "headline": ("headline", "title", "name"),
    "body": ("body", "text", "content", "article", "articlebody", "story", "description"),
    "date": (
        "date",
        "published",
        "publishedat",
        "pubdate",
        "datepublished",
        "published_at",
        "publication_date",
        "timestamp",
        "created_at",
    ),
    "url": ("url", "link", "href", "permalink"),
    "source": ("source", "publisher", "site", "domain", "sitename", "outlet"),
    "author": ("author", "authors", "byline", "creator"),
    "record_id": ("id", "_id", "guid", "uuid", "article_id", "doc_id"),
}
TEXT_META_KEYS = {
    "date": "date",
    "published": "date",
    "datum": "date",
    "fecha": "date",
    "source": "source",
    "publisher": "source",
    "url": "url",
    "link": "url",
    "author": "author",
    "by": "author",
    "byline": "author",
    "id": "record_id",
    "title": "headline",
    "headline": "headline",
}
META_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z _-]{0,20}?)\s*:\s*(.+?)\s*$")
# A sample this size tells text from binary without reading a whole large file.
SNIFF_BYTES = 65536
# How much less tidy than the best a decoding may look and still count as fitting.
CHAOS_SLACK = 0.05


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Yield the files under each path (folders recursively, sorted, hidden ones skipped).

    Raises InputMissing when a path does not exist.
    """
    resolved = [Path(p) for p in paths]
    for path in resolved:
        if not path.exists():
            raise InputMissing(f"No such file or folder: {path}")
    for path in resolved:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not any(part.startswith(".") for part in relative):
                    yield child
        else:
            yield path


def read_paths(paths: Iterable[str | Path]) -> Iterator[RawRecord | Reject]:
    """Every record in every file under ``paths``, in a stable order."""
    for path in iter_files(paths):
        yield from read_file(path)


def format_suffix(path: Path) -> tuple[str, bool]:
    """The format suffix of ``path`` and whether it is gzipped (``a.jsonl.gz``)."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gzipped


def read_file(path: Path) -> Iterator[RawRecord | Reject]:
    """The records of one file; a file that cannot be read at all is one Reject."""
    origin = Origin(str(path))
    suffix, gzipped = format_suffix(path)
    if suffix not in SUPPORTED_SUFFIXES:
        yield Reject(origin, f"unsupported file type '{suffix or path.name}'")
        return
    try:
        data = path.read_bytes()
        if gzipped:
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        yield Reject(origin, f"cannot read file: {error}")
        return
    text = decode(data)
    if text is None:
        yield Reject(origin, "binary or undecodable content")
        return
    if not text.strip():
        yield Reject(origin, "empty file")
        return
    if suffix in TEXT_SUFFIXES:
        yield from read_text(text, origin)
    elif suffix in JSON_LINES_SUFFIXES:
        yield from read_json_lines(text, origin)
    elif suffix in JSON_SUFFIXES:
        yield from read_json(text, origin)
    elif suffix in TABLE_SUFFIXES:
        yield from read_table(text, origin, TABLE_SUFFIXES[suffix])
    else:
        yield read_html(text, origin)


def decode(data: bytes) -> str | None:
    """UTF-8 when the bytes are UTF-8, else the detected encoding; None for binary data."""
    if b"\x00" in data[:SNIFF_BYTES]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(data[: SNIFF_BYTES * 4]))
    if not matches:
        return None
    best = min(match.chaos for match in matches)
    fitting = [match.encoding for match in matches if match.chaos <= best + CHAOS_SLACK]
    # Short Western text fits several code pages equally; cp1252 is the one news sites used.
    encoding = "cp1252" if "cp1252" in fitting else fitting[0]
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def read_text(text: str, origin: Origin) -> Iterator[RawRecord | Reject]:
    """A scraped-news text file: optional ``Key: value`` lines, headline, body."""
    lines = text.splitlines()
    fields: dict[str, str] = {}
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    meta_start = index
    while index < len(lines) and (match := META_LINE.match(lines[index])):
        key = TEXT_META_KEYS.get(match.group(1).strip().lower())
        if key is None:
            break
        fields.setdefault(key, match.group(2))
        index += 1
    # A lone "Key: value" headline is not a metadata block: it needs a blank line after it.
    if fields and index < len(lines) and lines[index].strip():
        fields, index = {}, meta_start
    rest = lines[index:]
    if "headline" not in fields:
        while rest and not rest[0].strip():
            rest = rest[1:]
        if rest:
            fields["headline"], rest = rest[0], rest[1:]
    fields["body"] = "\n".join(rest)
    yield make_record(fields, origin)


def read_json_lines(text: str, origin: Origin) -> Iterator[RawRecord | Reject]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = Origin(origin.path, line=number)
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield Reject(where, f"malformed JSON: {error.msg} at column {error.colno}")
            continue
        yield from_mapping(value, where)


def read_json(text: str, origin: Origin) -> Iterator[RawRecord | Reject]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        yield Reject(origin, f"malformed JSON: {error.msg} at line {error.lineno}")
        return
    if isinstance(value, list):
        for number, item in enumerate(value, start=1):
            yield from_mapping(item, Origin(origin.path, row=number))
    else:
        yield from_mapping(value, origin)


def read_table(text: str, origin: Origin, delimiter: str) -> Iterator[RawRecord | Reject]:
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            where = Origin(origin.path, row=number)
            if None in row:
                width = len(reader.fieldnames or [])
                yield Reject(where, f"row has more fields than the header's {width}")
                continue
            yield from_mapping(row, where)
    except csv.Error as error:
        yield Reject(origin, f"malformed {delimiter!r}-separated file: {error}")


def read_html(text: str, origin: Origin) -> RawRecord | Reject:
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    document = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None or not (document.text or "").strip():
        return Reject(origin, "no article text found in the HTML page")
    headline = document.title or ""
    body = document.text or ""
    # trafilatura repeats the <h1> as the first line of the text.
    first, _, remainder = body.partition("\n")
    if headline and first.strip() == headline.strip():
        body = remainder
    return make_record(
        {
            "headline": headline,
            "body": body,
            "url": document.url or "",
            "source": document.sitename or document.hostname or "",
            "author": document.author or "",
            "date": document.date or "",
        },
        origin,
    )


def from_mapping(value: Any, origin: Origin) -> RawRecord | Reject:
    """Map a structured record's many possible field names onto RawRecord."""
    if not isinstance(value, dict):
        return Reject(origin, f"expected an object, found {type(value).__name__}")
    lowered = {str(k).lower(): v for k, v in value.items() if k is not None}
    fields = {}
    for name, candidates in FIELD_NAMES.items():
        for candidate in candidates:
            text = as_text(lowered.get(candidate))
            if text:
                fields[name] = text
                break
    return make_record(fields, origin)


def as_text(value: Any) -> str:
    """A field value as text: lists are joined, objects give their name."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return ", ".join(filter(None, (as_text(item) for item in value)))
    if isinstance(value, dict):
        for key in ("name", "title", "value", "url", "@id"):
            if key in value:
                return as_text(value[key])
        return ""
    return str(value)


def make_record(fields: dict[str, str], origin: Origin) -> RawRecord | Reject:
    headline = fields.get("headline", "").strip()
    body = fields.get("body", "").strip()
    if not headline and not body:
        return Reject(origin, "no headline and no body text")
    return RawRecord(
        origin=origin,
        headline=headline,
        body=body,
        record_id=fields.get("record_id") or None,
        date=fields.get("date") or None,
        url=fields.get("url") or None,
        source=fields.get("source") or None,
        author=fields.get("author") or None,
    )
