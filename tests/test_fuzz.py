"""Fuzzing with hypothesis: readers, cleaner and query parser raise nothing undocumented.

Readers: any bytes under any supported name give records or rejects (with a code from
the fixed set). Cleaner: any text gives text, idempotently. Query parser: any text gives
a ParsedQuery or the documented QueryError / InvalidRequest.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search.clean import clean_body, clean_headline, clean_text
from search.errors import InvalidRequest, QueryError
from search.models import REJECT_CODES, RawRecord, Reject
from search.pipeline import process_record
from search.query import ParsedQuery, parse_query
from search.readers import read_file

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # no .hypothesis folder in the checkout
)
# HTML and WARC go through trafilatura and warcio, slower per example: fewer of them.
FUZZ_SLOW = settings(FUZZ, max_examples=60)
SUFFIXES = [".txt", ".jsonl", ".json", ".csv", ".tsv", ".txt.gz", ".jsonl.gz"]

# Text that looks like what the readers parse, broken in random ways, and plain noise.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
record_fields = st.fixed_dictionaries(
    {},
    optional={
        name: json_values
        for name in ("id", "title", "headline", "text", "body", "date", "url", "source")
    },
)
structured_text = st.one_of(
    st.lists(record_fields.map(json.dumps), max_size=5).map("\n".join),
    st.lists(
        st.lists(st.text(st.characters(exclude_characters="\x00"), max_size=12), max_size=5),
        max_size=5,
    ).map(lambda rows: "\n".join(",".join(row) for row in rows)),
    st.text(max_size=300),
)
file_bytes = st.one_of(
    st.binary(max_size=2000),
    structured_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.tuples(structured_text, st.sampled_from(["utf-8", "cp1252", "latin-1", "utf-16"])).map(
        lambda pair: pair[0].encode(pair[1], "replace")
    ),
)


def check_items(items: list[RawRecord | Reject]) -> None:
    """What a reader returns: records with text, or rejects with a known code."""
    for item in items:
        assert isinstance(item, RawRecord | Reject)
        if isinstance(item, Reject):
            assert item.code in REJECT_CODES and item.reason
        else:
            assert item.headline or item.body
            # The pipeline takes every record a reader gives it without raising.
            processed = process_record(item)
            if isinstance(processed, Reject):
                assert processed.code == "empty"


def read_bytes_as(data: bytes, suffix: str) -> list[RawRecord | Reject]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        if suffix.endswith(".gz"):
            # Half the gzipped inputs are cut short, as downloads are.
            packed = gzip.compress(data)
            path.write_bytes(packed if len(data) % 2 else packed[: len(packed) // 2])
        else:
            path.write_bytes(data)
        return list(read_file(path))


@FUZZ
@given(data=file_bytes, suffix=st.sampled_from(SUFFIXES))
@example(data=b"[" * 10_000, suffix=".json")
@example(data=b'{"id": ' + b"9" * 5000 + b"}", suffix=".jsonl")
@example(data=b'{"title": "\\ud800"}', suffix=".jsonl")
@example(data=b'id,title\n1,"open', suffix=".csv")
@example(data=b"\xff\xfeH\x00i\x00", suffix=".txt")
def test_readers_give_records_or_rejects(data, suffix):
    check_items(read_bytes_as(data, suffix))


@FUZZ_SLOW
@given(data=file_bytes, suffix=st.sampled_from([".html", ".warc", ".warc.gz"]))
@example(data=b"<html><body><script>", suffix=".html")
@example(data=b"WARC/1.0\r\nWARC-Type: response\r\n\r\n", suffix=".warc")
def test_html_and_warc_readers_give_records_or_rejects(data, suffix):
    check_items(read_bytes_as(data, suffix))


@FUZZ
@given(text=st.text(max_size=400))
@example(text="\u202eevil\u202c \ud800 \x00\x1b[31m")
@example(text="cafÃ© Ã\t")
def test_cleaning_gives_text_and_is_idempotent(text):
    body = clean_body(text)
    headline = clean_headline(text)
    cleaned = clean_text(text)
    for out in (body, headline, cleaned):
        assert isinstance(out, str)
        out.encode("utf-8")  # no lone surrogates: everything downstream encodes it
    assert "\n" not in headline
    assert clean_text(cleaned) == cleaned


query_text = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            [
                "AND",
                "OR",
                "NOT",
                "-",
                '"',
                "(",
                ")",
                "*",
                "a*",
                "econom*",
                "~5",
                ":",
                "date:",
                "date:2011-03..",
                "date:..",
                "..",
                "in",
                "since",
                "March",
                "1987",
                "between",
                "and",
                "last",
                "week",
                "headline:",
                "person:",
                "foo:",
                "^2",
                "harbour",
                "\\",
                "{",
                "}",
                "[",
                "]",
                "TO",
                "'",
                "today",
                "2024-02-30",
                "date:2024-13",
            ]
        ),
        max_size=12,
    ).map(" ".join),
)


@FUZZ
@given(text=query_text, newest=st.none() | st.dates(date(1900, 1, 1), date(2100, 1, 1)))
@example(text="(" * 1000 + "a" + ")" * 1000, newest=None)
@example(text="a " * 5000, newest=None)
@example(text='"unclosed (bracket', newest=None)
@example(text="date:2024-02-30", newest=None)
@example(text="between 2013 and 2011", newest=date(2020, 1, 1))
@example(text="NOT NOT a", newest=None)  # once an IndexError inside Whoosh
def test_the_query_parser_raises_only_documented_errors(text, newest):
    try:
        parsed = parse_query(text, newest=newest)
    except (QueryError, InvalidRequest) as error:
        assert error.message
        return
    assert isinstance(parsed, ParsedQuery)
