"""Per-language text analysis: an article's words are stemmed and stop-worded in its own
language, and a query's words in each language it may be meant in.

Index time: the indexer hands Whoosh each text field as a :class:`LanguageText` (a ``str``
that knows the article's language) and stores the plain ``str``. The tokenizer tags every
token with the language, and the filters pick that language's stop words and stemmer:
Whoosh's Snowball stemmers (and ISRI for Arabic) for the languages in
:data:`STEMMED_LANGUAGES`; any other language (``ja``, ``zh``, ``und``...) is lowercased and
accent-folded only, never stemmed as English.

Accents are folded *and* stemmed both ways round: the Snowball rules need the accents
(French "attaquée" and "attaque" both stem to "attaqu"; folded first, "attaquee" stems to
"attaque" and misses it), while folding first is what a query typed without accents
computes. A word whose two forms differ is indexed under both, at the same position, and a
query word asks for both, so that "economique" finds "économiques" and the stems conflate
as well as the stemmer can.

Query time: :class:`LanguageQueryParser` analyses each word once per language of
:func:`searching_in` (the ``lang`` filter's, or every language in the index) and asks for
any of the distinct results: an English query still finds English articles in a mixed
index, a French query French ones. Plain text analysed outside both (highlighting a stored
field, spelling) is read as :func:`analysing_as`'s language, else English.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import chain
from typing import Any

from whoosh import query as wq
from whoosh.analysis import (
    STOP_WORDS,
    Analyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StopFilter,
    Token,
)
from whoosh.lang import (
    has_stemmer,
    stemmer_for_language,
    stopwords_for_language,
    two_letter_code,
)
from whoosh.lang import languages as whoosh_languages
from whoosh.lang.isri import ISRIStemmer
from whoosh.lang.stopwords import stoplists
from whoosh.matching import Matcher, NullMatcher
from whoosh.matching.wrappers import ConstantScoreWrapperMatcher
from whoosh.qparser import PhrasePlugin, QueryParser
from whoosh.qparser.common import attach
from whoosh.support.charset import accent_map

from search import whoosh_fixes  # noqa: F401 - Whoosh's Require, used for phrases

__all__ = [
    "DEFAULT_LANGUAGE",
    "LanguageQueryParser",
    "LanguageText",
    "analysing_as",
    "analysis_language",
    "in_language",
    "query_languages",
    "searching_in",
    "text_analyzer",
]

# What an analysis with no language given means: what every article was before.
DEFAULT_LANGUAGE = "en"
LANGUAGE_FIELD = "lang"  # the schema's field with the article's language code
# Bumped whenever the analysis of some language changes, so that search.schema's
# analysis_signature tells an index made the old way (and a --rebuild remakes it).
ANALYSIS_VERSION = 1
# Each Snowball stemmer is pure Python: stems are cached per language (news repeats words).
STEM_CACHE_WORDS = 50_000
STEMMED_LANGUAGES = frozenset(code for code in whoosh_languages if has_stemmer(code))

_text_language: ContextVar[str] = ContextVar("text_language", default=DEFAULT_LANGUAGE)
_query_languages: ContextVar[tuple[str, ...]] = ContextVar(
    "query_languages", default=(DEFAULT_LANGUAGE,)
)


class LanguageText(str):
    """A text field's value that carries its article's language into the analyzer."""

    lang: str

    def __new__(cls, text: str, lang: str) -> LanguageText:
        value = super().__new__(cls, text)
        value.lang = lang
        return value


def in_language(fields: dict[str, Any], names: Iterable[str], lang: str) -> None:
    """Make the named text fields of a document analyse as ``lang``, storing them as
    plain ``str`` (a stored LanguageText would pickle this module's class path into
    every document)."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value:
            fields[name] = LanguageText(value, lang)
            fields[f"_stored_{name}"] = value


@contextmanager
def analysing_as(lang: str | None) -> Iterator[None]:
    """Analyse plain ``str`` values as ``lang`` here (e.g. to highlight a stored field)."""
    token = _text_language.set(lang or DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _text_language.reset(token)


@contextmanager
def searching_in(languages: Sequence[str]) -> Iterator[None]:
    """Parse query words for each of ``languages`` here. A ContextVar rather than a
    parser attribute: the parsers are cached and shared between threads."""
    token = _query_languages.set(tuple(languages) or (DEFAULT_LANGUAGE,))
    try:
        yield
    finally:
        _query_languages.reset(token)


def query_languages(lang_filter: str, present: Iterable[str]) -> tuple[str, ...]:
    """The languages to analyse a query for: the filter's when there is one (only its
    articles can match), else every language in the index (``present``)."""
    if lang_filter.strip():
        return (lang_filter.strip().lower(),)
    return tuple(sorted(set(present))) or (DEFAULT_LANGUAGE,)


def analysis_language(lang: str) -> str:
    """The code whose stemmer and stop words analyse ``lang``; "" for neither."""
    code = two_letter_code(lang.lower()) or ""
    return code if code in STEMMED_LANGUAGES or code in stoplists else ""


def _fold(text: str) -> str:
    return text.translate(accent_map)


@cache
def stop_filter(code: str) -> StopFilter:
    """The stop filter of an analysis language, with its words accent-folded too (an
    article may be written without accents). English keeps Whoosh's short default list,
    as it always had; a language without a list only loses one-letter words."""
    if code == DEFAULT_LANGUAGE:
        words = frozenset(STOP_WORDS)
    elif code in stoplists:
        words = frozenset(stopwords_for_language(code))
    else:
        words = frozenset()
    return StopFilter(stoplist=words | {_fold(word) for word in words})


@cache
def stemmer(code: str) -> Callable[[str], str] | None:
    """The cached stemmer of an analysis language; None for a language without one."""
    if code not in STEMMED_LANGUAGES:
        return None
    if code == "ar":
        # Whoosh's ISRI stemmer keeps the word being stemmed on itself: one per call, or
        # threads stemming at once would mix their words up (7 us, on cache misses only).
        return lru_cache(maxsize=STEM_CACHE_WORDS)(lambda word: ISRIStemmer().stem(word))
    return lru_cache(maxsize=STEM_CACHE_WORDS)(stemmer_for_language(code))


class LanguageTokenizer(RegexTokenizer):
    """Words, each token tagged with the analysis language (``token.lang``).

    The language is the ``lang`` keyword's (an analysis language, from the query
    parser), else the value's (a LanguageText), else :func:`analysing_as`'s.
    """

    def __call__(self, value: str, lang: str | None = None, **kwargs: Any) -> Iterator[Token]:
        if lang is None:
            chosen = value.lang if isinstance(value, LanguageText) else _text_language.get()
            lang = analysis_language(chosen)
        return super().__call__(value, lang=lang, **kwargs)


def _language_of(tokens: Iterable[Token]) -> tuple[str, Iterator[Token]]:
    """The stream's analysis language (one per stream: it comes from the tokenizer) and
    the stream, its first token put back."""
    stream = iter(tokens)
    first = next(stream, None)
    if first is None:
        return "", stream
    return getattr(first, "lang", ""), chain((first,), stream)


class LanguageStopFilter(Filter):
    """Drops the stop words of the stream's language (and one-letter words)."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        code, stream = _language_of(tokens)
        return stop_filter(code)(stream)


class LanguageStemFilter(Filter):
    """Folds accents and stems with the stream's language's stemmer, if it has one.

    A word with accents gives stem-then-fold, then, at the same position and only if it
    differs, fold-then-stem (see the module's docstring).
    """

    is_morph = True

    def __init__(self) -> None:
        # An instance attribute, so that it is pickled with an index's schema.
        self.version = ANALYSIS_VERSION

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        code, stream = _language_of(tokens)
        stem = stemmer(code)
        for token in stream:
            text = token.text
            if text.isascii():
                if stem is not None and not token.stopped:
                    token.text = stem(text)
                yield token
                continue
            folded = _fold(text)
            if stem is None or token.stopped:
                token.text = folded
                yield token
                continue
            accented = _fold(stem(text))
            token.text = accented
            yield token
            unaccented = stem(folded)
            if unaccented != accented:
                token.text = unaccented
                yield token


def text_analyzer() -> Analyzer:
    """Words, lowercased, the article's language's stop words out, stemmed in its
    language, accents folded."""
    return LanguageTokenizer() | LowercaseFilter() | LanguageStopFilter() | LanguageStemFilter()


def is_language_analyzer(analyzer: object) -> bool:
    items = getattr(analyzer, "items", None) or [analyzer]
    return isinstance(items[0], LanguageTokenizer)


# Query time ----------------------------------------------------------------------------


@dataclass
class Reading:
    """A query text as one analysis language reads it: per position, its forms."""

    positions: list[list[str]] = field(default_factory=list)
    char_ranges: list[tuple[int, int]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # the query languages reading so

    def key(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(forms) for forms in self.positions)


def readings(analyzer: Analyzer, text: str, **kwargs: Any) -> list[Reading]:
    """``text`` read in each language being searched in, one Reading per distinct result
    (a language with no stemmer and no stop words reads like any other such language).
    Readings with no words (all stop words in that language) are left out. The
    Readings are shared between calls: read them, do not change them."""
    options = tuple(sorted(kwargs.items()))
    languages = tuple(_query_languages.get())
    # The same word is read once per searched field (six of them, with one analyzer)
    # and again for the relaxed query and the spelling correction.
    if analyzer == _query_analyzer():
        return list(_readings_cached(text, languages, options))
    return _readings(lambda code: _read(analyzer, text, code, options), languages)


@lru_cache(maxsize=4096)
def _readings_cached(
    text: str, languages: tuple[str, ...], options: tuple[tuple[str, Any], ...]
) -> tuple[Reading, ...]:
    return tuple(_readings(lambda code: _read_cached(text, code, options), languages))


def _readings(read: Callable[[str], _Read], languages: Iterable[str]) -> list[Reading]:
    by_code: dict[str, list[str]] = {}
    for lang in languages:
        by_code.setdefault(analysis_language(lang), []).append(lang)
    found: dict[tuple[tuple[str, ...], ...], Reading] = {}
    for code, codes_languages in by_code.items():
        positions, char_ranges = read(code)
        if not positions:
            continue
        reading = Reading([list(forms) for forms in positions], list(char_ranges))
        found.setdefault(reading.key(), reading).languages.extend(codes_languages)
    return list(found.values())


_Read = tuple[tuple[tuple[str, ...], ...], tuple[tuple[int, int], ...]]


def _read(analyzer: Analyzer, text: str, code: str, options: tuple[tuple[str, Any], ...]) -> _Read:
    """Per position, the distinct forms of ``text`` in one analysis language, and where
    each position is in the text."""
    positions: list[list[str]] = []
    char_ranges: list[tuple[int, int]] = []
    last = None
    tokens = analyzer(text, mode="query", positions=True, chars=True, lang=code, **dict(options))
    for token in tokens:
        if token.pos != last:
            positions.append([])
            char_ranges.append((token.startchar, token.endchar))
            last = token.pos
        if token.text not in positions[-1]:
            positions[-1].append(token.text)
    return tuple(tuple(forms) for forms in positions), tuple(char_ranges)


@cache
def _query_analyzer() -> Analyzer:
    return text_analyzer()


@lru_cache(maxsize=4096)
def _read_cached(text: str, code: str, options: tuple[tuple[str, Any], ...]) -> _Read:
    return _read(_query_analyzer(), text, code, options)


def _any_of(queries: Iterable[wq.Query]) -> wq.Query:
    distinct = list(dict.fromkeys(queries))
    return distinct[0] if len(distinct) == 1 else wq.Or(distinct)


def _languages_query(languages: Iterable[str]) -> wq.Query:
    return _any_of(wq.Term(LANGUAGE_FIELD, lang) for lang in sorted(languages))


def _in_languages(query: wq.Query, languages: Iterable[str]) -> wq.Query:
    """``query`` within articles in ``languages``, scored by ``query`` alone."""
    return wq.Require(query, _languages_query(languages))


class _Unscored(ConstantScoreWrapperMatcher):
    """Adds nothing to a score and names no matched term (to explain or highlight)."""

    def term_matchers(self) -> Iterator[Matcher]:
        return iter(())

    def matching_terms(self, id: int | None = None) -> Iterator[tuple[str, bytes]]:
        return iter(())


class InLanguages(wq.WrappingQuery):
    """Every article in some languages, scoring 0: what a stop word of those languages
    matches. (Whoosh's ConstantScoreQuery scores as its child whenever matched terms are
    collected, which the searcher always does.)"""

    def __init__(self, languages: Iterable[str]) -> None:
        self.languages = tuple(sorted(set(languages)))
        super().__init__(_languages_query(self.languages))

    def _rewrap(self, child: wq.Query) -> InLanguages:
        return InLanguages(self.languages)

    def __str__(self) -> str:
        return f"<stop word in {' '.join(self.languages)}>"

    def matcher(self, searcher: Any, context: Any = None) -> Matcher:
        child = self.child.matcher(searcher, searcher.boolean_context())
        return _Unscored(child, score=0.0) if child.is_active() else NullMatcher()


class _StoppedIn(wq.WrappingQuery):
    """Parse time only: a word that some of the languages searched in stop."""

    def __init__(self, child: wq.Query, languages: Iterable[str]) -> None:
        super().__init__(child)
        self.languages = frozenset(languages)

    def _rewrap(self, child: wq.Query) -> _StoppedIn:
        return _StoppedIn(child, self.languages)


def _stopped_in(query: wq.Query) -> frozenset[str] | None:
    """The languages that stop the word ``query`` searches for (in one field or in each
    of several); None for anything else."""
    if isinstance(query, _StoppedIn):
        return query.languages
    if isinstance(query, wq.Or) and query.subqueries:
        found = [_stopped_in(sub) for sub in query.subqueries]
        if all(found):
            return frozenset.intersection(*found)  # type: ignore[arg-type]
    return None


def settle_stop_words(query: wq.Query) -> wq.Query:
    """Replace the parse-time stop word marks (:class:`_StoppedIn`).

    Among words that are all required, a word that language L stops must not keep L's
    articles out, since in L it was never indexed: it becomes "the word, or any article in
    L" (:class:`InLanguages`), unless every required word is stopped in L (a query of
    stop words finds nothing there). Anywhere else (OR, NOT, a lone word) it is just the
    word as the other languages read it.
    """
    if isinstance(query, _StoppedIn):
        return settle_stop_words(query.child)
    if not isinstance(query, wq.And):
        return query.apply(settle_stop_words)
    stopped = [_stopped_in(sub) for sub in query.subqueries]
    everywhere = (
        frozenset.intersection(*stopped) if all(stopped) else frozenset()  # type: ignore[arg-type]
    )
    parts = []
    for sub, languages in zip(query.subqueries, stopped, strict=True):
        settled = settle_stop_words(sub)
        if languages and languages - everywhere:
            settled = wq.Or([settled, InLanguages(languages - everywhere)])
        parts.append(settled)
    return query.__class__(parts, boost=query.boost)


class LanguageQueryParser(QueryParser):
    """Whoosh's parser, with each word of a language-analysed field read in every
    language searched in (:func:`searching_in`) and matched in any of its readings.

    A language in which the word is a stop word has no reading; the word is searched as
    the other languages read it (the German stop word "war" is still an English word),
    and where all words are required, any article of that language passes it
    (:func:`settle_stop_words`).
    """

    def parse(self, text: str, normalize: bool = True, debug: bool = False) -> wq.Query:
        query = settle_stop_words(super().parse(text, normalize=False, debug=debug))
        return query.normalize() if normalize else query

    def term_query(
        self,
        fieldname: str,
        text: str,
        termclass: type[wq.Query],
        boost: float = 1.0,
        tokenize: bool = True,
        removestops: bool = True,
    ) -> wq.Query | None:
        field = self.schema[fieldname] if self.schema and fieldname in self.schema else None
        if field is None or field.self_parsing() or not is_language_analyzer(field.analyzer):
            return super().term_query(fieldname, text, termclass, boost, tokenize, removestops)
        found = readings(field.analyzer, text, tokenize=tokenize, removestops=removestops)
        if not found:
            return None  # a stop word in every language
        if all(len(reading.positions) == 1 for reading in found):
            # The usual case, one word: any of its forms in any language.
            forms = chain.from_iterable(reading.positions[0] for reading in found)
            query = _any_of(termclass(fieldname, form, boost=boost) for form in forms)
        else:
            # A "word" that analyses to several (1,000): its parts as the parser's group
            # joins words, per reading.
            query = _any_of(
                self.group.qclass(
                    [
                        _any_of(termclass(fieldname, form, boost=boost) for form in forms)
                        for forms in reading.positions
                    ]
                )
                for reading in found
            )
        read = {lang for reading in found for lang in reading.languages}
        stopped = set(_query_languages.get()) - read
        return _StoppedIn(query, stopped) if stopped else query


class LanguagePhrasePlugin(PhrasePlugin):
    """Phrases read in every language searched in: a phrase cannot hold alternatives at a
    position, so each reading is a phrase of its own, once with the first (accented) form
    at each position and once with the last (folded-first) form."""

    class PhraseNode(PhrasePlugin.PhraseNode):
        def query(self, parser: QueryParser) -> wq.Query:
            fieldname = self.fieldname or parser.fieldname
            schema = parser.schema
            field = schema[fieldname] if schema and fieldname in schema else None
            if field is None or not is_language_analyzer(field.analyzer):
                return super().query(parser)
            found = readings(field.analyzer, self.text)
            if not found:
                return super().query(parser)  # Whoosh's empty phrase
            start = self.textstartchar
            phrases: dict[tuple[str, ...], tuple[wq.Query, list[str]]] = {}
            for reading in found:
                ranges = [(start + low, start + high) for low, high in reading.char_ranges]
                for pick in (0, -1):
                    words = tuple(forms[pick] for forms in reading.positions)
                    phrase = parser.phraseclass(
                        fieldname, list(words), slop=self.slop, boost=self.boost, char_ranges=ranges
                    )
                    phrases.setdefault(words, (phrase, []))[1].extend(reading.languages)
            lengths = {len(words) for words in phrases}
            if len(lengths) == 1:
                return attach(_any_of(phrase for phrase, _ in phrases.values()), self)
            # Languages dropped different stop words: a shorter reading ("die hard" is
            # "hard" in German) is a looser phrase, to be matched in its languages only.
            restricted = (
                _in_languages(phrase, set(languages)) for phrase, languages in phrases.values()
            )
            return attach(_any_of(restricted), self)

    class PhraseTagger(PhrasePlugin.PhraseTagger):
        def create(self, parser: QueryParser, match: re.Match[str]) -> PhrasePlugin.PhraseNode:
            slop = match.group("slop")
            return LanguagePhrasePlugin.PhraseNode(
                match.group("text"), match.start("text"), int(slop) if slop else 1
            )

    def taggers(self, parser: QueryParser) -> list[tuple[Any, int]]:
        return [(self.PhraseTagger(self.expr), 0)]


def named_languages(query: wq.Query) -> tuple[str, ...]:
    """The languages a query requires with ``lang:`` (``lang:fr cocoa``, ``(lang:fr OR
    lang:de) cocoa``); () when it does not narrow them (``cocoa -lang:fr``)."""
    while isinstance(query, wq.AndNot | wq.Require):
        query = query.a
    clauses = query.subqueries if isinstance(query, wq.And) else [query]
    named: set[str] | None = None
    for clause in clauses:
        leaves = list(clause.leaves())
        if isinstance(clause, wq.Term | wq.Or) and all(
            isinstance(leaf, wq.Term) and leaf.fieldname == LANGUAGE_FIELD for leaf in leaves
        ):
            values = {str(leaf.text) for leaf in leaves}
            named = values if named is None else named & values
    return tuple(sorted(named)) if named else ()
