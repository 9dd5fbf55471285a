"""The Whoosh schema: which article fields are searched, filtered, faceted and stored.

Two kinds of field per facet: an analysed one that the query language searches
(``person:assad``) and an exact one (``person_tag``) that filters and facets use,
so that facet values keep the spelling they had in the article.
"""

from __future__ import annotations

from whoosh.analysis import IDTokenizer, LowercaseFilter, RegexTokenizer
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, NUMERIC, STORED, TEXT, Schema

from search.analysis import text_analyzer
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
# Fields a query searches when it names none; their weights are set at query time
# (search.config.Ranking) so that tuning them needs no re-indexing.
SEARCHED_FIELDS = ("headline", "body", "person", "organization", "place", "other")
ENTITY_FIELDS = ("person", "organization", "place", "other")
# Text fields analysed in the article's language (search.analysis): the indexer passes
# them as LanguageText.
LANGUAGE_FIELDS = ("headline", "body", "source", "author", *ENTITY_FIELDS)


def tag_field(stored: bool = False) -> ID:
    """Exact values, one per line, case and commas kept ("Coffee, Sugar and Cocoa Exchange")."""
    return ID(stored=stored, analyzer=RegexTokenizer(r"[^\n]+"))


def analysis_signature(analyzer: object) -> str:
    """The chain of tokenizer and filters, with the tokenizer's pattern and the version of
    a filter that has one (search.analysis.ANALYSIS_VERSION, as the index recorded it)."""
    parts = getattr(analyzer, "items", None) or [analyzer]
    names = []
    for part in parts:
        expression = getattr(part, "expression", None)
        pattern = f"({expression.pattern})" if expression is not None else ""
        version = getattr(part, "version", None)
        names.append(type(part).__name__ + pattern + (f"/v{version}" if version else ""))
    return ">".join(names)


def schema_signature(schema: Schema) -> dict[str, str]:
    """What makes two schemas index alike: each field's type, analysis and postings format
    (Whoosh's Schema equality compares analyzer objects, which never equal after loading)."""
    return {
        name: f"{type(field).__name__} {analysis_signature(getattr(field, 'analyzer', None))} "
        f"{type(field.format).__name__ if field.format else ''}"
        for name, field in schema.items()
    }


def build_schema() -> Schema:
    analyzer = text_analyzer()
    exact_lowercase = IDTokenizer() | LowercaseFilter()
    fields = {
        "id": ID(stored=True, unique=True),
        "headline": TEXT(stored=True, analyzer=analyzer, chars=True),
        "body": TEXT(stored=True, analyzer=analyzer, chars=True),
        "date": DATETIME(sortable=True),
        "dated": NUMERIC(sortable=True),
        "day": ID(),
        "year": ID(),
        "date_iso": STORED(),
        "lang": ID(stored=True, analyzer=exact_lowercase),
        "source": TEXT(analyzer=analyzer),
        "source_tag": tag_field(stored=True),
        "url": STORED(),
        "author": TEXT(stored=True, analyzer=analyzer),
        "path": STORED(),
        "content_hash": ID(stored=True),
        # The story cluster (search.dedup): the id of its first article. Its size is
        # counted per index generation at search time, since Whoosh cannot update a
        # stored number without rewriting the whole document.
        "cluster": ID(stored=True),
        # The story's MinHash signature, so that the next run can rebuild the clusters.
        "minhash": STORED(),
        # A fingerprint of the record as read, so that a re-run skips unchanged records
        # before any cleaning or entity extraction.
        "raw_hash": STORED(),
        "entities": STORED(),
        "entities_status": STORED(),
        "warnings": STORED(),
        # The semantic vector (search.semantic), read by document number at search time
        # without unpickling the stored fields.
        "vector": COLUMN(VarBytesColumn()),
    }
    for kind in ENTITY_KINDS:
        fields[kind] = TEXT(analyzer=analyzer)
        fields[ENTITY_TAG_FIELDS[kind]] = tag_field()
    return Schema(**fields)
