"""Facet counts and filters over whole result sets, from per-generation doc tables.

Whoosh's own overlapping facets walk postings on every query; here the
doc -> values tables are built once per index generation and each query only
counts over its matching documents.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from whoosh.reading import IndexReader

from search.analysis import query_languages
from search.coverage import coverage
from search.docset import DocSet, distinct_counts
from search.postings import doc_array, doc_mask, field_postings
from search.schema import ENTITY_TAG_FIELDS, FACET_FIELDS


@dataclass
class FacetTable:
    """One facet field: documents per value (ascending arrays), values by folded case, and
    every (document, value) pair as two arrays, so that a count is one array operation."""

    docs_by_value: dict[str, np.ndarray] = field(default_factory=dict)
    values_by_folded: dict[str, list[str]] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)
    pair_docs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pair_values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def spellings_docs(self, value: str) -> list[np.ndarray]:
        """The documents of each spelling of ``value`` (compared without regard to case)."""
        return [
            self.docs_by_value[exact] for exact in self.values_by_folded.get(value.casefold(), [])
        ]

    def docs_for(self, value: str) -> DocSet:
        """Documents having ``value``, compared without regard to case."""
        return union(self.spellings_docs(value))

    def count(self, matching: np.ndarray, size: int) -> list[dict[str, object]]:
        """The ``size`` values most of the documents set in the mask ``matching`` have,
        most first, then by value."""
        if not len(self.pair_docs):
            return []
        counts = np.bincount(self.pair_values[matching[self.pair_docs]], minlength=len(self.values))
        present = np.flatnonzero(counts)
        # values are sorted, so ordering by (-count, position) is ordering by (-count, value)
        order = present[np.lexsort((present, -counts[present]))][:size]
        return [{"value": self.values[i], "count": int(counts[i])} for i in order.tolist()]


def union(arrays: list[np.ndarray]) -> DocSet:
    """The documents of any of ``arrays`` (each ascending and distinct)."""
    if len(arrays) == 1:
        return DocSet(arrays[0])
    if not arrays:
        return DocSet(np.zeros(0, dtype=np.int64))
    return DocSet(np.unique(np.concatenate(arrays)))


def load_table(reader: IndexReader, fieldname: str) -> FacetTable:
    table = FacetTable()
    if fieldname not in reader.schema:
        return table
    terms = field_postings(reader, fieldname)
    table.values = [value for value, _ in terms]
    arrays = [docs for _, docs in terms]
    if not arrays:
        return table
    # A value's documents are a view into the pairs: held once, not twice.
    table.pair_docs = np.concatenate(arrays)
    sizes = [len(docs) for docs in arrays]
    table.pair_values = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    start = 0
    for value, size in zip(table.values, sizes, strict=True):
        table.docs_by_value[value] = table.pair_docs[start : start + size]
        table.values_by_folded.setdefault(value.casefold(), []).append(value)
        start += size
    return table


def story_table(reader: IndexReader) -> tuple[np.ndarray, np.ndarray]:
    """Per document, the number of its story cluster (search.dedup), and per number, how
    many live articles the story has. An article without a cluster gets a negative number
    of its own. Read from the live postings (``doc_frequency`` still counts replaced
    documents until their segment is merged)."""
    keys = -1 - np.arange(reader.doc_count_all(), dtype=np.int64)
    terms = field_postings(reader, "cluster") if "cluster" in reader.schema else []
    for number, (_, docs) in enumerate(terms):
        keys[docs] = number
    return keys, np.bincount(keys[keys >= 0], minlength=len(terms))


def column_values(reader: IndexReader, fieldname: str) -> np.ndarray:
    """Every document's raw value in a sortable numeric column (0 where it has none)."""
    values = np.zeros(reader.doc_count_all(), dtype=np.uint64)
    for leaf, offset in reader.leaf_readers():
        if fieldname not in leaf.schema or not leaf.has_column(fieldname):
            continue
        column = leaf.column_reader(fieldname, translate=False)
        size = leaf.doc_count_all()
        read = list(column)
        if len(read) != size:  # a segment without values iterates as empty
            read = [column[docnum] for docnum in range(size)]
        values[offset : offset + size] = read
    return values


class StoryCounts:
    """How many of a set of documents each story has."""

    def __init__(self, story_keys: np.ndarray, keys: np.ndarray) -> None:
        self._story_keys = story_keys
        self._keys, self._counts = distinct_counts(keys)

    def __len__(self) -> int:
        """The number of stories."""
        return len(self._keys)

    def copies(self, docnum: int) -> int:
        """How many of the documents are in ``docnum``'s story (0 when it is in none)."""
        at = int(np.searchsorted(self._keys, self._story_keys[docnum]))
        found = at < len(self._keys) and self._keys[at] == self._story_keys[docnum]
        return int(self._counts[at]) if found else 0


class FacetCache:
    """Every facet table and the day table of one index generation."""

    def __init__(self, reader: IndexReader) -> None:
        self.tables = {name: load_table(reader, f) for name, f in FACET_FIELDS.items()}
        self.other = load_table(reader, ENTITY_TAG_FIELDS["other"])
        days = load_table(reader, "day")
        self.day_values = sorted(days.docs_by_value)
        self.days = days
        # docnum -> day ordinal (-1: undated): coverage series count a match's dates from
        # this array instead of reading each hit's stored fields.
        self.day_ordinals = np.full(reader.doc_count_all(), -1, dtype=np.int64)
        for day, docs in days.docs_by_value.items():
            if len(day) == 8 and day.isdigit():
                ordinal = date(int(day[:4]), int(day[4:6]), int(day[6:8])).toordinal()
                self.day_ordinals[docs] = ordinal
        # Numbers rather than cluster ids: a dict of ids per document held hundreds of
        # megabytes at a million articles.
        self.story_keys, self._story_sizes = story_table(reader)
        self._decay: tuple[float, array[float]] | None = None
        self._doc_count = reader.doc_count_all()
        # Dated articles first, then by date: the newest/oldest sorts in bulk, ascending
        # keys (Whoosh's sortable columns, read raw).
        dated, when = column_values(reader, "dated"), column_values(reader, "date")
        undated_last = dated.max(initial=0) - dated
        self.sort_keys = {
            "newest": (undated_last, when.max(initial=0) - when),
            "oldest": (undated_last, when),
        }

    def mask(self, docnums: Iterable[int]) -> np.ndarray:
        """A boolean mask over the generation's documents with ``docnums`` set."""
        return doc_mask(docnums, self._doc_count)

    def count(self, docnums: Iterable[int], size: int) -> dict[str, list[dict[str, object]]]:
        matching = self.mask(docnums)
        return {name: table.count(matching, size) for name, table in self.tables.items()}

    def query_languages(self, lang_filter: str = "") -> tuple[str, ...]:
        """The languages to read a query's words in (search.analysis): the filter's, else
        those of the index's live articles."""
        present = (value for value, docs in self.tables["lang"].docs_by_value.items() if len(docs))
        return query_languages(lang_filter, present)

    def entity_docs(self, name: str) -> DocSet:
        tables = [self.other, *(self.tables[kind] for kind in ("person", "organization", "place"))]
        return union([docs for table in tables for docs in table.spellings_docs(name)])

    def story_of(self, docnum: int) -> int:
        """The story of a document; an article without a cluster is its own."""
        return int(self.story_keys[docnum])

    def story_docs(self, docnum: int) -> set[int]:
        """The article and every other article of its story."""
        return set(np.flatnonzero(self.story_keys == self.story_keys[docnum]).tolist())

    def cluster_size(self, docnum: int) -> int:
        """How many indexed articles the document's story has."""
        key = self.story_keys[docnum]
        return int(self._story_sizes[key]) if key >= 0 else 1

    def story_counts(self, docnums: Iterable[int]) -> StoryCounts:
        """Matching documents per story cluster."""
        return StoryCounts(self.story_keys, self.story_keys[doc_array(docnums)])

    def coverage(self, docnums: Iterable[int]) -> dict[str, Any]:
        """The matches' coverage over time (search.coverage)."""
        return coverage(self.day_ordinals[doc_array(docnums)])

    def recency_decay(self, half_life_days: float) -> array[float]:
        """Per document, ``0.5 ** (age / half_life)`` where age is in days before the
        newest dated article of the index (not today: an archive keeps its own order).
        Undated documents get the decay of the oldest dated one, so that recency never
        favours an article only for lacking a date. Built once per generation."""
        if self._decay is not None and self._decay[0] == half_life_days:
            return self._decay[1]
        ordinals = {
            day: date(int(day[:4]), int(day[4:6]), int(day[6:8])).toordinal()
            for day in self.day_values
            if len(day) == 8 and day.isdigit()
        }
        decay = array("d", [1.0] * self._doc_count)
        if ordinals:
            newest = max(ordinals.values())
            oldest = 0.5 ** ((newest - min(ordinals.values())) / half_life_days)
            decay = array("d", [oldest] * self._doc_count)
            for day, ordinal in ordinals.items():
                value = 0.5 ** ((newest - ordinal) / half_life_days)
                for docnum in self.days.docs_by_value[day].tolist():
                    decay[docnum] = value
        self._decay = (half_life_days, decay)
        return decay

    def date_docs(self, start: date | None, end: date | None) -> DocSet:
        """Documents dated within [start, end]; undated ones (ordinal -1) never match."""
        low = start.toordinal() if start else 0
        days = self.day_ordinals
        inside = days >= low
        if end is not None:
            inside &= days <= end.toordinal()
        return DocSet(np.flatnonzero(inside))
