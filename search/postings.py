"""Plain queries matched and BM25F-scored in bulk, over Whoosh's postings read as arrays.

Whoosh walks a query's matchers one document at a time in Python: a three-word query
over six fields costs dozens of Python calls per matching document, and a search walks
the same matches twice (to count them for facets, then to rank them). A query made only
of ``And``, ``Or``, ``Term``, ``Phrase`` and ``Require`` (what readers type, once parsed)
is evaluated here instead: each term's postings are read once per index generation into
arrays of document numbers and term frequencies, and matching and scoring are array
operations. A phrase is its words' intersection, with positions read only for those
documents and checked by Whoosh's own span rule.

The scores are Whoosh's own BM25F (the same formula, idf, lengths and boosts, in double
precision); tests/test_postings.py holds the two paths to each other. Any other query
(wildcards, NOT, ranges, a coordination bonus) returns None and is left to Whoosh.
"""

from __future__ import annotations

import logging
import pickle
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from whoosh import formats
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.query.spans import Span, bisect_spans
from whoosh.searching import Searcher
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

from search.analysis import InLanguages
from search.docset import DocSet

log = logging.getLogger(__name__)

# Postings held per index generation (8 bytes each: int32 id, float32 frequency), least
# recently used first out: about 128 MB, a few dozen of a million articles' commonest
# words.
CACHE_POSTINGS = 16_000_000
# Besides those, the longest postings lists of the searched fields are read when the
# generation is opened and held for its life, up to this many postings (about 64 MB):
# all lists of more than PINNED_MIN documents of a 24,000-article index, the commonest
# words of a million-article one. They are the costly ones to read (a block of 128
# postings at a time, positions and all); a short list is one or two blocks.
PINNED_POSTINGS = 8_000_000
PINNED_MIN = 64
# Whether the index holds a term, remembered for this many terms (then forgotten all at
# once): a 5-word query asks about some 30 (words by fields and languages), and Whoosh
# answers each from its on-disk hash table in Python.
KNOWN_TERMS = 200_000
# A segment reader's phrase table (search.phrasetables.PhraseTable), or None.
PhraseTables = Callable[[Any], Any]
# A phrase table's word is read whole when at least 1/TABLE_SHARE of its documents are
# wanted: its arrays cost 8 bytes read a document, and a posting decoded from Whoosh's
# pickles about as much time as reading a hundred of those.
TABLE_SHARE = 64
# Whoosh stores a field length as one byte; byte 0 means "no length", read as 1.
_LENGTHS = np.array([1.0] + [float(byte_to_length(b)) for b in range(1, 256)])
_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class Scored:
    """Matching documents, ascending, each with its score."""

    docs: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.docs)

    def boosted(self, boost: float) -> Scored:
        return self if boost == 1.0 else Scored(self.docs, self.scores * boost)

    def within(self, allowed: np.ndarray | None) -> Scored:
        """Only the documents whose entry in the boolean mask ``allowed`` is set."""
        if allowed is None:
            return self
        keep = allowed[self.docs]
        return Scored(self.docs[keep], self.scores[keep])


EMPTY = Scored(_EMPTY_IDS, _EMPTY_SCORES)


class Unsupported(Exception):
    """The query has a part this module does not evaluate."""


class Postings:
    """One index generation's postings and field lengths as arrays, read on first use.

    Shared by every thread searching the generation; each thread reads through its own
    Whoosh reader (a reader's files are not safe to share).
    """

    def __init__(self, reader: Any, phrase_tables: PhraseTables | None = None) -> None:
        # Where a phrase's positions may be read as arrays (search.phrasetables.TableCache).
        self.phrase_tables = phrase_tables
        self.doc_count = reader.doc_count_all()
        live = np.zeros(self.doc_count, dtype=bool)
        live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        self.live = live
        self._lengths: dict[str, np.ndarray] = {}
        self._terms: OrderedDict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._held = 0
        self._pinned: dict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = {}
        self._known: dict[tuple[str, bytes], bool] = {}
        self._lock = threading.Lock()

    def has(self, reader: Any, fieldname: str, text: bytes) -> bool:
        """Whether the generation has the term (``(fieldname, text) in reader``)."""
        key = (fieldname, text)
        found = self._known.get(key)
        if found is None:
            found = key in reader
            if len(self._known) >= KNOWN_TERMS:
                self._known.clear()
            self._known[key] = found
        return found

    def pin_longest(self, reader: Any, fieldnames: Iterable[str]) -> None:
        """Read and hold the longest postings lists of ``fieldnames`` (PINNED_POSTINGS)."""
        sizes: dict[tuple[str, bytes], int] = {}
        for leaf, _ in reader.leaf_readers():
            for fieldname in fieldnames:
                for text, info in leaf_terms(leaf, fieldname):
                    if info.doc_frequency() > PINNED_MIN:
                        key = (fieldname, text)
                        sizes[key] = sizes.get(key, 0) + info.doc_frequency()
        budget = PINNED_POSTINGS
        for key, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
            if size <= budget:
                budget -= size
                self._pinned[key] = self._read(reader, *key)

    def term(self, reader: Any, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The live documents with the term, ascending, and its frequency in each."""
        key = (fieldname, text)
        pinned = self._pinned.get(key)
        if pinned is not None:
            return pinned
        with self._lock:
            found = self._terms.get(key)
            if found is not None:
                self._terms.move_to_end(key)
                return found
        docs, freqs = self._read(reader, fieldname, text)
        with self._lock:
            if key not in self._terms:
                self._terms[key] = (docs, freqs)
                self._held += len(docs)
                while self._held > CACHE_POSTINGS and len(self._terms) > 1:
                    _, (old, _) = self._terms.popitem(last=False)
                    self._held -= len(old)
        return docs, freqs

    def _read(self, reader: Any, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
        docs, freqs = read_postings(reader, fieldname, text)
        keep = self.live[docs]
        if not keep.all():
            docs, freqs = docs[keep], freqs[keep]
        if self.doc_count < 2**31:
            docs = docs.astype(np.int32)
        return docs, freqs

    def lengths(self, reader: Any, fieldname: str) -> np.ndarray:
        """Every document's length in the field as Whoosh stores it, one byte each
        (``_LENGTHS`` reads a byte as the length Whoosh's scorer uses)."""
        with self._lock:
            found = self._lengths.get(fieldname)
        if found is None:
            found = read_lengths(reader, fieldname, self.doc_count)
            with self._lock:
                self._lengths[fieldname] = found
        return found

    def mask(self, docs: Iterable[int] | None) -> np.ndarray | None:
        """A boolean mask over the generation's documents with ``docs`` set."""
        return None if docs is None else doc_mask(docs, self.doc_count)


def doc_array(docnums: Iterable[int]) -> np.ndarray:
    """Document numbers (a DocSet, a set, a list, an array) as an array."""
    if isinstance(docnums, np.ndarray):
        return docnums
    if isinstance(docnums, DocSet):
        return docnums.array
    return np.fromiter(docnums, dtype=np.int64)


def doc_mask(docnums: Iterable[int], doc_count: int) -> np.ndarray:
    """A boolean mask over ``doc_count`` documents with ``docnums`` set."""
    mask = np.zeros(doc_count, dtype=bool)
    mask[doc_array(docnums)] = True
    return mask


def read_postings(reader: Any, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A term's postings over every segment: global document numbers and frequencies."""
    docs, freqs = [], []
    for leaf, offset in reader.leaf_readers():
        if (fieldname, text) not in leaf:
            continue
        # The raw matcher: SegmentReader.postings wraps it to skip deleted documents
        # one at a time; the live mask does that here in one step.
        matcher = leaf._terms.matcher(fieldname, text, leaf.schema[fieldname].format)
        ids, weights = matcher_arrays(matcher)
        docs.append(ids + offset)
        freqs.append(weights)
    if not docs:
        return _EMPTY_IDS, np.zeros(0, dtype=np.float32)
    return np.concatenate(docs), np.concatenate(freqs)


def leaf_terms(leaf: Any, fieldname: str) -> Iterator[tuple[bytes, Any]]:
    """A segment's terms of a field with their term-table entries, in one pass of the table."""
    if fieldname not in leaf.schema or not hasattr(leaf, "_terms"):  # an empty index has none
        return
    for (name, text), info in leaf._terms.items_from(fieldname, b""):
        if name != fieldname:
            return
        yield text, info


def field_postings(reader: Any, fieldname: str) -> list[tuple[str, np.ndarray]]:
    """Every term of a field (decoded, in lexicon order) with its live documents, ascending.

    For the per-generation tables of fields with a value or a few per document (story
    clusters, days, facets). Each segment's term table is read in one pass, and a term in
    one or two documents is read from it alone: its entry holds its first and last
    document (Whoosh's inlined postings would too, but its writer never inlines: its
    limit test is ``len < 1``). Only longer postings are read from the postings file. A
    ``reader.postings`` call per term took 10 s for the 89,000 story clusters of a
    100,000-article index.
    """
    found: dict[bytes, list[np.ndarray]] = {}
    for leaf, offset in reader.leaf_readers():
        for text, info in leaf_terms(leaf, fieldname):
            if info.is_inlined():
                ids = np.array(info.inlined_postings()[0], dtype=np.int64)
            elif info.doc_frequency() <= 2:
                ids = np.array(sorted({info.min_id(), info.max_id()}), dtype=np.int64)
            else:
                fmt = leaf.schema[fieldname].format
                ids, _ = matcher_arrays(leaf._terms.matcher(fieldname, text, fmt))
            found.setdefault(text, []).append(ids + offset)
    live = None
    if reader.has_deletions():
        live = np.zeros(reader.doc_count_all(), dtype=bool)
        live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
    terms = []
    for text in sorted(found):
        parts = found[text]
        docs = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if live is not None:
            docs = docs[live[docs]]
        terms.append((text.decode("utf-8"), docs))
    return terms


def matcher_arrays(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """All ids and weights of a leaf matcher, block by block where Whoosh has blocks."""
    if not isinstance(matcher, W3LeafMatcher):  # inlined postings: a term in one document
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float32)
    id_blocks, weight_blocks = [], []
    strided = True
    while not matcher._atend:
        raw = block_data(matcher)
        size = matcher._blocklength
        found = strided_block(raw, size) if strided and size > 3 else None
        if found is None:
            # A term's blocks are alike: one that is not read by strides, the rest neither.
            strided = strided and size <= 3
            found = unpickled_block(raw, size)
        ids, weights = found
        id_blocks.append(whole_ids(matcher, ids))
        weight_blocks.append(weights)
        matcher._next_block()
    return np.concatenate(id_blocks), np.concatenate(weight_blocks)


def whole_ids(matcher: W3LeafMatcher, stored: np.ndarray) -> np.ndarray:
    """A block's document numbers from its stored ids: gaps from the previous one,
    starting afresh in every block (unless the segment stores byte ids whole)."""
    return stored if matcher._byteids else np.cumsum(stored)


def block_data(matcher: W3LeafMatcher) -> bytes:
    """The current block's pickled (ids, weights, values), decompressed.

    Unpickling it whole makes a bytes object per posting for the values (through
    ``_codecs.encode``: protocol 2 has no bytes type), two thirds of a block's read time,
    and matching needs none of them: see ``strided_block``.
    """
    raw = matcher._postfile.get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
    return zlib.decompress(raw) if matcher._compression else raw


def unpickled_block(raw: bytes, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A block's stored ids (gaps, unless byte ids) and weights, as Whoosh reads them."""
    raw_ids, raw_weights = pickle.loads(raw)[:2]
    ids = np.asarray(raw_ids, dtype=np.int64)
    if raw_weights is None:
        return ids, np.ones(size, dtype=np.float32)
    if isinstance(raw_weights, float):
        return ids, np.full(size, raw_weights, dtype=np.float32)
    return ids, np.asarray(raw_weights, dtype=np.float32)


_MARK, _TUPLE, _NONE, _BINFLOAT, _BINPUT, _LONG_BINPUT, _BININT1 = b"(tNGqrK"
# Pickle's opcodes for an int, with their argument's little-endian type.
_INT_OPCODES = {ord("K"): np.dtype("u1"), ord("M"): np.dtype("<u2"), ord("J"): np.dtype("<i4")}


def strided_block(raw: bytes, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``unpickled_block`` read from the pickle's bytes at fixed strides, or None when the
    block is not of the usual shape of a long list's (more than 3 postings, the gaps
    between ids under 256, and the weights None, one float or a tuple of floats).

    The pickle: PROTO 2, MARK, the first id, the gaps (one byte after a BININT1 opcode
    each), TUPLE, a memo PUT, then the weights and the values, which are never parsed.
    """
    data = np.frombuffer(raw, dtype=np.uint8)
    if len(data) < 8 or data[2] != _MARK or int(data[3]) not in _INT_OPCODES:
        return None
    kind = _INT_OPCODES[int(data[3])]
    at = 4 + kind.itemsize
    if at + 2 * size > len(data):
        return None
    gaps = data[at : at + 2 * (size - 1)].reshape(size - 1, 2)
    at += 2 * (size - 1)
    if not (gaps[:, 0] == _BININT1).all() or data[at] != _TUPLE:
        return None
    ids = np.empty(size, dtype=np.int64)
    ids[0] = data[4 : 4 + kind.itemsize].view(kind)[0]
    ids[1:] = gaps[:, 1]
    at += 1 + {_BINPUT: 2, _LONG_BINPUT: 5}.get(int(data[at + 1]), len(data))
    if at >= len(data):
        return None
    if data[at] == _NONE:
        return ids, np.ones(size, dtype=np.float32)
    if data[at] == _BINFLOAT and at + 9 <= len(data):
        return ids, np.full(size, _double(data[at + 1 : at + 9])[0], dtype=np.float32)
    stop = at + 1 + 9 * size
    if data[at] != _MARK or stop >= len(data) or data[stop] != _TUPLE:
        return None
    floats = data[at + 1 : stop].reshape(size, 9)
    if not (floats[:, 0] == _BINFLOAT).all():
        return None
    return ids, _double(floats[:, 1:]).astype(np.float32)


def _double(big_endian: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(big_endian).view(">f8").ravel()


def read_lengths(reader: Any, fieldname: str, doc_count: int) -> np.ndarray:
    lengths = np.zeros(doc_count, dtype=np.uint8)
    for leaf, offset in reader.leaf_readers():
        column = leaf._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None or not column._count:
            continue
        raw = column._dbfile.get(column._basepos, column._count)
        lengths[offset : offset + len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return lengths


def evaluate(query: wq.Query, searcher: Searcher, postings: Postings) -> Scored | None:
    """The documents ``query`` matches with their BM25F scores; None for a query this
    module does not evaluate."""
    try:
        return _evaluate(query, searcher, postings)
    except Unsupported:
        return None


def _evaluate(query: wq.Query, searcher: Searcher, postings: Postings) -> Scored:
    kind = type(query)
    if kind is wq.Term:
        return _term(query, searcher, postings)
    if kind is wq.Every and not query.fieldname:  # a browse: every article scores 1
        docs = np.flatnonzero(postings.live)
        return Scored(docs, np.full(len(docs), float(query.boost)))
    if kind is wq.Or and not query.minmatch and not query.scale:
        parts = [_evaluate(sub, searcher, postings) for sub in query.subqueries]
        if len(parts) == 1:  # Whoosh skips a one-child compound and its boost
            return parts[0]
        parts = [part for part in parts if len(part)]
        if not parts:
            return EMPTY
        docs, slots = np.unique(np.concatenate([p.docs for p in parts]), return_inverse=True)
        scores = np.bincount(slots, weights=np.concatenate([p.scores for p in parts]))
        return Scored(docs, scores).boosted(query.boost)
    if kind is wq.And:
        parts = [_evaluate(sub, searcher, postings) for sub in query.subqueries]
        if len(parts) == 1:
            return parts[0]
        found = intersection(parts)
        return found.boosted(query.boost)
    if kind is wq.Phrase:
        return _phrase(query, searcher, postings)
    if kind is InLanguages:  # a stop word: its languages' articles, adding nothing
        found = _evaluate(query.child, searcher, postings)
        return Scored(found.docs, np.zeros(len(found.docs)))
    if kind is wq.Require and query.boost == 1.0:
        # Documents of the first part that the second also matches, scored by the first
        # (search.whoosh_fixes: how search.analysis keeps a phrase to its languages).
        scored = _evaluate(query.a, searcher, postings)
        required = _evaluate(query.b, searcher, postings)
        keep = np.isin(scored.docs, required.docs, assume_unique=True)
        return Scored(scored.docs[keep], scored.scores[keep])
    raise Unsupported(kind.__name__)


def intersection(parts: list[Scored]) -> Scored:
    """Documents in every part, each scored with the sum of its parts' scores."""
    parts = sorted(parts, key=len)  # intersect from the rarest part
    docs, scores = parts[0].docs, parts[0].scores
    for part in parts[1:]:
        docs, mine, theirs = np.intersect1d(
            docs, part.docs, assume_unique=True, return_indices=True
        )
        scores = scores[mine] + part.scores[theirs]
    return Scored(docs, scores)


def _phrase(query: wq.Phrase, searcher: Searcher, postings: Postings) -> Scored:
    """Whoosh's Phrase: the documents with its words in order, at most ``slop`` apart,
    scored as the sum of its words' scores in the field (SpanNear2 over an intersection)."""
    fieldname = query.fieldname
    if fieldname not in searcher.schema:
        return EMPTY
    field = searcher.schema[fieldname]
    if not field.format or not field.format.supports("positions"):
        raise Unsupported("a phrase in a field without positions")  # Whoosh says why
    reader = searcher.reader()
    try:
        texts = [field.to_bytes(word) for word in query.words]
    except ValueError:
        return EMPTY
    if not texts or not all(postings.has(reader, fieldname, text) for text in texts):
        return EMPTY
    words = [_term(wq.Term(fieldname, text), searcher, postings) for text in texts]
    found = intersection(words)
    if len(texts) > 1 and len(found):
        keep = phrase_docs(reader, fieldname, texts, query.slop, found.docs, postings.phrase_tables)
        found = Scored(found.docs[keep], found.scores[keep])
    return found.boosted(query.boost)


def phrase_docs(
    reader: Any,
    fieldname: str,
    texts: list[bytes],
    slop: int,
    docs: np.ndarray,
    tables: PhraseTables | None = None,
) -> np.ndarray:
    """Which of ``docs`` (ascending, each holding every word) have the words in order."""
    if slop != 1:
        positions = []
        for text in texts:
            counts, flat = read_positions(reader, fieldname, text, docs, tables)
            positions.append(np.split(flat, np.cumsum(counts)[:-1]))
        return np.fromiter(
            (
                has_spans(tuple(p.tolist() for p in spans), slop)
                for spans in zip(*positions, strict=True)
            ),
            dtype=bool,
            count=len(docs),
        )
    # An exact phrase: each word right after the one before, so a run is known by where
    # its first word is. Keys are document << 32 | position; a word's positions are read
    # only for the documents with a run so far.
    # Keys come out ascending (documents ascending, positions ascending in each), so
    # membership is a binary search: numpy's unique and isin hash instead, and took
    # seconds on the millions of positions of two common words.
    runs = position_keys(docs, *read_positions(reader, fieldname, texts[0], docs, tables))
    for offset, text in enumerate(texts[1:], start=1):
        alive = distinct_sorted(runs >> 32)
        following = position_keys(alive, *read_positions(reader, fieldname, text, alive, tables))
        runs = runs[sorted_member(runs + offset, following)]
        if not len(runs):
            break
    return sorted_member(docs, distinct_sorted(runs >> 32))


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of an ascending array."""
    if not len(values):
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def sorted_member(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in the ascending array ``pool``."""
    if not len(pool):
        return np.zeros(len(values), dtype=bool)
    slots = np.searchsorted(pool, values).clip(max=len(pool) - 1)
    return pool[slots] == values


def position_keys(docs: np.ndarray, counts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return (np.repeat(docs.astype(np.int64), counts) << 32) | positions


def read_positions(
    reader: Any,
    fieldname: str,
    text: bytes,
    docs: np.ndarray,
    tables: PhraseTables | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The term's positions in each of ``docs`` (ascending, every one containing it): how
    many in each document, and all of them, one document after another.

    From a segment's phrase table when it holds the word and enough of its documents are
    wanted; else from Whoosh's postings, block by block: a block holding none of ``docs``
    is stepped over unread, and only the wanted postings' values are decoded, at once.
    """
    parts = []
    for leaf, wanted in by_segment(reader, docs):
        table = tables(leaf) if tables is not None else None
        held = table.count(fieldname, text) if table is not None and not table.damaged else 0
        found = None
        if held and len(wanted) * TABLE_SHARE >= held:
            try:
                found = table.positions(fieldname, text, wanted)
            except Exception:  # a damaged table: the postings say the same, and it is let go
                log.exception("phrase table %s unreadable; reading postings", table.path)
                table.damaged = True
        parts.append(found or postings_positions(leaf, fieldname, text, wanted))
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def postings_positions(
    leaf: Any, fieldname: str, text: bytes, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``read_positions`` in one segment (``wanted`` are its document numbers), through
    Whoosh's postings."""
    return decode_positions(
        leaf.schema[fieldname].format, postings_values(leaf, fieldname, text, wanted)
    )


def postings_values(leaf: Any, fieldname: str, text: bytes, wanted: np.ndarray) -> list[bytes]:
    """The term's encoded postings values (positions, characters) in ``wanted`` (the
    segment's document numbers, ascending, each holding the term), block by block: a
    block holding none of them is stepped over unread, and a wanted posting is found in
    its block by binary search, where Whoosh's ``skip_to`` steps one posting at a time."""
    matcher = leaf._terms.matcher(fieldname, text, leaf.schema[fieldname].format)
    values: list[bytes] = []
    if not isinstance(matcher, W3LeafMatcher):  # inlined postings: one document
        for docnum in wanted.tolist():
            matcher.skip_to(docnum)
            values.append(matcher.value())
        return values
    i = 0
    while i < len(wanted):
        if matcher._maxid < wanted[i]:
            matcher._next_block()
            continue
        matcher._read_data()
        ids = whole_ids(matcher, np.asarray(matcher._data[0], dtype=np.int64))
        upto = int(np.searchsorted(wanted, matcher._maxid, side="right"))
        slots = np.searchsorted(ids, wanted[i:upto]).clip(max=len(ids) - 1)
        if not np.array_equal(ids[slots], wanted[i:upto]):
            raise ValueError(f"a wanted document lacks {fieldname}:{text!r}")
        values.extend(map(matcher._data[2].__getitem__, slots.tolist()))
        i = upto
        if i < len(wanted):
            matcher._next_block()
    return values


def term_values(reader: Any, fieldname: str, text: bytes, docs: np.ndarray) -> list[bytes]:
    """``postings_values`` over every segment: ``docs`` are global document numbers."""
    values: list[bytes] = []
    for leaf, wanted in by_segment(reader, docs):
        values += postings_values(leaf, fieldname, text, wanted)
    return values


def by_segment(reader: Any, docs: np.ndarray) -> Iterator[tuple[Any, np.ndarray]]:
    """(segment reader, its document numbers) for each segment holding some of ``docs``
    (global document numbers, ascending)."""
    for leaf, offset in reader.leaf_readers():
        start, end = np.searchsorted(docs, [offset, offset + leaf.doc_count_all()]).tolist()
        if start < end:
            yield leaf, docs[start:end].astype(np.int64) - offset


_PROTO_2 = b"\x80\x02"
_STOP = pickle.STOP[0]


def decode_positions(fmt: Any, values: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Postings' values decoded to (positions per posting, the positions in a row).

    Whoosh's Positions and Characters formats store each posting's position gaps as a
    protocol-2 pickle of a list (of gaps, or of (gap, char gap, length) tuples) after a
    4-byte count. Unpickling them one by one cost a few microseconds each, most of a
    common phrase's time: here their opcodes are spliced into one pickle of a list of
    lists, read in one call, and the gaps are summed in arrays.
    """
    kind = type(fmt)
    if kind not in (formats.Positions, formats.Characters) or not all(
        value.startswith(_PROTO_2, _INT_SIZE) for value in values
    ):
        lists = [fmt.decoder("positions")(value) for value in values]
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        return counts, np.fromiter(chain.from_iterable(lists), dtype=np.int64)
    body = _INT_SIZE + len(_PROTO_2)
    # The stored pickle may lack its final STOP (as Whoosh's decode_positions allows).
    spliced = b"".join([value[body:-1] if value[-1] == _STOP else value[body:] for value in values])
    lists = pickle.loads(_PROTO_2 + b"(" + spliced + b"l.")
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    items = chain.from_iterable(lists)
    if kind is formats.Characters:
        gaps = np.fromiter(chain.from_iterable(items), dtype=np.int64)[0::3]
    else:
        gaps = np.fromiter(items, dtype=np.int64)
    totals = np.cumsum(gaps)
    firsts = np.cumsum(counts) - counts
    return counts, totals - np.repeat(totals[firsts] - gaps[firsts], counts)


def has_spans(positions: tuple[list[int], ...], slop: int, mindist: int = 1) -> bool:
    """Whether the words' positions make an ordered run with gaps from ``mindist`` to
    ``slop``: SpanNear2Matcher._get_spans (ordered), as Whoosh's Phrase runs it."""
    if slop == 1 and mindist == 1:
        # An exact phrase: each word right after the one before (distance 1 exactly), so
        # a run is known by where it ends.
        ends = set(positions[0])
        for following in positions[1:]:
            ends = {end + 1 for end in ends}.intersection(following)
            if not ends:
                return False
        return True
    aspans = [Span(position) for position in positions[0]]
    for following in positions[1:]:
        bspans = [Span(position) for position in following]
        spans = set()
        for aspan in aspans:
            j = bisect_spans(bspans, aspan.start)
            while j < len(bspans):
                bspan = bspans[j]
                j += 1
                if bspan.end < aspan.start - slop or aspan.start > bspan.start:
                    continue
                if bspan.start > aspan.end + slop:
                    break
                if mindist <= aspan.distance_to(bspan) <= slop:
                    spans.add(aspan.to(bspan))
        if not spans:
            return False
        aspans = sorted(spans)
    return True


def _term(query: wq.Term, searcher: Searcher, postings: Postings) -> Scored:
    reader = searcher.reader()
    fieldname = query.fieldname
    if fieldname not in searcher.schema:
        return EMPTY
    field = searcher.schema[fieldname]
    try:
        text = field.to_bytes(query.text)
    except ValueError:
        return EMPTY
    if not postings.has(reader, fieldname, text):
        return EMPTY
    docs, freqs = postings.term(reader, fieldname, text)
    weighting = searcher.weighting
    if not field.scorable:
        scores = freqs.astype(np.float64)
    else:
        b = weighting._field_B.get(fieldname, weighting.B)
        k1 = weighting.K1
        idf = searcher.idf(fieldname, text)
        average = searcher.avg_field_length(fieldname) or 1
        lengths = _LENGTHS[postings.lengths(reader, fieldname)[docs]]
        tf = freqs.astype(np.float64)
        scores = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / average)))
    return Scored(docs, scores).boosted(query.boost)


def ranked(
    scored: Scored,
    limit: int | None,
    factor: np.ndarray | None = None,
    story: np.ndarray | None = None,
) -> list[tuple[float, int]]:
    """The best ``limit`` (all for None) as (score, docnum), best first, ties to the lower
    docnum as Whoosh breaks them. ``factor`` multiplies each document's score (recency);
    with ``story`` (a story key per document) only the best document of a story is kept.
    """
    docs = scored.docs
    scores = scored.scores if factor is None else scored.scores * factor[docs]
    total = len(docs)
    take = total if limit is None else min(limit, total)
    if take == 0:
        return []
    # Sort only what can reach the page: the best few times ``limit`` (all the tied
    # ones at the edge), more when collapsing leaves too few stories.
    depth = take if story is None else take * 4
    while True:
        if depth >= total:
            chosen = np.arange(total)
        else:
            edge = np.partition(scores, total - depth)[total - depth]
            chosen = np.flatnonzero(scores >= edge)
        order = one_per_story(chosen[np.lexsort((docs[chosen], -scores[chosen]))], docs, story)
        if len(order) >= take or len(chosen) >= total:
            break
        depth *= 4
    order = order[:take]
    return list(zip(scores[order].tolist(), docs[order].tolist(), strict=True))


def sorted_by(
    scored: Scored,
    limit: int | None,
    keys: Sequence[np.ndarray],
    story: np.ndarray | None = None,
) -> list[tuple[float, int]]:
    """The first ``limit`` (all for None) in the order of the per-document ``keys``
    (most significant first, ascending), then by docnum, as (0.0, docnum): a sort
    has no scores. With ``story``, only the first document of a story is kept."""
    docs = scored.docs
    columns = [docs] + [key[docs] for key in reversed(keys)]
    order = one_per_story(np.lexsort(columns), docs, story)[:limit]
    return [(0.0, docnum) for docnum in docs[order].tolist()]


def one_per_story(order: np.ndarray, docs: np.ndarray, story: np.ndarray | None) -> np.ndarray:
    """``order`` (positions into ``docs``) without the later documents of each story."""
    if story is None:
        return order
    _, first = np.unique(story[docs[order]], return_index=True)
    return order[np.sort(first)]


def matched_terms(
    query: wq.Query, searcher: Searcher, postings: Postings, docnums: list[int]
) -> tuple[dict[int, list[tuple[str, bytes]]], dict[tuple[str, bytes], list[int]]]:
    """Which of the query's terms each of ``docnums`` has, and the reverse: what Whoosh's
    ``terms=True`` records for highlighting and explanations."""
    reader = searcher.reader()
    wanted = np.array(sorted(docnums), dtype=np.int64)
    by_doc: dict[int, list[tuple[str, bytes]]] = {}
    by_term: dict[tuple[str, bytes], list[int]] = {}
    for fieldname, text in sorted(set(scored_terms(query))):
        if fieldname not in searcher.schema:
            continue
        try:
            term = (fieldname, searcher.schema[fieldname].to_bytes(text))
        except ValueError:
            continue
        if not postings.has(reader, *term):
            continue
        docs, _ = postings.term(reader, *term)
        having = wanted[np.isin(wanted, docs, assume_unique=True)].tolist()
        if having:
            by_term[term] = having
            for docnum in having:
                by_doc.setdefault(docnum, []).append(term)
    return by_doc, by_term


def scored_terms(query: wq.Query) -> Iterator[tuple[str, Any]]:
    """The terms that score: not a Require's filter nor a stop word's languages, which
    Whoosh leaves out of a hit's matched terms (search.whoosh_fixes, search.analysis)."""
    if isinstance(query, InLanguages):
        return
    if isinstance(query, wq.Require):
        yield from scored_terms(query.a)
    elif query.is_leaf():
        yield from query.iter_all_terms()
    else:
        for child in query.children():
            yield from scored_terms(child)
