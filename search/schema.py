"""The Whoosh schema: which article fields are searched, filtered, faceted and stored.

Two kinds of field per facet: an analysed one that the query language searches
(``person:assad``) and an exact one (``person_tag``) that filters and facets use,
so that facet values keep the spelling they had in the article.
"""

from __future__ import annotations

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    IDTokenizer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from search.models import ENTITY_KINDS

INDEX_NAME = "MAIN"  # Whoosh's name for the index inside its folder
FACET_FIELDS = {
    "lang": "lang",
    "source": "source_tag",
    "person": "person_tag",
    "organization": "organization_tag",
    "place": "place_tag",
    "year": "year",
}
ENTITY_TAG_FIELDS = {kind: f"{kind}_tag" for kind in ENTITY_KINDS}
# Fields a query searches when it names none, with their relative weights.
SEARCHED_FIELDS = ("headline", "body", "person", "organization", "place", "other")
HEADLINE_BOOST = 2.0
ENTITY_BOOST = 1.5


def text_analyzer() -> Analyzer:
    """Words, lowercased, accents folded, English stop words out, stemmed."""
    return (
        RegexTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter()
        | StemFilter(lang="en")
    )


def build_schema() -> Schema:
    analyzer = text_analyzer()
    exact_lowercase = IDTokenizer() | LowercaseFilter()
    fields = {
        "id": ID(stored=True, unique=True),
        "headline": TEXT(stored=True, analyzer=analyzer, field_boost=HEADLINE_BOOST, chars=True),
        "body": TEXT(stored=True, analyzer=analyzer, chars=True),
        "date": DATETIME(sortable=True),
        "dated": NUMERIC(sortable=True),
        "day": ID(),
        "year": ID(),
        "date_iso": STORED(),
        "lang": ID(stored=True, analyzer=exact_lowercase),
        "source": TEXT(analyzer=analyzer),
        "source_tag": KEYWORD(stored=True, commas=True, lowercase=False),
        "url": STORED(),
        "author": TEXT(stored=True, analyzer=analyzer),
        "path": STORED(),
        "content_hash": ID(stored=True),
        "entities": STORED(),
        "entities_status": STORED(),
        "warnings": STORED(),
    }
    for kind in ENTITY_KINDS:
        fields[kind] = TEXT(analyzer=analyzer, field_boost=ENTITY_BOOST)
        fields[ENTITY_TAG_FIELDS[kind]] = KEYWORD(commas=True, lowercase=False, scorable=True)
    return Schema(**fields)
