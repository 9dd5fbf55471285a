"""Fixes for Whoosh 2.7.4 bugs that change search results, applied on import.

AndNotMatcher only skips its first excluded document when the excluded matcher
happens to start on the same document; when it starts earlier, an unscored walk
(``docs_for_query``, which counts totals and facets) keeps a document that
``word -other`` should have dropped.
"""

from __future__ import annotations

from whoosh.matching.binary import AndNotMatcher


def _find_first(self: AndNotMatcher) -> None:
    if self.a.is_active() and self.b.is_active():
        self._find_next()


AndNotMatcher._find_first = _find_first
