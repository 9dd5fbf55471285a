""" "Did you mean": a corrected query, offered when it would find more.

Whoosh's own ``Searcher.correct_query`` rewrites terms field by field and ranks
suggestions by frequency alone (its ReaderCorrector ignores the edit distance); with a
query spread over six fields that gives one correction per field for the same word.
Here each word of a plain query is corrected once, against the headline and body
vocabulary, closest edit distance first, then most articles.

The vocabulary is stemmed ("govern", not "government"), so a suggestion is turned back
into a word as articles write it: of the words in a few articles that stem the same way,
the one closest to what was typed ("goverment" -> stem "govern" -> "government"). Words
are stemmed in one of the languages the query was read in (search.analysis): English
when it is one of them, as most of an archive usually is.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from itertools import islice
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from whoosh import query as wq
from whoosh.analysis import Analyzer
from whoosh.reading import IndexReader
from whoosh.support.levenshtein import damerau_levenshtein

from search.analysis import DEFAULT_LANGUAGE, analysis_language
from search.analysis import text_analyzer as _text_analyzer
from search.config import RANKING, Ranking
from search.errors import QueryError
from search.query import ParsedQuery, parse_query

# The vocabulary corrections come from: entity names are in the body too.
SPELLING_FIELDS = ("headline", "body")
# A word found in this many times fewer articles than a close word is probably a typo
# of it ("cocao" in 1 article, "cocoa" in 40), even though it is in the index.
FAR_MORE = 10
# A word in more articles than this share of the index (and than MIN_TYPO_ARTICLES) is
# taken as meant, not corrected: a typo repeated that often is a spelling people use, and
# skipping common words spares the vocabulary walk for most words of most queries.
TYPO_SHARE = 1 / 200
MIN_TYPO_ARTICLES = 3
# Shorter stems have too many neighbours one edit away to guess from.
MIN_STEM_CHARS = 3
# Close stems looked at closely (their written form read from articles), and how many
# articles' text is read for each.
MAX_CANDIDATES = 8
WRITTEN_SAMPLE = 3
WRITTEN_CACHE = 20_000  # stems whose written forms a generation remembers
_WORD = re.compile(r"\w+")
_NO_COUNTS = np.zeros(0, dtype=np.int64)


class Vocabulary:
    """One index generation's headline and body terms, grouped by first letter.

    Close words are found among them in C (rapidfuzz) rather than by walking Whoosh's
    on-disk term table with a Levenshtein automaton, which cost some 30 ms a word.
    """

    def __init__(self, reader: IndexReader) -> None:
        # Each term's articles in the spelling fields (an article may count twice), read
        # once with the term list: looked up term by term in Whoosh's tables, a close
        # word's count cost more than finding it.
        frequencies: dict[str, int] = {}
        for leaf, _ in reader.leaf_readers():
            for name in SPELLING_FIELDS:
                if name not in leaf.schema:
                    continue
                for raw, info in leaf.iter_field(name):
                    term = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                    frequencies[term] = frequencies.get(term, 0) + info.doc_frequency()
        by_first: dict[str, list[str]] = {}
        for term in sorted(frequencies):
            by_first.setdefault(term[:1], []).append(term)
        self._by_first = {
            first: (terms, np.array([frequencies[term] for term in terms], dtype=np.int64))
            for first, terms in by_first.items()
        }
        # How stems are written in articles, read from a few of them: a query asked again
        # (its next page) offers the same stems, and common stems are offered for many
        # typos (a repeated log of 57 slow queries: suggestions 495 -> 133 ms in all).
        self._written: OrderedDict[tuple[str, str], frozenset[str]] = OrderedDict()
        self._written_lock = threading.Lock()

    def written_forms(self, reader: IndexReader, term: str, lang: str) -> frozenset[str]:
        """``written_forms(reader, term, lang)``, remembered for the generation."""
        key = (term, lang)
        with self._written_lock:
            if key in self._written:
                self._written.move_to_end(key)
                return self._written[key]
        forms = written_forms(reader, term, lang)
        with self._written_lock:
            self._written[key] = forms
            if len(self._written) > WRITTEN_CACHE:
                self._written.popitem(last=False)
        return forms

    def frequency(self, term: str) -> int:
        """Articles with ``term`` in any spelling field (an article may count twice); 0
        for a term the index lacks."""
        terms, counts = self._by_first.get(term[:1], ([], _NO_COUNTS))
        at = bisect_left(terms, term)
        return int(counts[at]) if at < len(terms) and terms[at] == term else 0

    def within(self, stem: str, maxdist: int) -> list[tuple[str, int]]:
        """(term, frequency) of the terms at most ``maxdist`` edits from ``stem``
        that start with its first letter (typos rarely hit the first letter, and the
        group is a small share of the rest)."""
        terms, counts = self._by_first.get(stem[:1], ([], _NO_COUNTS))
        found = process.extract(
            stem, terms, scorer=Levenshtein.distance, score_cutoff=maxdist, limit=None
        )
        return [(term, int(counts[at])) for term, _, at in found]


@lru_cache(maxsize=1)
def text_analyzer() -> Analyzer:
    """The indexed fields' analyzer, built once: stems must be computed the same way."""
    return _text_analyzer()


def spelling_language(languages: Sequence[str]) -> str:
    """The analysis language to correct words in: corrections are looked for one stem
    per word, so one language of the query's."""
    if DEFAULT_LANGUAGE in languages or not languages:
        return DEFAULT_LANGUAGE
    return analysis_language(languages[0])


def stems(word: str, lang: str) -> list[str]:
    """The indexed forms of one word in ``lang``: one stem, or two for a word with
    accents that stems differently folded; [] for a stop word or several words."""
    tokens = [(token.pos, token.text) for token in text_analyzer()(word, positions=True, lang=lang)]
    if not tokens or tokens[0][0] != tokens[-1][0]:
        return []
    return [text for _, text in tokens]


def closest_word(
    reader: IndexReader,
    vocabulary: Vocabulary,
    typed: str,
    stem: str,
    frequency: int,
    lang: str = DEFAULT_LANGUAGE,
) -> str | None:
    """The word to suggest for ``typed`` (stem ``stem``, in ``frequency`` articles): the
    closest indexed stem (one edit; two for longer words) in ``FAR_MORE`` times as many
    articles, as it is written in the articles; None when there is none.

    Whoosh's automaton counts a swap of two letters ("cocao") as two edits, and stems
    hide what was typed ("japanse" is one edit from the stem "japan" and from
    "japanes"), so the shortlist is ranked by the true (Damerau) distance between the
    typed word and each stem's written form, then by articles.
    """
    wanted = max(1, FAR_MORE * frequency)
    maxdist = 2 if len(stem) >= 5 else 1
    shortlist = []
    for term, count in vocabulary.within(stem, maxdist):
        # Within maxdist edits already: a swap counts one edit here, two there.
        if term != stem and count >= wanted:
            shortlist.append((damerau_levenshtein(stem, term), -count, term))
    lowered = typed.lower()
    best: tuple[tuple[int, int, int, str], str] | None = None
    for distance, negative_count, term in sorted(shortlist)[:MAX_CANDIDATES]:
        forms = vocabulary.written_forms(reader, term, lang)
        # The stem itself when no article shows how it is written.
        word = min(forms, key=lambda form: (damerau_levenshtein(lowered, form), form), default=term)
        # Ties by the word itself, so that the suggestion does not depend on set order.
        key = (damerau_levenshtein(lowered, word), distance, negative_count, word)
        if best is None or key < best[0]:
            best = (key, word)
    if best is None:
        return None
    return best[1].capitalize() if typed[:1].isupper() else best[1]


def written_forms(reader: IndexReader, term: str, lang: str = DEFAULT_LANGUAGE) -> frozenset[str]:
    """How the indexed stem ``term`` is written: the words in a few articles that stem to
    it in ``lang`` ("govern": "government", "governor", ...)."""
    # Porter stems may change a word's last letter ("economy" -> "economi").
    start = re.escape(term[: max(MIN_STEM_CHARS, len(term) - 1)])
    pattern = re.compile(rf"\b{start}\w*", re.IGNORECASE)
    forms: set[str] = set()
    for name in SPELLING_FIELDS:
        if (name, term) not in reader:
            continue
        for docnum in islice(reader.postings(name, term).all_ids(), WRITTEN_SAMPLE):
            text = reader.stored_fields(docnum).get(name) or ""
            for found in pattern.finditer(text):
                word = found.group().lower()
                if word not in forms and term in stems(word, lang):
                    forms.add(word)
    return frozenset(forms)


def corrected_text(
    reader: IndexReader,
    vocabulary: Vocabulary,
    parsed: ParsedQuery,
    typed: str,
    only_with_unknown: bool = False,
) -> tuple[str, bool]:
    """``typed`` with its misspelt words replaced, and whether any was unknown to the
    index; the text unchanged when there is nothing to correct, or, with
    ``only_with_unknown``, when every word is in the index."""
    lang = spelling_language(parsed.languages)
    text = typed.strip()
    suspects: list[tuple[re.Match[str], str, int]] = []
    # parsed.text has the typed text's positions, with date phrases blanked: they are
    # not words to correct ("in 1987" must not become "in 1986").
    for match in _WORD.finditer(parsed.text):
        forms = stems(match.group(), lang)
        if len(forms) != 1 or len(forms[0]) < MIN_STEM_CHARS or forms[0].isdigit():
            continue
        frequency = vocabulary.frequency(forms[0])
        if frequency <= max(MIN_TYPO_ARTICLES, reader.doc_count() * TYPO_SHARE):
            suspects.append((match, forms[0], frequency))
    if only_with_unknown and all(frequency for _, _, frequency in suspects):
        return text, False
    replacements: list[tuple[int, int, str]] = []
    unknown = False
    for match, stem, frequency in suspects:
        typed_word = text[match.start() : match.end()]
        word = closest_word(reader, vocabulary, typed_word, stem, frequency, lang)
        if word is None:
            continue
        unknown = unknown or frequency == 0
        replacements.append((match.start(), match.end(), word))
    for start, end, word in reversed(replacements):
        text = text[:start] + word + text[end:]
    return text, unknown


def suggestion(
    reader: IndexReader,
    vocabulary: Vocabulary,
    parsed: ParsedQuery,
    typed: str,
    total: int,
    count: Callable[[wq.Query], int],
    ranking: Ranking = RANKING,
    newest: date | None = None,
) -> dict[str, Any] | None:
    """``{"query", "total"}`` for a corrected plain query that finds more than ``total``
    (far more, when every typed word is in the index); None otherwise.

    ``count`` counts the matches of a query within the request's filters: one unscored
    walk of the postings, as cheap as the count the search itself made.
    """
    if not parsed.plain:
        return None
    # Corrections of words the index has must find FAR_MORE times the articles: beyond a
    # tenth of the index no query can, so the search for close words is spared.
    hopeless = FAR_MORE * max(total, 1) > reader.doc_count()
    corrected, unknown = corrected_text(reader, vocabulary, parsed, typed, hopeless)
    if corrected == typed.strip():
        return None
    try:
        query = parse_query(corrected, ranking, newest=newest, languages=parsed.languages).query
    except QueryError:
        return None
    corrected_total = count(query)
    if corrected_total <= total or (not unknown and corrected_total < FAR_MORE * max(total, 1)):
        return None
    return {"query": corrected, "total": corrected_total}
