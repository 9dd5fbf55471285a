"""Scoring: BM25F with the idf that the standard engines use.

Whoosh's default idf, ``log(N / (df + 1)) + 1``, never lets a common word fall
below 1, so long natural-language queries are ranked by their many common words
instead of their few telling ones. The Robertson/Lucene idf,
``log(1 + (N - df + 0.5) / (df + 0.5))``, keeps common words near zero.
"""

from __future__ import annotations

from math import log

from whoosh.scoring import BM25F
from whoosh.searching import Searcher


class NewsBM25F(BM25F):
    """BM25F with the probabilistic idf."""

    def idf(self, searcher: Searcher, fieldname: str, text: bytes) -> float:
        df = searcher.doc_frequency(fieldname, text)
        total = searcher.doc_count_all()
        return log(1 + (total - df + 0.5) / (df + 0.5))
