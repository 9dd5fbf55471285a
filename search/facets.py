"""Facet counts and filters over whole result sets, from per-generation doc tables.

Whoosh's own overlapping facets walk postings on every query; here the
doc -> values tables are built once per index generation and each query only
counts over its matching documents.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from whoosh.reading import IndexReader

from search.schema import ENTITY_TAG_FIELDS, FACET_FIELDS


@dataclass
class FacetTable:
    """One facet field: documents per value, values per document, values by folded case."""

    docs_by_value: dict[str, list[int]] = field(default_factory=dict)
    values_by_doc: dict[int, list[str]] = field(default_factory=dict)
    values_by_folded: dict[str, list[str]] = field(default_factory=dict)

    def docs_for(self, value: str) -> set[int]:
        """Documents having ``value``, compared without regard to case."""
        docs: set[int] = set()
        for exact in self.values_by_folded.get(value.casefold(), []):
            docs.update(self.docs_by_value[exact])
        return docs

    def count(self, docnums: Iterable[int], size: int) -> list[dict[str, object]]:
        counts: Counter[str] = Counter()
        values_by_doc = self.values_by_doc
        for docnum in docnums:
            values = values_by_doc.get(docnum)
            if values:
                counts.update(values)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [{"value": value, "count": count} for value, count in ranked[:size]]


def load_table(reader: IndexReader, fieldname: str) -> FacetTable:
    table = FacetTable()
    if fieldname not in reader.schema:
        return table
    for raw in reader.lexicon(fieldname):
        value = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        docs = list(reader.postings(fieldname, raw).all_ids())
        table.docs_by_value[value] = docs
        table.values_by_folded.setdefault(value.casefold(), []).append(value)
        for docnum in docs:
            table.values_by_doc.setdefault(docnum, []).append(value)
    return table


def value_counts(reader: IndexReader, fieldname: str) -> dict[str, int]:
    """Live documents per value of an exact field (for ``cluster``: the story's size).

    Counted from postings, not ``doc_frequency``, which still counts replaced documents
    until their segment is merged.
    """
    if fieldname not in reader.schema:
        return {}
    counts = {}
    for raw in reader.lexicon(fieldname):
        value = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        counts[value] = sum(1 for _ in reader.postings(fieldname, raw).all_ids())
    return counts


class FacetCache:
    """Every facet table and the day table of one index generation."""

    def __init__(self, reader: IndexReader) -> None:
        self.tables = {name: load_table(reader, f) for name, f in FACET_FIELDS.items()}
        self.other = load_table(reader, ENTITY_TAG_FIELDS["other"])
        days = load_table(reader, "day")
        self.day_values = sorted(days.docs_by_value)
        self.days = days
        self.cluster_sizes = value_counts(reader, "cluster")

    def count(self, docnums: set[int], size: int) -> dict[str, list[dict[str, object]]]:
        return {name: table.count(docnums, size) for name, table in self.tables.items()}

    def entity_docs(self, name: str) -> set[int]:
        docs = self.other.docs_for(name)
        for kind in ("person", "organization", "place"):
            docs |= self.tables[kind].docs_for(name)
        return docs

    def date_docs(self, start: date | None, end: date | None) -> set[int]:
        """Documents dated within [start, end]; undated ones never match a range."""
        low = start.strftime("%Y%m%d") if start else ""
        high = end.strftime("%Y%m%d") if end else "99999999"
        first = bisect.bisect_left(self.day_values, low)
        last = bisect.bisect_right(self.day_values, high)
        docs: set[int] = set()
        for day in self.day_values[first:last]:
            docs.update(self.days.docs_by_value[day])
        return docs
