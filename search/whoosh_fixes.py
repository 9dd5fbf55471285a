"""Fixes for Whoosh 2.7.4 bugs that change search results, applied on import.

AndNotMatcher only skips its first excluded document when the excluded matcher
happens to start on the same document; when it starts earlier, an unscored walk
(``docs_for_query``, which counts totals and facets) keeps a document that
``word -other`` should have dropped.

Require ("match A, score by A alone, only where B matches too") builds an AndNotMatcher,
so a scored search returns A's documents *without* B's. search.analysis restricts a
phrase to its languages with it. Its filter's terms (``lang:de``) are also kept out of
a hit's matched terms: they are not words the article matched, to explain or highlight.
Its quality skipping (the top-N collector's shortcut) asserted that the required matcher
was not already on the scored one's document after a skip, which it may well be: a phrase
with a stop word in it ("had resolved") raised AssertionError on the Reuters index.

Highlight fragments with the same score were ordered by their objects' memory addresses
(``Fragment.__lt__`` compares ``id()``), so the same hit's snippet changed from one
call to the next. Ties now go to the fragment that comes first in the text.

The ISRI Arabic stemmer's hamza normalisation passes a raw backslash-u escape (alif) as
a replacement template, which Python 3.7+ refuses ("bad escape"): every Arabic word raised.

One costly corner rather than a bug: a segment's reader caches each field's lengths
column, but not that a field has none, so writing a segment asked the file system
whether the column file exists once per posting of every unscored field (ids, tags,
days): 4 % of the indexer's time.

Another: a Term's ``with_boost`` (which every normalisation of a compound query calls
on each of its terms) copied it with ``copy.deepcopy``; its attributes are a field name,
a text and two numbers, so a shallow copy is the same copy at a tenth of the cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import copy
from typing import Any

from whoosh.codec.whoosh3 import W3PerDocReader
from whoosh.highlight import Fragment
from whoosh.lang.isri import ISRIStemmer
from whoosh.matching import Matcher
from whoosh.matching.binary import AndNotMatcher
from whoosh.matching.wrappers import RequireMatcher
from whoosh.query import Require, Term


def _find_first(self: AndNotMatcher) -> None:
    if self.a.is_active() and self.b.is_active():
        self._find_next()


AndNotMatcher._find_first = _find_first


def _require_matcher(self: Require, searcher: Any, context: Any = None) -> RequireMatcher:
    scored = self.a.matcher(searcher, context)
    required = self.b.matcher(searcher, searcher.boolean_context())
    return RequireMatcher(scored, required)


def _scored_term_matchers(self: RequireMatcher) -> Iterator[Matcher]:
    return self.a.term_matchers()


def _require_skip_to_quality(self: RequireMatcher, minquality: float) -> int:
    skipped = self.a.skip_to_quality(minquality)
    if self.a.is_active() and self.b.is_active() and self.a.id() != self.b.id():
        self.child._find_next()
    return skipped


Require.matcher = _require_matcher
RequireMatcher.term_matchers = _scored_term_matchers
RequireMatcher.skip_to_quality = _require_skip_to_quality


def _isri_norm(self: ISRIStemmer, num: int) -> str:
    if num in (1, 3):
        self.stm = self.re_short_vowels.sub("", self.stm)
    if num in (2, 3):
        self.stm = self.re_intial_hamza.sub("\u0627", self.stm)  # a bare alif, not a template
    return self.stm


ISRIStemmer.norm = _isri_norm


def _fragment_less(self: Fragment, other: Fragment) -> bool:
    # top_fragments keeps the "largest" (score, fragment) pairs: among equal scores,
    # the earlier fragment must be the larger.
    return (self.startchar, self.endchar) > (other.startchar, other.endchar)


Fragment.__lt__ = _fragment_less


_NO_COLUMN = object()


def _cached_reader(self: W3PerDocReader, fieldname: str, column: Any) -> Any:
    reader = self._readers.get(fieldname, _NO_COLUMN)
    if reader is _NO_COLUMN:
        has = self.has_column(fieldname)
        reader = self._readers[fieldname] = self.column_reader(fieldname, column) if has else None
    return reader


W3PerDocReader._cached_reader = _cached_reader


def _term_copy(self: Term) -> Term:
    return copy(self)


Term.copy = _term_copy
