"""Phrase tables: the positions of a segment's common words, as arrays on disk.

A phrase of common words ("net vs", "said trading") has tens of thousands of candidate
articles at a million articles, and Whoosh keeps each posting's positions as a small
pickle: decoding them cost about 3 microseconds a posting, seconds for one phrase. A
phrase table holds, for each word of the phrase fields found in at least ``MIN_POSTINGS``
of a segment's documents, its document numbers, where each one's positions start, and the
positions, so a phrase reads a few arrays instead.

One file per segment, ``<segment>.phrases``, written after the commit that made the
segment and renamed into place whole; the index's pruning removes it with its segment.
Tables are a cache: a segment without one (an older index, a run stopped before writing
it) or with a damaged one is read through Whoosh's postings as before, and the next index
run writes it anew.

Layout: per word, its document numbers (uint32), the start of each one's positions and
the end of the last (uint32, one more than the documents), and the positions (uint16, or
uint32 where a body is longer than 65,535 words); then a JSON directory, then a trailer
with the directory's offset and length and ``MAGIC``.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher

from search.postings import decode_positions, leaf_terms, whole_ids
from search.schema import INDEX_NAME
from search.storage import SharedFileStorage

log = logging.getLogger(__name__)

PHRASE_FIELDS = ("headline", "body")
# Words in fewer documents than this have so few candidates that decoding their
# positions costs a few milliseconds at most.
MIN_POSTINGS = 1000
SUFFIX = ".phrases"
MAGIC = b"NSPHRAS1"
_TRAILER = struct.Struct("<QQ8s")


def table_path(folder: Path, leaf: Any) -> Path | None:
    """Where a segment reader's phrase table is, or would be, in the index ``folder``
    (None for an empty index's reader, which has no segment)."""
    segment = leaf.segment()
    return None if segment is None else folder / segment.make_filename(SUFFIX)


class PhraseTable:
    """One segment's table, open for reading: the directory in memory, arrays on demand."""

    def __init__(self, path: Path, segment: str, documents: int) -> None:
        self.path = path
        self.damaged = False  # set by a reader that found its arrays inconsistent
        self.fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(self.fd).st_size
            if size < _TRAILER.size:
                raise ValueError("shorter than its trailer")
            start, length, magic = _TRAILER.unpack(self._read(size - _TRAILER.size, _TRAILER.size))
            if magic != MAGIC or start + length != size - _TRAILER.size:
                raise ValueError("no phrase-table trailer")
            directory = json.loads(self._read(start, length))
            if "segment" not in directory:
                raise ValueError("an older layout, naming no segment")
            # Another segment's table (a copied or restored file) must not be read as this one's.
            if directory["segment"] != segment or directory.get("documents") != documents:
                raise ValueError("the table of another segment")
            self.words: dict[str, dict[str, list[int]]] = directory["words"]
        except BaseException:
            self.close()
            raise

    def _read(self, offset: int, length: int) -> bytes:
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            raise ValueError("phrase table cut short")
        return data

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:
        if hasattr(self, "fd"):
            self.close()

    def count(self, fieldname: str, text: bytes) -> int:
        """How many documents the table holds the word's positions for (0: not held)."""
        entry = self.words.get(fieldname, {}).get(text.decode("utf-8"))
        return entry[1] if entry else 0

    def positions(
        self, fieldname: str, text: bytes, wanted: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(positions per document, the positions in a row) for ``wanted`` (segment
        document numbers, ascending, each holding the word)."""
        start, count, width = self.words[fieldname][text.decode("utf-8")]
        if width not in (2, 4):
            raise ValueError(f"positions {width} bytes wide")
        head = np.frombuffer(self._read(start, 4 * (2 * count + 1)), dtype="<u4")
        docs, starts = head[:count], head[count:].astype(np.int64)
        rows = np.searchsorted(docs, wanted)
        if len(rows) and (rows[-1] >= count or not np.array_equal(docs[rows], wanted)):
            raise ValueError(f"phrase table of {fieldname}:{text!r} lacks a document")
        first, last = (int(starts[rows[0]]), int(starts[rows[-1] + 1])) if len(rows) else (0, 0)
        dtype = np.dtype(f"<u{width}")
        span = np.frombuffer(
            self._read(start + 4 * (2 * count + 1) + width * first, width * (last - first)),
            dtype=dtype,
        )
        counts = starts[rows + 1] - starts[rows]
        if len(counts) and counts.min() < 1:  # every wanted document holds the word
            raise ValueError(f"phrase table of {fieldname}:{text!r} is inconsistent")
        # The index in ``span`` of every wanted position: each document's start, counted on.
        offsets = np.repeat(starts[rows] - first - (np.cumsum(counts) - counts), counts)
        return counts, span[offsets + np.arange(int(counts.sum()))].astype(np.int64)


class TableCache:
    """One index generation's open phrase tables, by segment.

    A segment found without a table is looked for again next time (a stat): the run that
    committed the generation writes its tables just after, while servers may already
    have opened it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._tables: dict[str, PhraseTable | None] = {}  # by file name
        self._lock = threading.Lock()

    def __call__(self, leaf: Any) -> PhraseTable | None:
        path = table_path(self.folder, leaf)
        if path is None:
            return None
        if path.name in self._tables:
            return self._tables[path.name]
        if not path.exists():
            return None
        with self._lock:
            if path.name not in self._tables:
                try:
                    # None when damaged: Whoosh's postings serve
                    self._tables[path.name] = open_table(path, leaf)
                except OSError:
                    return None  # perhaps passing (no descriptors left): try again later
            return self._tables[path.name]


def write_table(leaf: Any, path: Path) -> int:
    """Write the segment's table to ``path`` (through a file renamed into place whole
    once flushed); returns the number of words in it."""
    words: dict[str, dict[str, list[int]]] = {}
    partial = partial_path(path)
    with partial.open("wb") as sink:
        for fieldname in PHRASE_FIELDS:
            fmt = leaf.schema[fieldname].format if fieldname in leaf.schema else None
            if fmt is None or not fmt.supports("positions"):
                continue
            for text, info in leaf_terms(leaf, fieldname):
                if info.doc_frequency() < MIN_POSTINGS:
                    continue
                found = _all_positions(leaf, fieldname, text, fmt)
                if found is None:
                    continue
                docs, counts, positions = found
                starts = np.concatenate(([0], np.cumsum(counts)))
                if starts[-1] >= 2**32:  # beyond the uint32 starts: left to the postings
                    continue
                width = 2 if not len(positions) or positions.max() < 2**16 else 4
                words.setdefault(fieldname, {})[text.decode("utf-8")] = [
                    sink.tell(),
                    len(docs),
                    width,
                ]
                sink.write(docs.astype("<u4").tobytes())
                sink.write(starts.astype("<u4").tobytes())
                sink.write(positions.astype(f"<u{width}").tobytes())
        segment = leaf.segment()
        directory = {
            "segment": segment.segment_id(),
            "documents": segment.doc_count_all(),
            "words": words,
        }
        encoded = json.dumps(directory, separators=(",", ":")).encode("utf-8")
        start = sink.tell()
        sink.write(encoded)
        sink.write(_TRAILER.pack(start, len(encoded), MAGIC))
        sink.flush()
        os.fsync(sink.fileno())
    partial.replace(path)
    return sum(map(len, words.values()))


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def _all_positions(
    leaf: Any, fieldname: str, text: bytes, fmt: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Every posting of the term in the segment (deleted documents too): documents,
    positions per document, positions in a row; None for postings inlined in the term
    table (never a common word's)."""
    matcher = leaf._terms.matcher(fieldname, text, fmt)
    if not isinstance(matcher, W3LeafMatcher):
        return None
    ids, values = [], []
    while not matcher._atend:
        matcher._read_data()
        ids.append(whole_ids(matcher, np.asarray(matcher._data[0], dtype=np.int64)))
        values.extend(matcher._data[2])
        matcher._next_block()
    counts, positions = decode_positions(fmt, values)
    return np.concatenate(ids), counts, positions


def open_table(path: Path, leaf: Any) -> PhraseTable | None:
    """The segment's table at ``path``; None (logged) when it is not a readable table of
    this segment: damaged, cut short, another segment's, or of an older layout."""
    segment = leaf.segment()
    try:
        return PhraseTable(path, segment.segment_id(), segment.doc_count_all())
    except ValueError as error:
        log.warning("phrase table %s not used (%s); the next index run writes it anew", path, error)
        return None


def write_missing(reader: Any, folder: Path) -> int:
    """Write the tables the reader's segments (of the index in ``folder``) lack or have
    unreadable; returns how many were written."""
    written = 0
    for leaf, _ in reader.leaf_readers():
        path = table_path(folder, leaf)
        if path is None:
            continue
        if path.exists():
            table = open_table(path, leaf)
            if table is not None:
                table.close()
                continue
        partial_path(path).unlink(missing_ok=True)
        write_table(leaf, path)
        written += 1
    return written


def write_phrase_tables(index_dir: Path) -> int:
    """Write the tables the index's newest generation lacks; run under the writer lock,
    after a commit. Best effort: tables are a cache, and the run has committed already,
    so no failure here may fail it."""
    try:
        with SharedFileStorage(str(index_dir)).open_index(INDEX_NAME).reader() as reader:
            return write_missing(reader, index_dir)
    except Exception:
        log.exception("phrase tables not written; phrases are read without them")
        for partial in index_dir.glob(f"*{SUFFIX}.partial"):
            partial.unlink(missing_ok=True)
        return 0
