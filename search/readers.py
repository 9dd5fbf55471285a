"""Readers: files on disk -> RawRecord (or Reject, with the reason).

Formats: ``.txt`` (optional ``Key: value`` block, headline, body), ``.jsonl``,
``.json`` (object or array), ``.csv``/``.tsv`` with a header row, ``.html``/``.htm``
(main text via trafilatura), and any of these gzipped. Text encodings are
detected, not assumed. Web crawls in WARC files (``.warc``, ``.warc.gz``, e.g.
CC-NEWS) are streamed record by record; their HTML responses are read as pages.
JSON Lines, the format of large dumps, are streamed a line at a time; the other
formats hold one file in memory (an article, a page, a table).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from charset_normalizer import from_bytes
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from search.dates import find_date_in_text
from search.errors import InputMissing
from search.models import Origin, RawRecord, Reject, RejectCode

TEXT_SUFFIXES = {".txt"}
JSON_LINES_SUFFIXES = {".jsonl", ".ndjson"}
JSON_SUFFIXES = {".json"}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
HTML_SUFFIXES = {".html", ".htm"}
WARC_SUFFIXES = {".warc"}
SUPPORTED_SUFFIXES = (
    TEXT_SUFFIXES
    | JSON_LINES_SUFFIXES
    | JSON_SUFFIXES
    | set(TABLE_SUFFIXES)
    | HTML_SUFFIXES
    | WARC_SUFFIXES
)
HTML_CONTENT_TYPES = {"text/html", "application/xhtml+xml"}

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
# Text has next to no C0 control characters besides tab and line breaks; random or
# compressed bytes have one in eight. Above this share of the sample, it is binary.
CONTROL_SHARE = 0.05
CONTROL_MIN = 8
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 11, 12, 13, 27})
# Unicode text with a byte order mark: UTF-32's marks first, as UTF-16's are their prefix.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# JSON can carry half a surrogate pair ("\ud800"), which no encoder accepts downstream.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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
        yield Reject(origin, f"unsupported file type '{suffix or path.name}'", "unsupported_type")
        return
    if suffix in WARC_SUFFIXES:
        yield from read_warc(path, origin)
        return
    if suffix in JSON_LINES_SUFFIXES:
        yield from stream_json_lines(path, gzipped, origin)
        return
    try:
        data = path.read_bytes()
        if gzipped:
            data = gzip.decompress(data)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        yield Reject(origin, f"cannot read file: {error}", "malformed")
        return
    except OSError as error:
        yield Reject(origin, f"cannot read file: {error}", "unreadable")
        return
    yield from read_data(data, suffix, origin)


def read_data(data: bytes, suffix: str, origin: Origin) -> Iterator[RawRecord | Reject]:
    """The records of a whole file's bytes, decoded and read as its format."""
    text = decode(data)
    if text is None:
        code: RejectCode = "not_text" if is_binary(data) else "unreadable"
        yield Reject(origin, "binary or undecodable content", code)
        return
    if not text.strip():
        yield Reject(origin, "empty file", "empty")
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


def stream_json_lines(path: Path, gzipped: bool, origin: Origin) -> Iterator[RawRecord | Reject]:
    """A JSON Lines file a line at a time: a dump of a million articles is never held
    whole (reading it whole took 5 GB for 1 GB of JSON Lines).

    A line is UTF-8 when it decodes as UTF-8; otherwise it is in the encoding detected
    in the first 64 KB's other lines, or failing that in its own. A file cut short (a
    truncated gzip) keeps the records before the cut, and the cut is a Reject. UTF-16
    and UTF-32 files, whose newlines are not one byte, and binary files are read whole.
    """
    found = False
    number = 0
    try:
        with gzip.open(path, "rb") if gzipped else path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
            if bom_encoding(head) or is_binary(head):
                yield from read_data(head + handle.read(), ".jsonl", origin)
                return
            encoding = lines_encoding(head)
            handle.seek(0)
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                found = True
                where = Origin(origin.path, line=number)
                line = decode_line(raw, encoding)
                if line is None:
                    yield Reject(where, "line not decodable in any encoding", "unreadable")
                else:
                    yield json_line(line, where)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        after = f" after line {number}" if number else ""
        yield Reject(origin, f"cannot read file{after}: {error}", "malformed")
        return
    except OSError as error:
        yield Reject(origin, f"cannot read file: {error}", "unreadable")
        return
    if not found:
        yield Reject(origin, "empty file", "empty")


def lines_encoding(head: bytes) -> str | None:
    """The encoding of the lines in ``head`` that are not UTF-8 (None when all are)."""
    others = []
    for raw in head.split(b"\n")[:-1]:  # whole lines only: the cut may split a character
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            others.append(raw)
    return detect_encoding(b"\n".join(others)) if others else None


def decode_line(raw: bytes, encoding: str | None) -> str | None:
    """UTF-8 when the line is UTF-8 (other text rarely is), else the file's other
    encoding, else the one detected in the line itself."""
    for name in ("utf-8-sig", encoding):
        if name:
            try:
                return raw.decode(name)
            except (UnicodeDecodeError, LookupError):
                pass
    return decode(raw)


def is_binary(data: bytes) -> bool:
    """NUL bytes, or many other control bytes, near the start: no text encoding this
    reader accepts has them (UTF-16 and UTF-32, which have NULs, come with a BOM)."""
    if bom_encoding(data):
        return False
    sample = data[:SNIFF_BYTES]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    # A few stray controls (a bell, a backspace) do not make a short text binary.
    return controls > max(CONTROL_MIN, CONTROL_SHARE * len(sample))


def bom_encoding(data: bytes) -> str | None:
    return next((name for bom, name in BOMS if data.startswith(bom)), None)


def decode(data: bytes) -> str | None:
    """UTF-8 when the bytes are UTF-8, else the detected encoding; None for binary data."""
    if encoding := bom_encoding(data):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            return None
    if is_binary(data):
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    encoding = detect_encoding(data)
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def detect_encoding(data: bytes) -> str | None:
    """The encoding that reads the start of ``data`` with the least chaos; None if none does."""
    matches = list(from_bytes(data[: SNIFF_BYTES * 4]))
    if not matches:
        return None
    best = min(match.chaos for match in matches)
    fitting = [match.encoding for match in matches if match.chaos <= best + CHAOS_SLACK]
    # Short Western text fits several code pages equally; cp1252 is the one news sites used.
    return "cp1252" if "cp1252" in fitting else fitting[0]


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
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield json_line(line, Origin(origin.path, line=number))


def json_line(line: str, where: Origin) -> RawRecord | Reject:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError) as error:
        return Reject(where, json_problem(error), "malformed")
    return from_mapping(value, where)


def read_json(text: str, origin: Origin) -> Iterator[RawRecord | Reject]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        yield Reject(origin, json_problem(error), "malformed")
        return
    if isinstance(value, list):
        for number, item in enumerate(value, start=1):
            yield from_mapping(item, Origin(origin.path, row=number))
    else:
        yield from_mapping(value, origin)


def json_problem(error: ValueError | RecursionError) -> str:
    """The reason for a reject: json's own message, or the limit Python hit."""
    if isinstance(error, json.JSONDecodeError):
        return f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, RecursionError):
        return "malformed JSON: nested too deeply to read"
    return f"malformed JSON: {error}"[:200]  # e.g. an integer of more than 4,300 digits


def read_table(text: str, origin: Origin, delimiter: str) -> Iterator[RawRecord | Reject]:
    """Rows of a CSV or TSV file with a header; a row that does not parse is a reject.

    Strict quoting, so that a quote never closed is an error rather than the rest of the
    file read as one field; the rows after a bad one are still read.
    """
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    width = 0
    number = 0
    while True:
        number += 1
        where = Origin(origin.path, row=number)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Reject(where, f"malformed {delimiter!r}-separated row: {error}", "malformed")
            continue
        width = width or len(reader.fieldnames or [])
        if None in row:
            yield Reject(where, f"row has more fields than the header's {width}", "malformed")
            continue
        yield from_mapping(row, where)


def read_html(text: str, origin: Origin) -> RawRecord | Reject:
    """An HTML page: its main text, title, date and author (search.html finds them)."""
    # Imported here: trafilatura is slow to import and only HTML needs it.
    from search.html import extract_article

    page = extract_article(text)
    if page is None:
        return Reject(origin, "no article text found in the HTML page", "no_article_text")
    return make_record(
        {
            "headline": page.title,
            "body": page.body,
            "url": page.url or "",
            "source": page.sitename or "",
            "author": page.author or "",
            "date": page.date or "",
        },
        origin,
    )


def from_mapping(value: Any, origin: Origin) -> RawRecord | Reject:
    """Map a structured record's many possible field names onto RawRecord."""
    if not isinstance(value, dict):
        return Reject(origin, f"expected an object, found {type(value).__name__}", "malformed")
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
        return _LONE_SURROGATE.sub("\ufffd", value).strip()
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
        return Reject(origin, "no headline and no body text", "empty")
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


def read_warc(path: Path, origin: Origin) -> Iterator[RawRecord | Reject]:
    """The HTML responses in a WARC file (plain or gzipped, as crawlers write them).

    Streamed with warcio, one record at a time: a crawl file is a series of gzip
    members that can run to gigabytes. Each record's position in the file is its
    ``row``. Requests, metadata, warcinfo and revisit records describe the crawl and are
    skipped without a trace; a response that is not HTML, or not a success, is a Reject.
    """
    number = 0
    try:
        with path.open("rb") as stream:
            records = iter(ArchiveIterator(stream))
            while (record := next_warc_record(records)) is not None:
                number += 1
                where = Origin(origin.path, row=number)
                if isinstance(record, Exception):
                    yield Reject(where, f"malformed WARC record: {record}".strip(), "malformed")
                    return
                # warcio reads anything it can: text that is not a WARC at all comes
                # back as a record of the older ARC format.
                if record.format != "warc":
                    yield Reject(where, "not a WARC record", "malformed")
                    return
                if record.rec_type == "response":
                    yield read_warc_response(record, where)
    except OSError as error:
        yield Reject(origin, f"cannot read file: {error}", "unreadable")
    except (ArchiveLoadFailed, EOFError, zlib.error) as error:
        where = Origin(origin.path, row=number + 1)
        yield Reject(where, f"malformed WARC record: {error}".strip(), "malformed")


def next_warc_record(records: Iterator[Any]) -> Any:
    """The next record, None at the end, or the error warcio raised on a damaged one.

    warcio fails on damaged headers with whatever its parsing hits (AttributeError on a
    response without a target URI, ValueError on a bad length...), so any error while
    parsing is the record's fault; errors in this module's own handling are not caught.
    """
    try:
        return next(records)
    except StopIteration:
        return None
    except OSError:
        raise
    except Exception as error:  # see above: the record is damaged
        return error


def read_warc_response(record: Any, origin: Origin) -> RawRecord | Reject:
    """One WARC response record: its HTML page, with the crawl's URL and date as metadata."""
    http = record.http_headers
    content_type = (http.get_header("Content-Type") or "") if http else ""
    mime, _, params = content_type.partition(";")
    if mime.strip().lower() not in HTML_CONTENT_TYPES:
        reason = f"WARC response is not HTML (content type {mime.strip() or 'none'})"
        return Reject(origin, reason, "unsupported_type")
    status = http.get_statuscode() or ""
    if not status.startswith("2"):
        return Reject(origin, f"HTTP status {status}: not an article page", "no_article_text")
    # Only HTML is read into memory; warcio skips over other payloads (video, images).
    try:
        data = record.content_stream().read()
    except (EOFError, zlib.error, ValueError) as error:
        return Reject(origin, f"malformed WARC record: {error}".strip(), "malformed")
    # warcio does not complain about a record cut short: it has fewer bytes than declared.
    if getattr(record.raw_stream, "limit", 0) > 0:
        return Reject(origin, "WARC record is cut short (truncated file?)", "malformed")
    text = decode_with_charset(data, charset_param(params))
    if text is None:
        return Reject(origin, "binary or undecodable content", "unreadable")
    page = read_html(text, origin)
    if isinstance(page, Reject):
        return page
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    # WARC-Date is when the page was fetched, not when it was published: it is only an
    # upper bound. A crawl of news sites (CC-NEWS) fetches articles within hours of
    # publication, so it stands in for the date -- but only when the page itself gives
    # none, in its metadata or in a dateline, which the pipeline reads next.
    crawled = record.rec_headers.get_header("WARC-Date")
    date = page.date
    if date is None and find_date_in_text(page.body) is None:
        date = crawled
    return replace(
        page,
        url=url or page.url,
        date=date,
        source=page.source or urlsplit(url).hostname or None,
    )


def charset_param(params: str) -> str | None:
    """The ``charset`` of a Content-Type header's parameters (``; charset=utf-8``)."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def decode_with_charset(data: bytes, charset: str | None) -> str | None:
    """The declared charset when it decodes the bytes; else detection, as for files."""
    if charset and not is_binary(data):
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
    return decode(data)
