"""Query text -> Whoosh query: the query language users type into the box.

All words are required by default; OR, NOT and ``-word``, "phrases", "proximity"~N,
prefixes (``econom*``), grouping with brackets and field prefixes (``headline:``,
``person:``, ``organization:``, ``place:``, ``lang:``, ``source:``, ``author:``)
are available. A plain query (words only) longer than ``Ranking.and_max_words``
is ranked OR: a sentence typed into the box should rank well, not find nothing.
Text that cannot become a search raises QueryError with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from whoosh import query as wq
from whoosh.qparser import (
    AndGroup,
    FieldAliasPlugin,
    MultifieldPlugin,
    OrGroup,
    PlusMinusPlugin,
    QueryParser,
)
from whoosh.qparser.syntax import GroupNode

from search.config import LIMITS, RANKING, Ranking
from search.errors import QueryError
from search.schema import ENTITY_FIELDS, SEARCHED_FIELDS, build_schema

FIELD_ALIASES = {"organization": ["org", "organisation"], "place": ["location", "loc"]}
# Anything that makes a query more than a list of words.
_OPERATOR = re.compile(r"""["()\[\]{}:*?~^+]|(?:^|\s)-|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b""")
_WORD = re.compile(r"\w+")
# "shake-ups", "no-confidence": a hyphen inside a word joins it, it does not exclude.
_INNER_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")


@dataclass(frozen=True)
class ParsedQuery:
    """The query to match with; ``relaxed`` is its any-word form for plain queries."""

    text: str
    query: wq.Query
    plain: bool
    relaxed: wq.Query | None = None

    def describe(self) -> str:
        return str(self.query)


@lru_cache(maxsize=64)
def parser(ranking: Ranking, any_word: bool) -> QueryParser:
    boosts = {"headline": ranking.headline_boost}
    boosts.update(dict.fromkeys(ENTITY_FIELDS, ranking.entity_boost))
    group: type[GroupNode] = OrGroup if any_word else AndGroup
    result = QueryParser(None, build_schema(), group=group)
    result.add_plugin(MultifieldPlugin(SEARCHED_FIELDS, fieldboosts=boosts))
    result.add_plugin(PlusMinusPlugin())
    result.add_plugin(FieldAliasPlugin(FIELD_ALIASES))
    return result


def parse_query(text: str, ranking: Ranking = RANKING) -> ParsedQuery:
    """The query for ``text``; an empty text (or ``*``) matches every article.

    Raises QueryError when the text is too long, has no searchable word, or uses
    a prefix shorter than the minimum.
    """
    text = text.strip()
    if not text or text == "*":
        return ParsedQuery(text, wq.Every(), plain=False)
    if len(text) > LIMITS.max_query_chars:
        raise QueryError(
            f"The query is {len(text)} characters long; the limit is {LIMITS.max_query_chars}."
        )
    if text.isupper():
        # A query typed in capitals (or pasted from a wire) means its words, not operators.
        text = text.lower()
    text = _INNER_HYPHEN.sub(" ", text)
    plain = not _OPERATOR.search(text)
    long_plain = plain and len(_WORD.findall(text)) > ranking.and_max_words
    parsed = parser(ranking, any_word=long_plain).parse(text)
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        raise QueryError(
            f"The query {text!r} has no words to search for: operators (AND, OR, NOT), "
            "brackets, single letters and very common words (the, of, ...) are not searched "
            "by themselves."
        )
    check_prefixes(parsed)
    relaxed = None
    if plain and not long_plain:
        relaxed = parser(ranking, any_word=True).parse(text)
    return ParsedQuery(text, parsed, plain=plain, relaxed=relaxed)


def check_prefixes(node: wq.Query) -> None:
    """Short prefixes like ``a*`` expand to most of the vocabulary: refuse them."""
    for leaf in node.leaves() if node.children() else [node]:
        if isinstance(leaf, wq.Wildcard | wq.Prefix):
            fixed = leaf.text
            for index, char in enumerate(fixed):
                if char in "*?":
                    fixed = fixed[:index]
                    break
            if len(fixed) < LIMITS.min_prefix_chars:
                raise QueryError(
                    f"The wildcard {leaf.text + ('*' if isinstance(leaf, wq.Prefix) else '')!r}"
                    f" needs at least {LIMITS.min_prefix_chars} letters before the '*' or '?'."
                )
