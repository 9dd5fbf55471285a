"""Hybrid ranking: BM25F blended with the semantic similarity of query and article.

For a plain query over English articles with vectors (search.semantic), the best
``RERANK_DEPTH`` BM25F hits are scored again as

    share * cosine(query, article) + (1 - share) * bm25f / best bm25f

(``Ranking.semantic_share``). A long plain query also brings into the head the articles
nearest in meaning (``Ranking.semantic_candidates``), whether its words match them or
not, found by a dot product over the generation's vector matrix (``Vectors``). Pages
stay consistent: only the head is re-ordered, and every page of a query sees the same
head.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from search import semantic
from search.docset import DocSet

# How many BM25F hits are re-ordered. Deeper pages keep BM25F's order after them.
RERANK_DEPTH = 100
# Past this many articles the whole-index matrix (1.5 KB per article as float32) is not
# built: long queries are then re-ranked only, without articles that miss every word.
MAX_MATRIX_VECTORS = 200_000


class Vectors:
    """One index generation's semantic vectors, read by document number."""

    def __init__(self, reader: Any) -> None:
        # An index made before vectors existed has no such field until the indexer next
        # runs (and Whoosh's has_column raises for an unknown field).
        self._leaves = [
            (leaf.column_reader("vector"), offset, leaf.doc_count_all())
            for leaf, offset in reader.leaf_readers()
            if "vector" in leaf.schema and leaf.has_column("vector")
        ]
        self._deleted = reader.is_deleted
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None

    def __bool__(self) -> bool:
        """Whether any article of the generation was given a vector."""
        return bool(self._leaves)

    def __len__(self) -> int:
        return sum(size for _, _, size in self._leaves)

    def _present(self) -> Iterator[tuple[int, bytes]]:
        for column, offset, size in self._leaves:
            for local in range(size):
                docnum = offset + local
                if not self._deleted(docnum):
                    data = column[local]
                    if len(data) == semantic.VECTOR_BYTES:
                        yield docnum, data

    def get(self, docnum: int) -> np.ndarray | None:
        for column, offset, size in self._leaves:
            if offset <= docnum < offset + size:
                return semantic.from_bytes(column[docnum - offset])
        return None

    def matrix(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(document numbers, float32 rows) of every live article with a vector; None when
        there are none or too many to hold. Built on first call: the searcher makes it
        under its lock when it opens a generation, before any query's clock starts."""
        if self._matrix is None and 0 < len(self) <= MAX_MATRIX_VECTORS:
            docnums = np.empty(len(self), dtype=np.int64)
            rows = np.empty((len(self), semantic.DIMENSIONS), dtype=np.float32)
            count = 0
            for docnum, data in self._present():
                docnums[count] = docnum
                rows[count] = np.frombuffer(data, dtype=np.float16)
                count += 1
            if not count:
                return None
            self._matrix = (docnums[:count].copy(), rows[:count].copy())
        return self._matrix

    def nearest(
        self,
        query: np.ndarray,
        k: int,
        allowed: DocSet | None,
        min_similarity: float = -1.0,
    ) -> dict[int, float]:
        """Up to ``k`` articles nearest ``query`` (docnum -> cosine), within ``allowed``
        and at least ``min_similarity`` near."""
        held = self.matrix()
        if held is None or k <= 0:
            return {}
        docnums, rows = held
        scores = rows @ query
        keep = scores >= min_similarity
        if allowed is not None:
            keep &= np.isin(docnums, allowed.array)
        candidates = np.flatnonzero(keep)
        if not len(candidates):
            return {}
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        return {int(docnums[i]): float(scores[i]) for i in top}


@dataclass
class SemanticMatch:
    """A query's vector and, for a long query, the articles nearest it in meaning."""

    query: np.ndarray
    nearest: dict[int, float] = field(default_factory=dict)  # docnum -> cosine
    # The nearest articles none of the query's words match.
    meaning_only: set[int] = field(default_factory=set)
    # Filled by rerank: the cosine of every document it scored (for explain=true).
    cosines: dict[int, float] = field(default_factory=dict)


def rerank(
    top_n: list[tuple[float, int]],
    match: SemanticMatch,
    vectors: Vectors,
    share: float,
    story_of: Callable[[int], Hashable],
    factor: Callable[[int], float] | None = None,
) -> tuple[list[tuple[float, int]], dict[int, float]]:
    """``top_n`` ((score, docnum), best first) re-scored with semantic similarity.

    The nearest articles outside the head (one per story not already there) join it on
    meaning alone, whether or not their words match further down. Returns the new list
    and each scored document's cosine. Articles without a vector (other languages) get
    the head's median cosine: neither pushed up nor down by it.

    ``factor`` (docnum -> multiplier) is the recency factor the scores in ``top_n`` carry:
    it is taken out before the blend and applied to the blended score, so that recency
    weighs meaning as much as words and the newest article keeps its whole score.
    """
    head, tail = top_n[:RERANK_DEPTH], top_n[RERANK_DEPTH:]
    if factor is None:
        factor = lambda _docnum: 1.0  # noqa: E731 - no recency: every score is whole
    raw = {docnum: score / f if (f := factor(docnum)) > 0 else 0.0 for score, docnum in head}
    best = max(max(raw.values(), default=0.0), 0.0)
    stories = {story_of(docnum) for _, docnum in head}
    words = {docnum: score / best if best else 0.0 for docnum, score in raw.items()}
    cosines: dict[int, float] = {}
    for docnum in words:
        vector = vectors.get(docnum)
        if vector is not None:
            cosines[docnum] = float(vector @ match.query)
    joined = set()
    for docnum, cosine in sorted(match.nearest.items(), key=lambda item: -item[1]):
        story = story_of(docnum)
        if story not in stories:
            stories.add(story)
            joined.add(story)
            words[docnum] = 0.0
            cosines[docnum] = cosine
    tail = [(score, docnum) for score, docnum in tail if story_of(docnum) not in joined]
    if not cosines:
        return top_n, {}
    neutral = float(np.median(list(cosines.values())))
    blended = sorted(
        (
            (factor(docnum) * (share * cosines.get(docnum, neutral) + (1 - share) * score), docnum)
            for docnum, score in words.items()
        ),
        key=lambda item: (-item[0], item[1]),
    )
    floor = blended[-1][0]
    # The tail keeps BM25F's order, below the head, scaled into the same range.
    rest = [(min(floor, (1 - share) * score / (best or 1.0)), docnum) for score, docnum in tail]
    return blended + rest, cosines
