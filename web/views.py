"""Pages and their JSON twins. Each pair calls the same library function."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from markupsafe import Markup

from search.config import LIMITS
from search.errors import NewsearchError
from search.export import csv_lines
from search.query import DOCUMENTED_FIELDS
from search.searcher import SORTS, ArticleIndex
from web import errors, openapi
from web.errors import status_for
from web.params import integer, search_request, state

bp = Blueprint("views", __name__)

ENTITY_FACETS = ("person", "organization", "place")
ENTITY_LATEST_DEFAULT = 10  # latest articles on an entity page and in its JSON
ENTITY_KIND_TITLES = {"person": "Person", "organization": "Organization", "place": "Place"}
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


def entity_url(kind: str, name: str) -> str:
    return url_for("views.entity_page", kind=kind, name=name)


def bar_url(bucket: dict[str, Any], **base: str | None) -> str:
    """The search narrowed to one chart bar's dates: within the current from/to, so a
    click always narrows and never widens."""
    start, end = bucket["start"], bucket["end"]
    current_from, current_to = request.args.get("from", ""), request.args.get("to", "")
    if _is_day(current_from) and current_from > start:
        start = current_from
    if _is_day(current_to) and current_to < end:
        end = current_to
    if base:  # from an entity page: a new search for that entity
        return url_for("views.search_page", **base, **{"from": start, "to": end})
    return search_url(**{"from": start, "to": end})


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def chip_pairs(entities: dict[str, list[str]], per_kind: int = 3) -> list[tuple[str, str]]:
    """(kind, name) for a hit's entity chips; a name tagged with two kinds shows once."""
    seen: set[str] = set()
    pairs = []
    for kind in ENTITY_FACETS:
        for name in entities.get(kind, [])[:per_kind]:
            if name.casefold() not in seen:
                seen.add(name.casefold())
                pairs.append((kind, name))
    return pairs


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    return {
        "entity_url": entity_url,
        "bar_url": bar_url,
        "chip_pairs": chip_pairs,
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
def search_page() -> str | tuple[str, int, dict[str, str]]:
    try:
        # The page always explains its hits: a <details> toggle each, a few postings reads.
        response = article_index().search(replace(search_request(request.args), explain=True))
    except NewsearchError as error:
        page = render_template("search.html", error=error.message, response=None)
        return page, status_for(error), errors.headers_for(error)
    return render_template("search.html", error=None, response=response)


@bp.get("/api/search")
def search_api() -> Response:
    return jsonify(article_index().search(search_request(request.args)))


@bp.get("/articles/<article_id>")
def article_page(article_id: str) -> str:
    index = article_index()
    article = index.article(article_id)
    q = request.args.get("q", "")
    # Escaped by search.markup; only its <mark> and <a> tags are added.
    paragraphs = [Markup(html) for html in index.article_html(article, q, entity_url)]
    return render_template(
        "article.html",
        article=article,
        paragraphs=paragraphs,
        q=q,
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


@bp.get("/api/facets")
def facets_api() -> Response:
    """Facets of a search without its results."""
    summary = article_index().summary(search_request(request.args))
    keys = ("query", "total", "stories", "filters", "facets", "stamp")
    return jsonify({key: summary[key] for key in keys})


@bp.get("/api/coverage")
def coverage_api() -> Response:
    """A search's coverage over time without its results."""
    summary = article_index().summary(search_request(request.args))
    keys = ("query", "total", "stories", "filters", "coverage", "stamp")
    return jsonify({key: summary[key] for key in keys})


@bp.get("/entities/<kind>/<path:name>")
def entity_page(kind: str, name: str) -> str:
    view = article_index().entity(kind, name)
    return render_template("entity.html", view=view, kind_titles=ENTITY_KIND_TITLES)


@bp.get("/api/entities/<kind>/<path:name>")
def entity_api(kind: str, name: str) -> Response:
    limit = integer(request.args, "limit", ENTITY_LATEST_DEFAULT)
    return jsonify(article_index().entity(kind, name, limit=limit))


@bp.get("/export.csv")
def export_csv() -> Response:
    """Every matching article as CSV, streamed: no cap, constant memory per row."""
    total, rows = article_index().export(search_request(request.args))

    def body() -> Iterator[str]:
        yield from csv_lines(rows)

    response = Response(stream_with_context(body()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="newsearch-results.csv"'
    response.headers["X-Total-Count"] = str(total)
    return response


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 description of every endpoint (web/openapi.py)."""
    return jsonify(openapi.document())
