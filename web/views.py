"""Pages and their JSON twins. Each pair calls the same library function."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from search.config import LIMITS
from search.errors import NewsearchError
from search.query import DOCUMENTED_FIELDS
from search.searcher import SORTS, ArticleIndex
from web.params import integer, search_request, state

bp = Blueprint("views", __name__)

ENTITY_FACETS = ("person", "organization", "place")
RELATED_LIMIT = 5  # related articles on the article page and by default in the API
# The page's ranking choices: recency values, and what the select calls them.
RECENCY_CHOICES = (("0", "Relevance"), ("0.5", "Balanced"), ("0.9", "Recent first"))
FACET_TITLES = {
    "person": "People",
    "organization": "Organizations",
    "place": "Places",
    "lang": "Language",
    "source": "Source",
    "year": "Year",
}


def article_index() -> ArticleIndex:
    return current_app.extensions["article_index"]


def search_url(endpoint: str = "views.search_page", **changes: str | int | None) -> str:
    return url_for(endpoint, **state(request.args, **changes))


def facet_changes(kind: str, value: str) -> dict[str, str | None]:
    """The URL change that applies a facet value (or removes it when it is active)."""
    if kind == "year":
        start, end = f"{value}-01-01", f"{value}-12-31"
        active = request.args.get("from") == start and request.args.get("to") == end
        return {"from": None, "to": None} if active else {"from": start, "to": end}
    key = "entity" if kind in ENTITY_FACETS else kind
    active = request.args.get(key, "").casefold() == value.casefold()
    return {key: None if active else value}


def facet_is_active(kind: str, value: str) -> bool:
    return any(v is None for v in facet_changes(kind, value).values())


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    return {
        "search_url": search_url,
        "facet_changes": facet_changes,
        "facet_is_active": facet_is_active,
        "facet_titles": FACET_TITLES,
        "sorts": SORTS,
        "recency_choices": RECENCY_CHOICES,
        "search_state": lambda **changes: state(request.args, **changes),
    }


@bp.get("/")
@bp.get("/search")
def search_page() -> str | tuple[str, int]:
    try:
        # The page always explains its hits: a <details> toggle each, a few postings reads.
        response = article_index().search(replace(search_request(request.args), explain=True))
    except NewsearchError as error:
        status = 503 if error.code == "index_missing" else 400
        return render_template("search.html", error=error.message, response=None), status
    return render_template("search.html", error=None, response=response)


@bp.get("/api/search")
def search_api() -> Response:
    return jsonify(article_index().search(search_request(request.args)))


@bp.get("/articles/<article_id>")
def article_page(article_id: str) -> str:
    index = article_index()
    article = index.article(article_id)
    return render_template(
        "article.html",
        article=article,
        q=request.args.get("q", ""),
        related=index.related(article_id),
        versions=index.versions(article_id),
    )


@bp.get("/api/articles/<article_id>")
def article_api(article_id: str) -> Response:
    return jsonify(article_index().article(article_id))


@bp.get("/api/articles/<article_id>/related")
def related_api(article_id: str) -> Response:
    """More like this (``limit``, default 5), and the other versions of the story."""
    index = article_index()
    limit = integer(request.args, "limit", RELATED_LIMIT)
    return jsonify(
        {
            "id": article_id,
            "results": index.related(article_id, limit=limit),
            "versions": index.versions(article_id),
        }
    )


@bp.get("/help")
def help_page() -> str:
    """The query language and filters, with examples (static: no JSON twin needed)."""
    return render_template("help.html", fields=DOCUMENTED_FIELDS, limits=LIMITS)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok", "articles": article_index().count()})
