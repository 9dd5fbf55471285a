"""Query text -> Whoosh query: the query language users type into the box.

All words are required by default; OR, NOT and ``-word``, "phrases", "proximity"~N,
prefixes (``econom*``), grouping with brackets and field prefixes (``headline:``,
``person:``, ``organization:``, ``place:``, ``lang:``, ``source:``, ``author:``)
are available. Text that cannot become a search raises QueryError with a reason.
"""

from __future__ import annotations

from functools import lru_cache

from whoosh import query as wq
from whoosh.qparser import FieldAliasPlugin, MultifieldParser, PlusMinusPlugin

from search.config import LIMITS
from search.errors import QueryError
from search.schema import SEARCHED_FIELDS, build_schema

FIELD_ALIASES = {"organization": ["org", "organisation"], "place": ["location", "loc"]}


@lru_cache(maxsize=1)
def parser() -> MultifieldParser:
    result = MultifieldParser(SEARCHED_FIELDS, build_schema())
    result.add_plugin(PlusMinusPlugin())
    result.add_plugin(FieldAliasPlugin(FIELD_ALIASES))
    return result


def parse_query(text: str) -> wq.Query:
    """The query for ``text``; an empty text (or ``*``) matches every article.

    Raises QueryError when the text is too long, has no searchable word, or uses
    a prefix shorter than the minimum.
    """
    text = text.strip()
    if not text or text == "*":
        return wq.Every()
    if len(text) > LIMITS.max_query_chars:
        raise QueryError(
            f"The query is {len(text)} characters long; the limit is {LIMITS.max_query_chars}."
        )
    parsed = parser().parse(text)
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        raise QueryError(
            f"The query {text!r} has no words to search for: operators (AND, OR, NOT), "
            "brackets, single letters and very common words (the, of, ...) are not searched "
            "by themselves."
        )
    check_prefixes(parsed)
    return parsed


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


def query_terms(node: wq.Query) -> list[str]:
    """The plain words of a query, for display and for suggestions."""
    seen: dict[str, None] = {}
    for fieldname, text in node.iter_all_terms():
        if fieldname in SEARCHED_FIELDS and isinstance(text, str):
            seen.setdefault(text, None)
    return list(seen)
