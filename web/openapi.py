"""The OpenAPI 3.1 document for the app, written by hand: it is the contract, so it is
read and reviewed like code. ``tests/test_openapi.py`` checks that every route is in it
and fuzzes the app against it with schemathesis."""

from __future__ import annotations

from typing import Any

from search.config import LIMITS
from search.searcher import ENTITY_PAGE_KINDS, SORTS


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def query_param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def path_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string", "minLength": 1},
    }


BOOLEAN_WORDS = {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]}
SEARCH_PARAMS = [
    query_param("q", "The query (see /help for the language).", {"type": "string"}),
    query_param(
        "page", "Page number.", {"type": "integer", "minimum": 1, "maximum": LIMITS.max_page}
    ),
    query_param(
        "per_page",
        "Results per page.",
        {"type": "integer", "minimum": 1, "maximum": LIMITS.max_per_page},
    ),
    query_param("lang", "Language code filter, e.g. en.", {"type": "string"}),
    query_param("source", "Source filter (exact name, any case).", {"type": "string"}),
    query_param(
        "entity", "Person, organization or place filter (exact name, any case).", {"type": "string"}
    ),
    query_param("from", "Earliest date, YYYY-MM-DD.", {"type": "string", "format": "date"}),
    query_param("to", "Latest date, YYYY-MM-DD.", {"type": "string", "format": "date"}),
    query_param("sort", "Result order.", {"type": "string", "enum": list(SORTS)}),
    query_param("collapse", "One hit per story (default true).", BOOLEAN_WORDS),
    query_param(
        "recency",
        "0 (relevance only) to 1 (age weighs most).",
        {"type": "number", "minimum": 0, "maximum": 1},
    ),
    query_param("explain", "Add why each hit matched.", BOOLEAN_WORDS),
]
CURSOR_PARAM = query_param(
    "cursor",
    "The `next` token of the previous page's response; overrides page.",
    {"type": "string"},
)
FILTER_PARAMS = [p for p in SEARCH_PARAMS if p["name"] not in {"page", "per_page", "explain"}]


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def error(description: str) -> dict[str, Any]:
    return {"description": description, "content": json_content(ref("Error"))}


def html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


BAD = error("A malformed parameter or query.")
MISSING = error("No such article or entity.")
NO_INDEX = error("There is no index yet, or the server is busy (code `busy`, with Retry-After).")
HTML_ERRORS = {
    "400": html("A bad parameter or query, explained."),
    "404": html("Not found."),
    "503": html("No index, or the server is busy."),
}


def operation(
    summary: str, params: list[dict[str, Any]], responses: dict[str, Any], op_id: str
) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "operationId": op_id,
            "parameters": params,
            "responses": responses,
        }
    }


NULLABLE_STRING = {"type": ["string", "null"]}
FACET_VALUES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["value", "count"],
        "properties": {"value": {"type": "string"}, "count": {"type": "integer", "minimum": 0}},
    },
}
ENTITIES = {
    "type": "object",
    "required": ["person", "organization", "place", "other"],
    "properties": {
        kind: {"type": "array", "items": {"type": "string"}}
        for kind in ("person", "organization", "place", "other")
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Stamp": {
        "type": "object",
        "description": "What a response was computed from, to reproduce it.",
        "required": ["index_version", "articles", "parsed_query"],
        "properties": {
            "index_version": {"type": "integer", "description": "The index generation."},
            "articles": {"type": "integer", "minimum": 0},
            "parsed_query": {"type": "string"},
        },
    },
    "Coverage": {
        "type": "object",
        "required": ["bucket", "from", "to", "dated", "undated", "series"],
        "properties": {
            "bucket": {"type": ["string", "null"], "enum": ["day", "week", "month", "year", None]},
            "from": NULLABLE_STRING,
            "to": NULLABLE_STRING,
            "dated": {"type": "integer", "minimum": 0},
            "undated": {"type": "integer", "minimum": 0},
            "series": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["start", "end", "label", "count"],
                    "properties": {
                        "start": {"type": "string", "format": "date"},
                        "end": {"type": "string", "format": "date"},
                        "label": {"type": "string"},
                        "count": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
    },
    "Facets": {
        "type": "object",
        "required": ["lang", "source", "person", "organization", "place", "year"],
        "properties": {
            name: FACET_VALUES
            for name in ("lang", "source", "person", "organization", "place", "year")
        },
    },
    "Filters": {"type": "object", "additionalProperties": {"type": "string"}},
    "Hit": {
        "type": "object",
        "required": [
            "id",
            "headline",
            "date",
            "source",
            "url",
            "lang",
            "entities",
            "snippet",
            "score",
            "cluster",
            "cluster_size",
            "versions",
        ],
        "properties": {
            "id": {"type": "string"},
            "headline": {"type": "string"},
            "date": NULLABLE_STRING,
            "source": {"type": "string"},
            "url": {"type": "string"},
            "lang": {"type": "string"},
            "entities": ENTITIES,
            "snippet": {"type": "string", "description": "HTML: escaped text with <mark> tags."},
            "score": {"type": ["number", "null"]},
            "cluster": {"type": "string"},
            "cluster_size": {"type": "integer", "minimum": 1},
            "versions": {"type": "integer", "minimum": 0},
            "explain": {"type": "object"},
        },
    },
    "Brief": {
        "type": "object",
        "required": ["id", "headline", "date", "source", "lang", "score"],
        "properties": {
            "id": {"type": "string"},
            "headline": {"type": "string"},
            "date": NULLABLE_STRING,
            "source": {"type": "string"},
            "lang": {"type": "string"},
            "score": {"type": ["number", "null"]},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": [
            "query",
            "total",
            "page",
            "per_page",
            "sort",
            "filters",
            "stories",
            "collapse",
            "recency",
            "took_ms",
            "results",
            "facets",
            "parsed",
            "next",
            "coverage",
            "stamp",
        ],
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "sort": {"type": "string", "enum": list(SORTS)},
            "filters": ref("Filters"),
            "stories": {"type": "integer", "minimum": 0},
            "collapse": {"type": "boolean"},
            "recency": {"type": "number"},
            "took_ms": {"type": "number"},
            "results": {"type": "array", "items": ref("Hit")},
            "facets": ref("Facets"),
            "notice": {"type": "string"},
            "parsed": {"type": "object"},
            "suggestion": {"type": "object", "required": ["query", "total"]},
            "next": {
                "type": ["string", "null"],
                "description": "Cursor of the next page; null on the last.",
            },
            "coverage": ref("Coverage"),
            "stamp": ref("Stamp"),
        },
    },
    "Summary": {
        "type": "object",
        "required": ["query", "total", "stories", "filters", "stamp"],
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "stories": {"type": "integer", "minimum": 0},
            "filters": ref("Filters"),
            "facets": ref("Facets"),
            "coverage": ref("Coverage"),
            "stamp": ref("Stamp"),
        },
    },
    "Article": {
        "type": "object",
        "required": [
            "id",
            "headline",
            "body",
            "date",
            "source",
            "url",
            "author",
            "lang",
            "entities",
            "entities_status",
            "cluster",
            "cluster_size",
        ],
        "properties": {
            "id": {"type": "string"},
            "headline": {"type": "string"},
            "body": {"type": "string"},
            "date": NULLABLE_STRING,
            "source": {"type": "string"},
            "url": {"type": "string"},
            "author": {"type": "string"},
            "lang": {"type": "string"},
            "entities": ENTITIES,
            "entities_status": {"type": "string"},
            "path": {"type": "string"},
            "content_hash": {"type": "string"},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "cluster": {"type": "string"},
            "cluster_size": {"type": "integer", "minimum": 1},
        },
    },
    "Related": {
        "type": "object",
        "required": ["id", "results", "versions"],
        "properties": {
            "id": {"type": "string"},
            "results": {"type": "array", "items": ref("Brief")},
            "versions": {"type": "array", "items": ref("Brief")},
        },
    },
    "Entity": {
        "type": "object",
        "required": [
            "kind",
            "name",
            "articles",
            "stories",
            "coverage",
            "co_mentioned",
            "latest",
            "stamp",
        ],
        "properties": {
            "kind": {"type": "string", "enum": list(ENTITY_PAGE_KINDS)},
            "name": {"type": "string"},
            "articles": {"type": "integer", "minimum": 1},
            "stories": {"type": "integer", "minimum": 1},
            "coverage": ref("Coverage"),
            "co_mentioned": {"type": "object", "additionalProperties": FACET_VALUES},
            "latest": {"type": "array", "items": ref("Brief")},
            "stamp": ref("Stamp"),
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "articles"],
        "properties": {"status": {"type": "string"}, "articles": {"type": "integer", "minimum": 0}},
    },
}

ARTICLE_ID = path_param("article_id", "The article's id.")
KIND = {
    **path_param("kind", "person, organization or place (others are a 404)."),
    "example": "person",
}
NAME = {**path_param("name", "The entity's name, any case."), "example": "Helena Marsh"}
LIMIT = query_param(
    "limit", "How many articles.", {"type": "integer", "minimum": 1, "maximum": LIMITS.max_per_page}
)
SEARCH_PAGE = {"200": html("The results page."), **HTML_ERRORS}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/": operation(
            "The search page (same parameters as /search).", SEARCH_PARAMS, SEARCH_PAGE, "home"
        ),
        "/search": operation(
            "The search page; links its JSON twin /api/search.",
            SEARCH_PARAMS,
            SEARCH_PAGE,
            "searchPage",
        ),
        "/api/search": operation(
            "Ranked search with snippets, facets, coverage, a cursor and a stamp.",
            [*SEARCH_PARAMS, CURSOR_PARAM],
            {
                "200": {
                    "description": "One page of results.",
                    "content": json_content(ref("SearchResponse")),
                },
                "400": BAD,
                "503": NO_INDEX,
            },
            "search",
        ),
        "/api/facets": operation(
            "Facet counts of a search, without results.",
            FILTER_PARAMS,
            {
                "200": {"description": "Facets.", "content": json_content(ref("Summary"))},
                "400": BAD,
                "503": NO_INDEX,
            },
            "facets",
        ),
        "/api/coverage": operation(
            "Matching articles per day, week, month or year (from their span), and undated.",
            FILTER_PARAMS,
            {
                "200": {
                    "description": "Coverage over time.",
                    "content": json_content(ref("Summary")),
                },
                "400": BAD,
                "503": NO_INDEX,
            },
            "coverage",
        ),
        "/export.csv": operation(
            "Every matching article as CSV, streamed (no cap); formula-like cells quoted.",
            FILTER_PARAMS,
            {
                "200": {
                    "description": "CSV with a header row.",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                "400": html("A bad parameter or query."),
                "503": html("No index, or the server is busy."),
            },
            "exportCsv",
        ),
        "/articles/{article_id}": operation(
            "The article page: body with query words marked and entities linked.",
            [ARTICLE_ID, query_param("q", "Words to highlight.", {"type": "string"})],
            {"200": html("The article."), **HTML_ERRORS},
            "articlePage",
        ),
        "/api/articles/{article_id}": operation(
            "One article, all stored fields.",
            [ARTICLE_ID],
            {
                "200": {"description": "The article.", "content": json_content(ref("Article"))},
                "404": MISSING,
                "503": NO_INDEX,
            },
            "article",
        ),
        "/api/articles/{article_id}/related": operation(
            "More like this article, and the other versions of its story.",
            [ARTICLE_ID, LIMIT],
            {
                "200": {
                    "description": "Related articles.",
                    "content": json_content(ref("Related")),
                },
                "400": BAD,
                "404": MISSING,
                "503": NO_INDEX,
            },
            "related",
        ),
        "/entities/{kind}/{name}": operation(
            "An entity page: count, coverage chart, co-mentioned entities, latest articles.",
            [KIND, NAME],
            {"200": html("The entity page."), **HTML_ERRORS},
            "entityPage",
        ),
        "/api/entities/{kind}/{name}": operation(
            "One person, organization or place.",
            [KIND, NAME, LIMIT],
            {
                "200": {"description": "The entity.", "content": json_content(ref("Entity"))},
                "400": BAD,
                "404": MISSING,
                "503": NO_INDEX,
            },
            "entity",
        ),
        "/help": operation(
            "The query language, with examples.", [], {"200": html("Help.")}, "help"
        ),
        "/healthz": operation(
            "Liveness and the article count.",
            [],
            {
                "200": {"description": "OK.", "content": json_content(ref("Health"))},
                "503": NO_INDEX,
            },
            "health",
        ),
        "/api/openapi.json": operation(
            "This document.",
            [],
            {"200": {"description": "OpenAPI 3.1.", "content": json_content({"type": "object"})}},
            "openapi",
        ),
    }
    for item in paths.values():
        item["get"]["responses"].setdefault(
            "default", error("Any other error, in the one error shape.")
        )
        item["get"]["responses"]["405"] = error("Only GET is allowed.")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newsearch",
            "version": "1.0.0",
            "description": "Search over news articles. Every error is "
            '{"error": {"code", "message"}} '
            "(JSON endpoints) or an HTML page saying the same (pages).",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
