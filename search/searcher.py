"""The search call that the browser page, the JSON endpoint and the CLI all share.

SearchRequest -> parse -> filter -> rank -> page -> snippets + facets -> response dict.
Whoosh stays behind this module: callers see plain requests and dicts.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.searching import Results, Searcher
from whoosh.sorting import FieldFacet, MultiFacet

from search import snippets, whoosh_fixes  # noqa: F401 - patches Whoosh on import
from search.config import LIMITS, RANKING, Ranking
from search.errors import IndexMissing, InvalidRequest, NotFound
from search.facets import FacetCache
from search.models import ENTITY_KINDS
from search.query import ParsedQuery, parse_query
from search.schema import INDEX_NAME
from search.scoring import NewsBM25F

SORTS = ("relevance", "newest", "oldest")


@dataclass(frozen=True)
class SearchRequest:
    """What a user asked for; ``validate`` says what is wrong with it."""

    q: str = ""
    page: int = 1
    per_page: int = 10
    lang: str = ""
    date_from: date | None = None
    date_to: date | None = None
    entity: str = ""
    source: str = ""
    sort: str = "relevance"

    def validate(self) -> None:
        """Raises InvalidRequest naming the first parameter that is out of range."""
        if self.sort not in SORTS:
            raise InvalidRequest(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}.")
        if not 1 <= self.page <= LIMITS.max_page:
            raise InvalidRequest(f"page must be between 1 and {LIMITS.max_page}.")
        if not 1 <= self.per_page <= LIMITS.max_per_page:
            raise InvalidRequest(f"per_page must be between 1 and {LIMITS.max_per_page}.")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidRequest("from must not be later than to.")

    def filters(self) -> dict[str, str]:
        """The active filters, as they appear in URLs."""
        values = {
            "lang": self.lang,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "entity": self.entity,
            "source": self.source,
        }
        return {key: value for key, value in values.items() if value}


class ArticleIndex:
    """A read-only view of one on-disk index, safe to share between threads.

    Each thread gets its own Whoosh searcher; searchers and facet tables are
    renewed when the indexer commits a new generation, without a restart.
    """

    def __init__(self, index_dir: Path, ranking: Ranking = RANKING) -> None:
        self.index_dir = Path(index_dir)
        self.ranking = ranking
        self._local = threading.local()
        self._lock = threading.Lock()
        self._facets: tuple[int, FacetCache] | None = None
        self._ix: whoosh_index.Index | None = None

    def _index(self) -> whoosh_index.Index:
        if self._ix is None:
            if not whoosh_index.exists_in(self.index_dir, indexname=INDEX_NAME):
                raise IndexMissing(
                    f"There is no index in {self.index_dir}. "
                    "Build one first with: newsearch index PATH"
                )
            self._ix = whoosh_index.open_dir(self.index_dir, indexname=INDEX_NAME)
        return self._ix

    def searcher(self) -> Searcher:
        """This thread's searcher, reopened if the index has changed."""
        current: Searcher | None = getattr(self._local, "searcher", None)
        if current is None:
            weighting = NewsBM25F(B=self.ranking.b, K1=self.ranking.k1)
            current = self._index().searcher(weighting=weighting)
        elif not current.up_to_date():
            current = current.refresh()
        self._local.searcher = current
        return current

    def facet_cache(self, searcher: Searcher) -> FacetCache:
        generation = searcher.reader().generation()
        with self._lock:
            if self._facets is None or self._facets[0] != generation:
                self._facets = (generation, FacetCache(searcher.reader()))
            return self._facets[1]

    def count(self) -> int:
        return self.searcher().doc_count()

    def search(self, request: SearchRequest) -> dict[str, Any]:
        """Run one search. Raises InvalidRequest or QueryError for a bad request."""
        started = time.perf_counter()
        searcher = self.searcher()
        facets = self.facet_cache(searcher)
        match = self.match(request, searcher, facets)
        results = self.rank(request, searcher, match)
        end = request.page * request.per_page
        snippets.configure(results)
        page = results[end - request.per_page : end]
        hits = [hit_json(hit, request.sort, facets.cluster_sizes) for hit in page]
        response = {
            "query": request.q,
            "total": len(match.docs),
            "page": request.page,
            "per_page": request.per_page,
            "sort": request.sort,
            "filters": request.filters(),
            "took_ms": 0.0,
            "results": hits,
            "facets": facets.count(match.docs, LIMITS.facet_size),
        }
        if match.relaxed:
            response["notice"] = (
                "No article has all of these words; showing articles with any of them."
            )
        response["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return response

    def ranked_ids(self, request: SearchRequest) -> list[str]:
        """The ids of one page of results, without snippets or facets (for evaluation)."""
        searcher = self.searcher()
        match = self.match(request, searcher, self.facet_cache(searcher))
        end = request.page * request.per_page
        results = self.rank(request, searcher, match)
        return [hit["id"] for hit in results[end - request.per_page : end]]

    def match(self, request: SearchRequest, searcher: Searcher, facets: FacetCache) -> Match:
        """The documents a request matches: the query's, within the filters. A plain
        query whose words never all meet is relaxed to any of its words."""
        request.validate()
        parsed = parse_query(request.q, self.ranking)
        allowed = self.allowed_docs(request, facets)
        docs = matching_docs(searcher, parsed.query, allowed)
        if not docs and parsed.relaxed is not None:
            relaxed_docs = matching_docs(searcher, parsed.relaxed, allowed)
            if relaxed_docs:
                return Match(parsed, parsed.relaxed, relaxed_docs, allowed, relaxed=True)
        return Match(parsed, parsed.query, docs, allowed, relaxed=False)

    def rank(self, request: SearchRequest, searcher: Searcher, match: Match) -> Results:
        """Score and sort the matched documents."""
        return searcher.search(
            match.query,
            limit=request.page * request.per_page,
            filter=match.docs if match.allowed is not None else None,
            sortedby=sort_facet(request.sort),
            terms=True,
        )

    def allowed_docs(self, request: SearchRequest, facets: FacetCache) -> set[int] | None:
        """The documents the filters let through; None when there are no filters."""
        sets = []
        if request.lang:
            sets.append(facets.tables["lang"].docs_for(request.lang))
        if request.source:
            sets.append(facets.tables["source"].docs_for(request.source))
        if request.entity:
            sets.append(facets.entity_docs(request.entity))
        if request.date_from or request.date_to:
            sets.append(facets.date_docs(request.date_from, request.date_to))
        if not sets:
            return None
        sets.sort(key=len)
        return sets[0].intersection(*sets[1:])

    def article(self, article_id: str) -> dict[str, Any]:
        """Every stored field of one article. Raises NotFound."""
        searcher = self.searcher()
        fields = searcher.document(id=article_id)
        if fields is None:
            raise NotFound(f"No article has the id {article_id!r}.")
        return article_json(fields, self.facet_cache(searcher).cluster_sizes)


@dataclass(frozen=True)
class Match:
    parsed: ParsedQuery
    query: wq.Query
    docs: set[int]
    allowed: set[int] | None
    relaxed: bool


def matching_docs(searcher: Searcher, query: wq.Query, allowed: set[int] | None) -> set[int]:
    docs = set(searcher.docs_for_query(query))
    return docs if allowed is None else docs & allowed


def sort_facet(sort: str) -> MultiFacet | None:
    """Dated articles first, by date; relevance needs no facet."""
    if sort == "relevance":
        return None
    return MultiFacet(
        [FieldFacet("dated", reverse=True), FieldFacet("date", reverse=sort == "newest")]
    )


def hit_json(hit: Any, sort: str, cluster_sizes: dict[str, int]) -> dict[str, Any]:
    fields = hit.fields()
    return {
        "id": fields["id"],
        "headline": fields.get("headline", ""),
        "date": fields.get("date_iso"),
        "source": fields.get("source_tag", ""),
        "url": fields.get("url", ""),
        "lang": fields.get("lang", ""),
        "entities": entities_json(fields),
        "snippet": snippets.snippet(hit),
        "score": round(hit.score, 4) if sort == "relevance" and hit.score is not None else None,
        **cluster_json(fields, cluster_sizes),
    }


def cluster_json(fields: dict[str, Any], cluster_sizes: dict[str, int]) -> dict[str, Any]:
    """The article's story cluster (search.dedup) and how many indexed articles it has.

    An article indexed before clusters existed has no cluster field: it is its own.
    """
    cluster = fields.get("cluster") or fields["id"]
    return {"cluster": cluster, "cluster_size": cluster_sizes.get(cluster, 1)}


def entities_json(fields: dict[str, Any]) -> dict[str, list[str]]:
    stored = fields.get("entities") or {}
    return {kind: list(stored.get(kind, [])) for kind in ENTITY_KINDS}


def article_json(fields: dict[str, Any], cluster_sizes: dict[str, int]) -> dict[str, Any]:
    return {
        "id": fields["id"],
        "headline": fields.get("headline", ""),
        "body": fields.get("body", ""),
        "date": fields.get("date_iso"),
        "source": fields.get("source_tag", ""),
        "url": fields.get("url", ""),
        "author": fields.get("author", ""),
        "lang": fields.get("lang", ""),
        "entities": entities_json(fields),
        "entities_status": fields.get("entities_status", ""),
        "path": fields.get("path", ""),
        "content_hash": fields.get("content_hash", ""),
        "warnings": list(fields.get("warnings") or []),
        **cluster_json(fields, cluster_sizes),
    }


def request_json(request: SearchRequest) -> dict[str, Any]:
    data = asdict(request)
    data["date_from"] = request.date_from.isoformat() if request.date_from else None
    data["date_to"] = request.date_to.isoformat() if request.date_to else None
    return data
