"""Query text -> Whoosh query: the query language users type into the box.

All words are required by default; OR, NOT and ``-word``, "phrases", "proximity"~N,
prefixes (``econom*``), grouping with brackets and field prefixes (``headline:``,
``person:``, ``organization:``, ``place:``, ``lang:``, ``source:``, ``author:``)
are available. A plain query (words only) longer than ``Ranking.and_max_words``
is ranked OR: a sentence typed into the box should rank well, not find nothing.

Dates are read out of the text before Whoosh sees it, so that they become date bounds
rather than words: ``date:2011-03..2011-06`` (also ``date:1987``, ``date:2024-03-05``,
open ``date:2011-03..`` / ``date:..2011-06``) and English phrases such as "since March
2011", "before 2012", "in 1987", "last month" (relative to the newest indexed article).

Text that cannot become a search raises QueryError with a reason and, where it helps,
the character position (1-based). Slips that still have an obvious meaning (an unclosed
quote or bracket) are searched as words with a ``notice`` instead.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache

from whoosh import query as wq
from whoosh.qparser import (
    AndGroup,
    FieldAliasPlugin,
    MultifieldPlugin,
    OrGroup,
    PhrasePlugin,
    PlusMinusPlugin,
    QueryParser,
    RangePlugin,
)
from whoosh.qparser.syntax import GroupNode
from whoosh.reading import IndexReader

from search.analysis import (
    DEFAULT_LANGUAGE,
    LanguagePhrasePlugin,
    LanguageQueryParser,
    named_languages,
    searching_in,
)
from search.config import LIMITS, RANKING, Ranking
from search.errors import QueryError
from search.schema import ENTITY_FIELDS, SEARCHED_FIELDS, build_schema
from search.stopwords import drop_stop_words

FIELD_ALIASES = {"organization": ["org", "organisation"], "place": ["location", "loc"]}
# The fields the help page and error messages name; the schema has more (body, id, ...),
# which keep working but are not advertised.
DOCUMENTED_FIELDS = (
    "headline",
    "person",
    "organization",
    "place",
    "lang",
    "source",
    "author",
    "date",
)
# Anything that makes a query more than a list of words.
_OPERATOR = re.compile(r"""["()\[\]{}:*?~^+]|(?:^|\s)-|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b""")
_WORD = re.compile(r"\w+")
# Operators alone ("AND"): nothing to search for, though in a mixed index "and" lowered is
# a word of every language whose stop words it is not.
_ONLY_OPERATORS = re.compile(r"(?:\s*\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b\s*)+")
# "shake-ups", "no-confidence": a hyphen inside a word joins it, it does not exclude.
_INNER_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
# ``name:value`` with no space: a field prefix. "Update: cocoa" (a colon then a space)
# and URLs (``http://``) are punctuation, which Whoosh already searches as words.
_FIELD_PREFIX = re.compile(r"(?<![\w:])([A-Za-z_]\w*):(?=[^\s/:])")
# A character no query contains, standing in for quoted text while looking for dates
# and fields outside quotes; it keeps every position where it was.
_MASK = "\x00"

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            "january jan",
            "february feb",
            "march mar",
            "april apr",
            "may",
            "june jun",
            "july jul",
            "august aug",
            "september sept sep",
            "october oct",
            "november nov",
            "december dec",
        ],
        start=1,
    )
    for name in names.split()
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Years a news archive can hold; "in 300 words" or "in 5000 BC" are not dates.
_YEAR = r"(?:1[6-9]\d\d|20\d\d|2100)"
# A period written in the box: 2011, March 2011, Mar. 2011, 2011-03, 2011-03-05.
_PERIOD = rf"(?:{_YEAR}-\d\d(?:-\d\d)?|(?:(?:{_MONTH})\.?\s+)?{_YEAR})(?![\w-])"
_EDGE_BEFORE = r"(?<![\w:+\-*~^\"\x00])"
_EDGE_AFTER = r"(?![\w*:~^])"
_DATE_PHRASE = re.compile(
    _EDGE_BEFORE
    + rf"""(?:
        (?:between|from)\s+(?P<span_a>{_PERIOD})\s+(?:and|to|until|till)\s+(?P<span_b>{_PERIOD})
      | (?P<word>since|from|after|before|until|till|through|in|during)\s+(?P<period>{_PERIOD})
      | (?P<rel>last|past|this)\s+(?P<unit>week|month|year)
      | (?P<day>today|yesterday)
    )"""
    + _EDGE_AFTER,
    re.IGNORECASE | re.VERBOSE,
)
_DATE_TOKEN = re.compile(r"(?<![\w:\-+])date:(\S*)", re.IGNORECASE)
_ISO_PERIOD = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_DATE_SYNTAX = (
    "write date:YYYY, date:YYYY-MM, date:YYYY-MM-DD or a range like date:2011-03..2011-06"
)


@dataclass(frozen=True)
class ParsedQuery:
    """The query to match with; ``relaxed`` is its any-word form for plain queries,
    parsed only when asked for (when no article has every word): parsing is a quarter
    of a search's time.

    ``text`` is the text searched: the typed text with date phrases blanked out (so its
    positions are the typed text's). ``date_from``/``date_to`` are the dates the text
    asked for, ``date_phrase`` the words that asked, ``notices`` the slips forgiven,
    ``languages`` those its words were analysed in (search.analysis).
    """

    text: str
    query: wq.Query
    plain: bool
    relaxing: Callable[[], wq.Query] | None = field(default=None, compare=False, repr=False)
    date_from: date | None = None
    date_to: date | None = None
    date_phrase: str = ""
    notices: tuple[str, ...] = field(default=())
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)
    # A plain query longer than Ranking.and_max_words: ranked over any of its words.
    long_plain: bool = False

    @cached_property
    def relaxed(self) -> wq.Query | None:
        return self.relaxing() if self.relaxing else None

    def describe(self) -> str:
        return str(self.query)

    @property
    def words(self) -> str:
        """The query without its date phrases, as a user would retype it."""
        return " ".join(self.text.split())

    def describe_dates(self) -> str:
        """The dates in words: "since 2011-03-01", "from 2011-03-01 to 2011-06-30"."""
        return describe_dates(self.date_from, self.date_to)


def describe_dates(start: date | None, end: date | None) -> str:
    if start and end:
        if start == end:
            return f"on {start.isoformat()}"
        return f"from {start.isoformat()} to {end.isoformat()}"
    if start:
        return f"since {start.isoformat()}"
    if end:
        return f"until {end.isoformat()}"
    return ""


def parse_with(query_parser: QueryParser, text: str, typed: str) -> wq.Query:
    """Whoosh's parse, with its crashes on operators in a row ("NOT NOT a", "NOT OR a":
    an IndexError on an empty group) turned into a message for the user."""
    try:
        return query_parser.parse(text)
    except (IndexError, AttributeError, TypeError):
        raise QueryError(
            f"The query {typed!r} has operators in a row (such as NOT NOT or NOT OR); "
            "put a word after each NOT, AND and OR."
        ) from None


# At most ~120 MB of parses; a typed query of 10 to 40 characters holds 7 to 40 KB (one
# to seven languages). A cycle through more distinct queries than this misses every time.
PARSED_CACHE = 1024
CACHED_QUERY_CHARS = 200


@lru_cache(maxsize=64)
def parser(ranking: Ranking, any_word: bool) -> QueryParser:
    boosts = {"headline": ranking.headline_boost}
    boosts.update(dict.fromkeys(ENTITY_FIELDS, ranking.entity_boost))
    group: type[GroupNode] = OrGroup if any_word else AndGroup
    # The languages to read words in are not part of the key: the parser reads them from
    # search.analysis.searching_in at parse time.
    result = LanguageQueryParser(None, build_schema(), group=group)
    # Term ranges ([a TO z]) are not in the documented language and expand over the whole
    # vocabulary: one query could walk every term. Brackets are read as plain text instead.
    result.remove_plugin_class(RangePlugin)
    result.remove_plugin_class(PhrasePlugin)
    result.add_plugin(LanguagePhrasePlugin())
    result.add_plugin(MultifieldPlugin(SEARCHED_FIELDS, fieldboosts=boosts))
    result.add_plugin(PlusMinusPlugin())
    result.add_plugin(FieldAliasPlugin(FIELD_ALIASES))
    return result


@lru_cache(maxsize=1)
def known_fields() -> frozenset[str]:
    """Field names a query may use: the schema's, their aliases, and ``date``."""
    names = set(build_schema().names()) | {"date"}
    for aliases in FIELD_ALIASES.values():
        names.update(aliases)
    return frozenset(names)


def parse_query(
    text: str,
    ranking: Ranking = RANKING,
    newest: date | None = None,
    *,
    languages: Sequence[str] = (DEFAULT_LANGUAGE,),
) -> ParsedQuery:
    """The query for ``text`` (see ``_parse_query``), remembered: the same query comes
    back for its next page, a facet, the HTML page and its JSON twin, and parsing is a
    third of a plain search's time. A ParsedQuery is frozen and its Whoosh query only
    read, so one object serves every caller. Long texts are parsed each time: a parse
    holds about 70 KB at 120 characters in seven languages, and 900 KB at 1,000."""
    parse = _parse_query if len(text) <= CACHED_QUERY_CHARS else _parse_query.__wrapped__
    return parse(text, ranking, newest, tuple(languages))


@lru_cache(maxsize=PARSED_CACHE)
def _parse_query(
    text: str, ranking: Ranking, newest: date | None, languages: tuple[str, ...]
) -> ParsedQuery:
    """The query for ``text``; an empty text (or ``*``) matches every article.

    ``newest`` is the date that "today", "last week" and the like count back from: the
    newest article's, so that an archive that stopped in 2013 still answers "last month".
    Without it (an index with no dated article) those words are searched as words: a
    sentence such as "what did de Gaulle reject this year" is about its words then.

    ``languages`` are those the words are stemmed in, each word matching any of its
    stems (search.analysis): the ``lang`` filter's, or every language of the index. A
    query that requires ``lang:`` values is analysed in those instead.

    Raises QueryError when the text is too long, has no searchable word, names a field
    that does not exist, has an unreadable ``date:`` or a prefix shorter than the minimum.
    """
    languages = tuple(languages) or (DEFAULT_LANGUAGE,)
    text = text.strip()
    if not text or text == "*":
        return ParsedQuery(text, wq.Every(), plain=False, languages=languages)
    if len(text) > LIMITS.max_query_chars:
        raise QueryError(
            f"The query is {len(text)} characters long; the limit is {LIMITS.max_query_chars}."
        )
    if _ONLY_OPERATORS.fullmatch(text):
        raise no_words(text)
    if text.isupper():
        # A query typed in capitals (or pasted from a wire) means its words, not operators.
        text = text.lower()
    typed = text
    notices: list[str] = []
    text = close_quotes(text, notices)
    bounds = DateBounds()
    text = extract_date_tokens(text, bounds)
    text = extract_date_phrases(text, bounds, newest)
    text = check_fields(text)
    text = balance_brackets(text, notices)
    words_text = text
    if not text.strip() and bounds.phrases:
        # Only dates were asked for: every article in them.
        return ParsedQuery(
            text, wq.Every(), False, None, *bounds.result(), tuple(notices), languages
        )
    text = _INNER_HYPHEN.sub(" ", text)
    text = ungroup_sentence(text)
    plain = not _OPERATOR.search(text)
    long_plain = plain and len(_WORD.findall(text)) > ranking.and_max_words
    if long_plain and ranking.long_query_stop_words:
        text = drop_stop_words(text, languages)
    with searching_in(languages):
        parsed = parse_with(parser(ranking, any_word=long_plain), text, typed)
    named = named_languages(parsed)
    if named and named != languages:
        # Only articles in these languages can match: read the words in them alone.
        languages = named
        with searching_in(languages):
            parsed = parse_with(parser(ranking, any_word=long_plain), text, typed)
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        raise no_words(typed)
    check_prefixes(parsed)

    def relaxing() -> wq.Query:
        with searching_in(languages):
            return parse_with(parser(ranking, any_word=True), text, typed)

    return ParsedQuery(
        words_text,
        parsed,
        plain,
        relaxing if plain and not long_plain else None,
        *bounds.result(),
        notices=tuple(notices),
        languages=languages,
        long_plain=long_plain,
    )


def no_words(typed: str) -> QueryError:
    return QueryError(
        f"The query {typed!r} has no words to search for: operators (AND, OR, "
        "NOT), brackets, single letters and very common words (the, of, ...) are not "
        "searched by themselves."
    )


def _blank(text: str, start: int, end: int) -> str:
    """``text`` with [start, end) replaced by spaces: later positions stay the same."""
    return text[:start] + " " * (end - start) + text[end:]


def _mask_quotes(text: str) -> str:
    """``text`` with everything inside double quotes masked, quotes included."""
    return re.sub(r'"[^"]*"', lambda match: _MASK * len(match.group()), text)


def close_quotes(text: str, notices: list[str]) -> str:
    """An odd quote is a slip, not a phrase: drop the unmatched (last) one."""
    positions = [index for index, char in enumerate(text) if char == '"']
    if len(positions) % 2 == 0:
        return text
    last = positions[-1]
    notices.append(f"Unclosed quote at character {last + 1}: searched as words.")
    return _blank(text, last, last + 1)


def ungroup_sentence(text: str) -> str:
    """Round brackets in a query with no other operator group nothing: a sentence with an
    aside ("the Baath (Renaissance) party founded by Aflak") is still a plain sentence,
    ranked as one. They are blanked, keeping every other character where it was."""
    if "(" not in text and ")" not in text:
        return text
    blanked = text.replace("(", " ").replace(")", " ")
    return text if _OPERATOR.search(blanked) else blanked


def balance_brackets(text: str, notices: list[str]) -> str:
    """Unmatched round brackets (outside quotes) are dropped with a notice."""
    masked = _mask_quotes(text)
    open_positions: list[int] = []
    unmatched: list[int] = []
    for index, char in enumerate(masked):
        if char == "(":
            open_positions.append(index)
        elif char == ")":
            if open_positions:
                open_positions.pop()
            else:
                unmatched.append(index)
    for index in sorted(unmatched + open_positions):
        what = "Unclosed bracket '('" if text[index] == "(" else "Unmatched ')'"
        notices.append(f"{what} at character {index + 1}: ignored.")
        text = _blank(text, index, index + 1)
    return text


def check_fields(text: str) -> str:
    """Refuse ``foo:bar`` for a field that does not exist (Whoosh would quietly search
    "foo" and "bar" as words); known names are lowercased, as the schema spells them."""
    masked = _mask_quotes(text)
    for match in _FIELD_PREFIX.finditer(masked):
        name = match.group(1)
        if name.lower() not in known_fields():
            raise QueryError(
                f"Unknown field '{name}:' at character {match.start() + 1}; fields are "
                f"{', '.join(DOCUMENTED_FIELDS)}. To search for the words, leave out "
                "the colon."
            )
        if name != name.lower():
            text = text[: match.start()] + name.lower() + text[match.end(1) :]
    return text


@dataclass
class DateBounds:
    """The dates a query's text asks for; several requests narrow each other."""

    start: date | None = None
    end: date | None = None
    phrases: list[str] = field(default_factory=list)

    def add(self, start: date | None, end: date | None, phrase: str) -> None:
        if start and (self.start is None or start > self.start):
            self.start = start
        if end and (self.end is None or end < self.end):
            self.end = end
        self.phrases.append(" ".join(phrase.split()))

    def result(self) -> tuple[date | None, date | None, str]:
        return self.start, self.end, " ".join(self.phrases)


def period_bounds(value: str) -> tuple[date, date] | None:
    """The first and last day of a written period (``2011``, ``March 2011``, ``2011-03``,
    ``2011-03-05``); None when it is no real date (``2011-13``)."""
    value = " ".join(value.replace(".", " ").split()).lower()
    iso = _ISO_PERIOD.fullmatch(value)
    try:
        if iso:
            year = int(iso.group(1))
            if iso.group(3):
                day = date(year, int(iso.group(2)), int(iso.group(3)))
                return day, day
            if iso.group(2):
                return month_bounds(year, int(iso.group(2)))
            return date(year, 1, 1), date(year, 12, 31)
        month_name, _, year_text = value.rpartition(" ")
        if month_name in _MONTHS and year_text.isdigit():
            return month_bounds(int(year_text), _MONTHS[month_name])
    except ValueError:
        return None
    return None


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """Raises ValueError for a month that does not exist."""
    last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
    return date(year, month, 1), date(year, month, last)


def extract_date_tokens(text: str, bounds: DateBounds) -> str:
    """Read ``date:...`` tokens (outside quotes) into ``bounds``; blank them out."""
    masked = _mask_quotes(text)
    for match in _DATE_TOKEN.finditer(masked):
        raw = text[match.start() : match.end()]
        start, end = date_token_bounds(match.group(1), raw, match.start() + 1)
        bounds.add(start, end, raw)
        text = _blank(text, match.start(), match.end())
    return text


def date_token_bounds(value: str, raw: str, position: int) -> tuple[date | None, date | None]:
    """The range one ``date:`` value means; QueryError (with where) when unreadable."""
    low, dots, high = value.partition("..")
    if not (low or high) or (not dots and not low):
        raise QueryError(
            f"Cannot read the date in {raw!r} at character {position}; {_DATE_SYNTAX}."
        )
    low_bounds = period_bounds(low) if low else None
    high_bounds = period_bounds(high) if high else None
    for part, part_bounds in ((low, low_bounds), (high, high_bounds)):
        if part and (part_bounds is None or not _ISO_PERIOD.fullmatch(part)):
            raise QueryError(
                f"Cannot read the date {part!r} in {raw!r} at character {position}; {_DATE_SYNTAX}."
            )
    if not dots:
        assert low_bounds is not None  # checked above: a single period was read
        return low_bounds
    start = low_bounds[0] if low_bounds else None
    end = high_bounds[1] if high_bounds else None
    if start and end and start > end:
        raise QueryError(f"The range {raw!r} at character {position} ends before it starts.")
    return start, end


def extract_date_phrases(text: str, bounds: DateBounds, newest: date | None) -> str:
    """Read English date phrases (outside quotes) into ``bounds``; blank them out.

    Only phrases that cannot mean anything else are read: "in 1987" and "since March
    2011", never "in March" (which March?) nor a bare "1987" (a number to search for).
    """
    masked = _mask_quotes(text)
    for match in _DATE_PHRASE.finditer(masked):
        phrase = text[match.start() : match.end()]
        found = phrase_bounds(match, newest)
        if found is None:
            continue
        bounds.add(*found, phrase)
        text = _blank(text, match.start(), match.end())
    return text


def phrase_bounds(
    match: re.Match[str], newest: date | None
) -> tuple[date | None, date | None] | None:
    """The range one matched date phrase means; None when its date does not exist, or
    it is relative ("last week") and there is no ``newest`` date to count back from."""
    if match.group("span_a"):
        first = period_bounds(match.group("span_a"))
        last = period_bounds(match.group("span_b"))
        if first is None or last is None or first[0] > last[1]:
            return None
        return first[0], last[1]
    if match.group("period"):
        period = period_bounds(match.group("period"))
        if period is None:
            return None
        word = match.group("word").lower()
        if word in ("since", "from"):
            return period[0], None
        if word == "after":
            return period[1] + timedelta(days=1), None
        if word == "before":
            return None, period[0] - timedelta(days=1)
        if word in ("until", "till", "through"):
            return None, period[1]
        return period  # in, during
    if newest is None:
        return None
    if match.group("day"):
        if match.group("day") != match.group("day").lower():
            # "Today" capitalised is a name more often than a date ("USA Today").
            return None
        day = newest if match.group("day") == "today" else newest - timedelta(days=1)
        return day, day
    return relative_bounds(match.group("rel").lower(), match.group("unit").lower(), newest)


def relative_bounds(rel: str, unit: str, newest: date) -> tuple[date, date]:
    """ "this week" runs from Monday; "last week"/"past week" are the 7 days ending on
    ``newest`` (a month and a year likewise), as a reader of the archive means them."""
    if rel == "this":
        if unit == "week":
            return newest - timedelta(days=newest.weekday()), newest
        if unit == "month":
            return newest.replace(day=1), newest
        return newest.replace(month=1, day=1), newest
    if unit == "week":
        return newest - timedelta(days=6), newest
    if unit == "month":
        year, month = (newest.year, newest.month - 1) if newest.month > 1 else (newest.year - 1, 12)
        day = min(newest.day, calendar.monthrange(year, month)[1])
        return date(year, month, day) + timedelta(days=1), newest
    try:
        return newest.replace(year=newest.year - 1) + timedelta(days=1), newest
    except ValueError:  # 29 February
        return date(newest.year - 1, 3, 1), newest


def check_prefixes(node: wq.Query) -> None:
    """Short prefixes like ``a*`` expand to most of the vocabulary: refuse them."""
    for leaf in _multiterms(node):
        fixed = leaf.text
        for index, char in enumerate(fixed):
            if char in "*?":
                fixed = fixed[:index]
                break
        if len(fixed) < LIMITS.min_prefix_chars:
            raise QueryError(
                f"The wildcard {_pattern(leaf)!r} needs at least {LIMITS.min_prefix_chars} "
                "letters before the '*' or '?'."
            )


def check_expansions(node: wq.Query, reader: IndexReader, cap: int | None = None) -> None:
    """Refuse a prefix or wildcard that expands to more than ``cap`` distinct words
    (``LIMITS.max_prefix_terms``): each word is a posting list to merge, and so many
    are not what anyone meant. Counting is one walk of the sorted vocabulary."""
    cap = LIMITS.max_prefix_terms if cap is None else cap
    words: dict[str, set[bytes]] = {}
    for leaf in _multiterms(node):
        words.setdefault(_pattern(leaf), set()).update(leaf._btexts(reader))
    for pattern, terms in words.items():
        if len(terms) > cap:
            raise QueryError(
                f"{pattern!r} matches {len(terms):,} different words; the limit is {cap}. "
                "Use more letters before the '*'."
            )


def _multiterms(node: wq.Query) -> Iterator[wq.Prefix | wq.Wildcard]:
    for leaf in node.leaves() if node.children() else [node]:
        if isinstance(leaf, wq.Wildcard | wq.Prefix):
            yield leaf


def _pattern(leaf: wq.Prefix | wq.Wildcard) -> str:
    return leaf.text + ("*" if isinstance(leaf, wq.Prefix) else "")


def newest_date(day_values: list[str]) -> date | None:
    """The newest article's date from the sorted ``YYYYMMDD`` day values, if any."""
    for value in reversed(day_values):
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        except ValueError:
            continue
    return None


def parsed_json(parsed: ParsedQuery) -> dict[str, str | None]:
    """How the text was read, for the response: the Whoosh query, the dates it asked
    for and the words that asked, and the text without them (to search without them)."""
    return {
        # Every's own text is "None:*"; "*" is how a user asks for it.
        "query": "*" if isinstance(parsed.query, wq.Every) else str(parsed.query),
        "date_from": parsed.date_from.isoformat() if parsed.date_from else None,
        "date_to": parsed.date_to.isoformat() if parsed.date_to else None,
        "date_phrase": parsed.date_phrase,
        "dates": parsed.describe_dates(),
        "words": parsed.words,
    }
