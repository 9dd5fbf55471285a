"""The search call that the browser page, the JSON endpoint and the CLI all share.

SearchRequest -> parse -> filter -> rank -> page -> snippets + facets -> response dict.
Whoosh stays behind this module: callers see plain requests and dicts.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.collectors import WrappingCollector
from whoosh.searching import Hit, Results, Searcher
from whoosh.sorting import Categorizer, FacetType, FieldFacet, MultiFacet

from search import cursor, markup, postings, semantic, snippets, whoosh_fixes  # noqa: F401
from search.admission import Turns
from search.analysis import analysing_as
from search.config import LIMITS, RANKING, Ranking
from search.docset import DocSet
from search.errors import IndexMissing, InvalidRequest, NewsearchError, NotFound, SearchTimeout
from search.facets import FacetCache
from search.hybrid import RERANK_DEPTH, SemanticMatch, Vectors, rerank
from search.models import ENTITY_KINDS
from search.phrasetables import TableCache
from search.postings import Postings, Scored
from search.query import ParsedQuery, check_expansions, newest_date, parse_query, parsed_json
from search.schema import ENTITY_TAG_FIELDS, INDEX_NAME, SEARCHED_FIELDS
from search.scoring import NewsBM25F
from search.spelling import Vocabulary, suggestion
from search.storage import SharedFileStorage

log = logging.getLogger(__name__)
FloatOrArray = TypeVar("FloatOrArray", float, np.ndarray)
T = TypeVar("T")

SORTS = ("relevance", "newest", "oldest")
ENTITY_PAGE_KINDS = ("person", "organization", "place")
ENTITY_LATEST = 10  # latest articles on an entity page
CO_MENTIONED = 10  # co-mentioned entities per kind on an entity page
DEADLINE_CHECK_DOCS = 4096  # matched documents collected between looks at the clock
# Recency: an article loses half its date weight per this many days before the newest
# article in the index. News a month older is markedly staler; a year older is history.
RECENCY_HALF_LIFE_DAYS = 30.0
# More like this: how many telling body words and entity names make the query.
RELATED_TERMS = 12
RELATED_ENTITIES = 10
RELATED_ENTITY_BOOST = 0.5  # a shared name counts, but less than the story's own words


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
    # Near-duplicate copies of one story (search.dedup) show as one hit with "versions".
    collapse: bool = True
    # 0 ranks by relevance alone; towards 1 the article's age weighs more (relevance sort only).
    recency: float = 0.0
    # Add to each hit the matched fields and terms and their share of its score.
    explain: bool = False
    # An opaque ``next`` token from an earlier response (search.cursor); overrides page.
    cursor: str = ""

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
        # "not 0 <= x" also refuses NaN, which compares false with everything
        if not 0.0 <= self.recency <= 1.0:
            raise InvalidRequest("recency must be a number from 0 to 1.")

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

    def fingerprint(self) -> str:
        """What decides the order of results: a cursor is only good for the same."""
        return cursor.fingerprint(
            {
                "q": self.q,
                "filters": self.filters(),
                "sort": self.sort,
                "collapse": self.collapse,
                "recency": self.recency,
            }
        )


M = TypeVar("M", bound=Callable[..., Any])


def taking_turns(method: M) -> M:
    """Run an ArticleIndex method in one of the index's search turns (search.admission)."""

    @functools.wraps(method)
    def in_turn(self: ArticleIndex, *args: Any, **kwargs: Any) -> Any:
        with self.turns.turn():
            return method(self, *args, **kwargs)

    return in_turn  # type: ignore[return-value]


class ArticleIndex:
    """A read-only view of one on-disk index, safe to share between threads.

    Each thread gets its own Whoosh searcher; searchers and facet tables are
    renewed when the indexer commits a new generation, without a restart.
    """

    def __init__(self, index_dir: Path, ranking: Ranking = RANKING) -> None:
        self.index_dir = Path(index_dir)
        self.ranking = ranking
        self.turns = Turns(LIMITS.concurrent_searches, LIMITS.queue_seconds)
        self._local = threading.local()
        self._lock = threading.Lock()
        # Tables built once per index generation: name -> (generation, table)
        self._tables: dict[str, tuple[int, Any]] = {}
        self._semantic: bool | None = None
        self._ix: whoosh_index.Index | None = None

    def _index(self) -> whoosh_index.Index:
        if self._ix is None:
            if not whoosh_index.exists_in(self.index_dir, indexname=INDEX_NAME):
                raise IndexMissing(
                    f"There is no index in {self.index_dir}. "
                    "Build one first with: newsearch index PATH"
                )
            # Every thread's reader reads each segment file through one shared descriptor,
            # without a copy of it each.
            storage = SharedFileStorage(str(self.index_dir))
            self._ix = storage.open_index(INDEX_NAME)
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

    def _per_generation(self, name: str, searcher: Searcher, build: Callable[[], T]) -> T:
        """The table ``name`` of the searcher's index generation, built on first use
        (under the lock: every thread waits for the one build)."""
        generation = searcher.reader().generation()
        with self._lock:
            held = self._tables.get(name)
            if held is None or held[0] != generation:
                held = (generation, build())
                self._tables[name] = held
            return held[1]

    def facet_cache(self, searcher: Searcher) -> FacetCache:
        return self._per_generation("facets", searcher, lambda: FacetCache(searcher.reader()))

    def vectors(self, searcher: Searcher) -> Vectors:
        """The generation's semantic vectors (search.hybrid)."""

        def build() -> Vectors:
            vectors = Vectors(searcher.reader())
            if vectors and self.semantic_ready():
                vectors.matrix()  # before any query's clock starts
            return vectors

        return self._per_generation("vectors", searcher, build)

    def vocabulary(self, searcher: Searcher) -> Vocabulary:
        """The generation's words to correct spellings from (search.spelling)."""
        return self._per_generation("vocabulary", searcher, lambda: Vocabulary(searcher.reader()))

    def postings(self, searcher: Searcher) -> Postings:
        """The generation's postings as arrays (search.postings), shared by all threads."""

        def build() -> Postings:
            tables = Postings(searcher.reader(), TableCache(self.index_dir))
            tables.pin_longest(searcher.reader(), SEARCHED_FIELDS)
            return tables

        return self._per_generation("postings", searcher, build)

    def scored(self, searcher: Searcher, query: wq.Query, allowed: DocSet | None) -> Scored | None:
        """The documents a plain query matches within ``allowed``, with their BM25F
        scores, in bulk; None for a query that Whoosh must walk itself."""
        tables = self.postings(searcher)
        found = postings.evaluate(query, searcher, tables)
        return None if found is None else found.within(tables.mask(allowed))

    def matches(
        self,
        searcher: Searcher,
        query: wq.Query,
        allowed: DocSet | None,
        deadline: float | None = None,
    ) -> tuple[DocSet, Scored | None]:
        """The documents ``query`` matches within ``allowed``, and their scores when the
        query was evaluated in bulk (search.postings) rather than walked by Whoosh."""
        scored = self.scored(searcher, query, allowed)
        if scored is None:
            return matching_docs(searcher, query, allowed, deadline), None
        check_deadline(deadline)  # array work cannot stop midway; it stops after
        return DocSet(scored.docs), scored

    def semantic_ready(self) -> bool:
        """Whether plain queries can be ranked by meaning: the model loads (once, when the
        first index with vectors is opened). A model that fails to load is logged and the
        search goes on by words alone."""
        if self._semantic is None:
            self._semantic = bool(self.ranking.semantic_share) and semantic.available()
            if self._semantic:
                try:
                    semantic.query_vector("news")  # loads the model and its tokenizer
                except Exception:
                    log.exception("the semantic model failed to load: ranking by words alone")
                    self._semantic = False
        return self._semantic

    def count(self) -> int:
        return self.searcher().doc_count()

    def prepare(self, searcher: Searcher) -> FacetCache:
        """Build the generation's tables that matching and ranking read, before a query's
        clock starts: building them once after a commit is the index's cost, not the
        query's. Returns the facet tables."""
        facets = self.facet_cache(searcher)
        self.vectors(searcher)
        self.postings(searcher)
        self.vocabulary(searcher)
        return facets

    @taking_turns
    def search(self, request: SearchRequest) -> dict[str, Any]:
        """Run one search. Raises InvalidRequest or QueryError for a bad request."""
        started = time.perf_counter()
        searcher = self.searcher()
        facets = self.prepare(searcher)
        vocabulary = self.vocabulary(searcher)
        deadline = time.perf_counter() + LIMITS.search_seconds
        match = self.match(request, searcher, facets, deadline)
        start = (request.page - 1) * request.per_page
        if request.cursor:
            start = cursor.decode(request.cursor, request.fingerprint())
        end = start + request.per_page
        results = self.rank(request, searcher, match, facets, deadline, limit=end)
        snippets.configure(results)
        page = results[start:end]
        stories = facets.story_counts(match.docs)
        recency = self.recency_factor(request, facets) if request.explain else None
        hits = []
        for hit in page:
            data = hit_json(hit, request.sort, facets.cluster_size(hit.docnum))
            data["versions"] = stories.copies(hit.docnum) - 1
            if request.explain:
                data["explain"] = explain_hit(hit, match.query, recency)
                if match.semantic is not None and hit.docnum in match.semantic.cosines:
                    data["explain"]["semantic"] = {
                        "similarity": round(match.semantic.cosines[hit.docnum], 4),
                        "share": self.ranking.semantic_share,
                    }
            hits.append(data)
        response = {
            "query": request.q,
            # Matching articles, each copy of a story counted; "stories" counts the
            # stories, which is what collapsed results page through.
            "total": len(match.docs),
            "page": start // request.per_page + 1,
            "per_page": request.per_page,
            "sort": request.sort,
            "filters": request.filters(),
            "stories": len(stories),
            "collapse": request.collapse,
            "recency": request.recency,
            "took_ms": 0.0,
            "results": hits,
            "facets": facets.count(match.docs, LIMITS.facet_size),
        }
        notices = list(match.parsed.notices)
        if match.relaxed:
            notices.append("No article has all of these words; showing articles with any of them.")
        if notices:
            response["notice"] = " ".join(notices)
        response["parsed"] = parsed_json(match.parsed)
        # Articles found by meaning alone have none of the words a correction would fix.
        by_words = len(match.docs) - (len(match.semantic.meaning_only) if match.semantic else 0)
        suggested = suggestion(
            searcher.reader(),
            vocabulary,
            match.parsed,
            request.q,
            # Relaxed to any word, no article had them all: the correction competes with none.
            0 if match.relaxed else by_words,
            lambda query: len(self.matches(searcher, query, match.allowed)[0]),
            self.ranking,
            newest_date(facets.day_values),
        )
        if suggested:
            response["suggestion"] = suggested
        # Collapsed results page through stories, uncollapsed ones through articles.
        pageable = len(stories) if request.collapse else len(match.docs)
        response["next"] = (
            cursor.encode(end, request.fingerprint())
            if end < pageable and end <= cursor.MAX_OFFSET
            else None
        )
        response["coverage"] = facets.coverage(match.docs)
        response["stamp"] = self.stamp(searcher, match.query)
        response["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return response

    def stamp(self, searcher: Searcher, query: wq.Query | None) -> dict[str, Any]:
        """What a result came from: the index generation, its size and the parsed query."""
        return {
            "index_version": searcher.reader().generation(),
            "articles": searcher.doc_count(),
            "parsed_query": str(query) if query is not None else "",
        }

    @taking_turns
    def summary(self, request: SearchRequest) -> dict[str, Any]:
        """The matches' facets and coverage, without ranking or snippets."""
        searcher = self.searcher()
        facets = self.prepare(searcher)
        match = self.match(request, searcher, facets, time.perf_counter() + LIMITS.search_seconds)
        return {
            "query": request.q,
            "total": len(match.docs),
            "stories": len(facets.story_counts(match.docs)),
            "filters": request.filters(),
            "facets": facets.count(match.docs, LIMITS.facet_size),
            "coverage": facets.coverage(match.docs),
            "stamp": self.stamp(searcher, match.query),
        }

    @taking_turns
    def export(self, request: SearchRequest) -> tuple[int, Iterator[dict[str, Any]]]:
        """Every matching article (each copy of a story), in the request's order: the
        count, and the rows, read one at a time as the iterator is consumed."""
        request = replace(request, collapse=False)
        searcher = self.searcher()
        facets = self.prepare(searcher)
        deadline = time.perf_counter() + LIMITS.search_seconds
        match = self.match(request, searcher, facets, deadline)
        results = self.rank(request, searcher, match, facets, deadline, limit=None)

        def rows() -> Iterator[dict[str, Any]]:
            for hit in results:
                fields = hit.fields()
                entities = entities_json(fields)
                yield {
                    **brief_json(fields, None),
                    "url": fields.get("url", ""),
                    "author": fields.get("author", ""),
                    "person": entities["person"],
                    "organization": entities["organization"],
                    "place": entities["place"],
                    **cluster_json(fields, facets.cluster_size(hit.docnum)),
                }

        return len(match.docs), rows()

    @taking_turns
    def entity(self, kind: str, name: str, limit: int = ENTITY_LATEST) -> dict[str, Any]:
        """One person, organization or place: how many articles name it, when, with whom,
        and its latest articles. Raises NotFound for an unknown kind or name."""
        if kind not in ENTITY_PAGE_KINDS:
            raise NotFound(
                f"There are no entity pages for {kind[:40]!r}: use {', '.join(ENTITY_PAGE_KINDS)}."
            )
        if not 1 <= limit <= LIMITS.max_per_page:
            raise InvalidRequest(f"limit must be between 1 and {LIMITS.max_per_page}.")
        searcher = self.searcher()
        facets = self.facet_cache(searcher)
        table = facets.tables[kind]
        spellings = table.values_by_folded.get(name.casefold())
        if not spellings:
            raise NotFound(f"No article names the {kind} {name[:100]!r}.")
        docs = table.docs_for(name)
        # The spelling most articles use names the page.
        canonical = max(spellings, key=lambda value: (len(table.docs_by_value[value]), value))
        folded = name.casefold()
        co_mentioned = {
            other: [
                item
                for item in facets.tables[other].count(facets.mask(docs), CO_MENTIONED + 1)
                if str(item["value"]).casefold() != folded
            ][:CO_MENTIONED]
            for other in ENTITY_PAGE_KINDS
        }
        # Newest first by day, from the day table; undated last; docnum breaks ties.
        days = facets.day_ordinals
        latest = sorted(docs, key=lambda docnum: (-int(days[docnum]), -docnum))[:limit]
        return {
            "kind": kind,
            "name": canonical,
            "articles": len(docs),
            "stories": len(facets.story_counts(docs)),
            "coverage": facets.coverage(docs),
            "co_mentioned": co_mentioned,
            "latest": [brief_json(searcher.stored_fields(docnum), None) for docnum in latest],
            "stamp": self.stamp(searcher, None),
        }

    def parsed_query(self, text: str) -> wq.Query | None:
        """The Whoosh query for ``text``, or None when it does not parse (for highlighting,
        where a bad query should mark nothing rather than fail the page)."""
        try:
            facets = self.facet_cache(self.searcher())
            newest = newest_date(facets.day_values)
            languages = facets.query_languages()
            return parse_query(text, self.ranking, newest, languages=languages).query
        except NewsearchError:
            return None

    def article_html(
        self, article: dict[str, Any], q: str, link: Callable[[str, str], str]
    ) -> list[str]:
        """The article's body paragraphs as HTML: escaped, query words marked, entity
        mentions linked with ``link(kind, name)``."""
        query = self.parsed_query(q) if q.strip() else None
        body = article.get("body", "")
        return markup.body_html(body, article["entities"], query, link, article.get("lang", ""))

    @taking_turns
    def ranked_ids(self, request: SearchRequest) -> list[str]:
        """The ids of one page of results, without snippets or facets (for evaluation).

        Never collapsed: judged collections judge every copy of a story on its own.
        """
        request = replace(request, collapse=False)
        searcher = self.searcher()
        facets = self.facet_cache(searcher)
        match = self.match(request, searcher, facets)
        end = request.page * request.per_page
        results = self.rank(request, searcher, match, facets)
        return [hit["id"] for hit in results[end - request.per_page : end]]

    def match(
        self,
        request: SearchRequest,
        searcher: Searcher,
        facets: FacetCache,
        deadline: float | None = None,
    ) -> Match:
        """The documents a request matches: the query's, within the filters. A plain
        query whose words never all meet is relaxed to any of its words."""
        request.validate()
        # Relative dates ("last month") count back from the newest article, not today.
        newest = newest_date(facets.day_values)
        languages = facets.query_languages(request.lang)
        parsed = parse_query(request.q, self.ranking, newest, languages=languages)
        check_expansions(parsed.query, searcher.reader())
        allowed = self.allowed_docs(request, facets, parsed)
        docs, scored = self.matches(searcher, parsed.query, allowed, deadline)
        meaning = self.semantic_match(request, parsed, searcher, allowed, docs)
        if not docs and parsed.relaxed is not None:
            relaxed_docs, relaxed = self.matches(searcher, parsed.relaxed, allowed, deadline)
            if relaxed_docs:
                return Match(parsed, parsed.relaxed, relaxed_docs, allowed, True, meaning, relaxed)
        if meaning is not None:
            meaning.meaning_only = {docnum for docnum in meaning.nearest if docnum not in docs}
            docs = docs.union(meaning.meaning_only)
        return Match(parsed, parsed.query, docs, allowed, False, meaning, scored)

    def semantic_match(
        self,
        request: SearchRequest,
        parsed: ParsedQuery,
        searcher: Searcher,
        allowed: DocSet | None,
        docs: DocSet,
    ) -> SemanticMatch | None:
        """The query's meaning, for a plain query ranked by relevance over an index with
        semantic vectors; None otherwise. A long query also brings in the articles
        nearest in meaning, whether its words match them or not."""
        if (
            request.sort != "relevance"
            or not parsed.plain
            or not semantic.LANGUAGES.intersection(parsed.languages)
        ):
            return None
        vectors = self.vectors(searcher)
        if not vectors or not self.semantic_ready():
            return None
        query = semantic.query_vector(parsed.words)
        nearest = {}
        if parsed.long_plain:
            nearest = vectors.nearest(
                query,
                self.ranking.semantic_candidates,
                allowed,
                self.ranking.semantic_min_similarity,
            )
        return SemanticMatch(query, nearest)

    def rank(
        self,
        request: SearchRequest,
        searcher: Searcher,
        match: Match,
        facets: FacetCache,
        deadline: float | None = None,
        limit: int | None = -1,
    ) -> Results:
        """Score and sort the matched documents, one hit per story when collapsing.

        Only the best ``page * per_page`` stories are sorted, so page N of stories is
        exact without sorting every match. Recency multiplies every match's score
        rather than re-ranking the top hits: the order it gives is the same whatever
        page is asked for, which a re-ranked window is not.
        """
        recency = request.recency if request.sort == "relevance" else 0.0
        ranking = searcher
        if recency:
            weighting = RecencyBM25F(
                facets.recency_decay(RECENCY_HALF_LIFE_DAYS),
                recency,
                B=self.ranking.b,
                K1=self.ranking.k1,
            )
            # A second searcher over the same open reader: cheap, and it leaves the
            # thread's cached searcher and its weighting untouched.
            ranking = Searcher(searcher.reader(), weighting=weighting, closereader=False)
        # -1: up to the request's page; None: every match (the export)
        wanted = request.page * request.per_page if limit == -1 else limit
        meaning = match.semantic if request.sort == "relevance" else None
        if meaning is not None and wanted is not None:
            wanted = max(wanted, RERANK_DEPTH)  # every page re-orders the same head
        if match.scored is not None:
            check_deadline(deadline)
            results = self.ranked_in_bulk(request, ranking, match, facets, wanted)
        else:
            results = self.ranked_by_whoosh(request, ranking, match, facets, deadline, wanted)
        if meaning is not None:
            results.top_n, meaning.cosines = rerank(
                results.top_n,
                meaning,
                self.vectors(searcher),
                self.ranking.semantic_share,
                facets.story_of if request.collapse else (lambda d: d),
                self.recency_factor(request, facets),
            )
        return results

    def ranked_in_bulk(
        self,
        request: SearchRequest,
        ranking: Searcher,
        match: Match,
        facets: FacetCache,
        wanted: int | None,
    ) -> Results:
        """The best ``wanted`` of a query scored by search.postings, as Whoosh results."""
        assert match.scored is not None
        factor = None
        if request.recency:
            decay = np.frombuffer(facets.recency_decay(RECENCY_HALF_LIFE_DAYS), dtype=np.float64)
            factor = blend(decay, request.recency)
        story = facets.story_keys if request.collapse else None
        if request.sort == "relevance":
            top_n = postings.ranked(match.scored, wanted, factor, story)
        else:
            top_n = postings.sorted_by(match.scored, wanted, facets.sort_keys[request.sort], story)
        results = Results(ranking, match.query, top_n)
        results._total = len(match.scored)
        results.docterms, results.termdocs = postings.matched_terms(
            match.query, ranking, self.postings(ranking), [docnum for _, docnum in top_n]
        )
        return results

    def ranked_by_whoosh(
        self,
        request: SearchRequest,
        ranking: Searcher,
        match: Match,
        facets: FacetCache,
        deadline: float | None,
        wanted: int | None,
    ) -> Results:
        """Whoosh's collector over the query's matchers: queries that search.postings
        does not evaluate (phrases, wildcards, NOT, ranges)."""
        recency = request.recency if request.sort == "relevance" else 0.0
        collapse = ClusterFacet(facets.story_keys) if request.collapse else None
        collector = ranking.collector(
            limit=wanted,
            # Whoosh reads an empty filter as no filter at all: {-1} (no document has
            # that number) keeps a filter that lets nothing through from showing all.
            filter=(match.docs.as_set() or {-1}) if match.allowed is not None else None,
            sortedby=sort_facet(request.sort),
            terms=True,
            collapse=collapse,
            collapse_limit=1,
            # Whoosh keeps a group's best by the raw matcher score, which leaves out
            # final(): with recency the best copy must be chosen by the blended score.
            collapse_order=FinalScoreFacet() if collapse and recency else None,
        )
        if deadline is not None:
            # Under the top collector (terms=True makes it a wrapper), so every wrapper's
            # walk over the matches passes the clock. Whoosh's TimeLimitCollector only
            # checks in its own collect_matches, which would bypass collapsing when on top.
            collector.child = DeadlineCollector(collector.child, deadline)
        ranking.search_with_collector(match.query, collector)
        return collector.results()

    def recency_factor(
        self, request: SearchRequest, facets: FacetCache
    ) -> Callable[[int], float] | None:
        """What recency multiplies a document's score by; None without recency."""
        if not request.recency or request.sort != "relevance":
            return None
        decay = facets.recency_decay(RECENCY_HALF_LIFE_DAYS)
        return lambda docnum: blend(decay[docnum], request.recency)

    def allowed_docs(
        self, request: SearchRequest, facets: FacetCache, parsed: ParsedQuery | None = None
    ) -> DocSet | None:
        """The documents the filters let through; None when there are no filters.

        Dates written in the query (``date:2011``, "since March 2011") narrow the
        from/to parameters: both must hold.
        """
        sets = []
        if request.lang:
            sets.append(facets.tables["lang"].docs_for(request.lang))
        if request.source:
            sets.append(facets.tables["source"].docs_for(request.source))
        if request.entity:
            sets.append(facets.entity_docs(request.entity))
        date_from, date_to = request.date_from, request.date_to
        if parsed is not None:
            if parsed.date_from and (date_from is None or parsed.date_from > date_from):
                date_from = parsed.date_from
            if parsed.date_to and (date_to is None or parsed.date_to < date_to):
                date_to = parsed.date_to
        if date_from or date_to:
            sets.append(facets.date_docs(date_from, date_to))
        if not sets:
            return None
        sets.sort(key=len)
        return sets[0].intersection(*sets[1:])

    @taking_turns
    def article(self, article_id: str) -> dict[str, Any]:
        """Every stored field of one article. Raises NotFound."""
        searcher = self.searcher()
        docnum = self._docnum(searcher, article_id)
        fields = searcher.stored_fields(docnum)
        return article_json(fields, self.facet_cache(searcher).cluster_size(docnum))

    @taking_turns
    def related(self, article_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """Articles about the same things: the article's most telling body words and its
        people, organisations and places, one article per story, never the article's
        own story. Raises NotFound."""
        if not 1 <= limit <= LIMITS.max_per_page:
            raise InvalidRequest(f"limit must be between 1 and {LIMITS.max_per_page}.")
        searcher = self.searcher()
        facets = self.facet_cache(searcher)
        docnum = self._docnum(searcher, article_id)
        fields = searcher.stored_fields(docnum)
        clauses: list[wq.Query] = []
        if fields.get("body"):
            # Whoosh analyses the stored body again: in its language, as it was indexed.
            with analysing_as(fields.get("lang")):
                terms = searcher.key_terms([docnum], "body", numterms=RELATED_TERMS)
            for word, weight in terms:
                clauses.append(wq.Term("body", word, boost=weight))
        entities = entities_json(fields)
        names = [
            (ENTITY_TAG_FIELDS[kind], name)
            for kind in ("person", "organization", "place")
            for name in entities[kind]
        ]
        for fieldname, name in names[:RELATED_ENTITIES]:
            clauses.append(wq.Term(fieldname, name, boost=RELATED_ENTITY_BOOST))
        if not clauses:
            return []
        own_story = facets.story_docs(docnum)
        results = searcher.search(
            wq.Or(clauses),
            limit=limit,
            mask=own_story,
            collapse=ClusterFacet(facets.story_keys),
            collapse_limit=1,
        )
        return [brief_json(hit.fields(), hit.score) for hit in results]

    @taking_turns
    def versions(self, article_id: str) -> list[dict[str, Any]]:
        """The other articles of this article's story cluster, oldest first. Raises NotFound."""
        searcher = self.searcher()
        facets = self.facet_cache(searcher)
        docnum = self._docnum(searcher, article_id)
        others = sorted(facets.story_docs(docnum) - {docnum})
        copies = [brief_json(searcher.stored_fields(other), None) for other in others]
        # Undated copies last; ids break ties so that the order is stable.
        return sorted(
            copies, key=lambda copy: (copy["date"] is None, copy["date"] or "", copy["id"])
        )

    def _docnum(self, searcher: Searcher, article_id: str) -> int:
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            raise NotFound(f"No article has the id {article_id!r}.")
        return docnum


@dataclass(frozen=True)
class Match:
    parsed: ParsedQuery
    query: wq.Query
    docs: DocSet
    allowed: DocSet | None
    relaxed: bool
    semantic: SemanticMatch | None = None
    # The query's matches scored in bulk (search.postings); None when Whoosh ranks them.
    scored: Scored | None = None


def matching_docs(
    searcher: Searcher, query: wq.Query, allowed: DocSet | None, deadline: float | None = None
) -> DocSet:
    """The documents ``query`` matches, within ``allowed``. Raises SearchTimeout when
    ``deadline`` (a ``time.perf_counter()`` value) passes while they are collected."""
    found = searcher.docs_for_query(query)
    if deadline is None:
        docs = set(found)
    else:
        docs = set()
        # Check the clock per chunk: per document would cost more than the matching.
        while chunk := list(islice(found, DEADLINE_CHECK_DOCS)):
            docs.update(chunk)
            if time.perf_counter() > deadline:
                raise timeout_error()
    found = DocSet.of(docs)
    return found if allowed is None else found.intersection(allowed)


class DeadlineCollector(WrappingCollector):
    """Passes matches through, raising SearchTimeout once ``deadline`` has passed."""

    def __init__(self, child: Any, deadline: float) -> None:
        super().__init__(child)
        self.deadline = deadline

    def matches(self) -> Iterator[int]:
        for count, sub_docnum in enumerate(self.child.matches()):
            if count % DEADLINE_CHECK_DOCS == 0 and time.perf_counter() > self.deadline:
                raise timeout_error()
            yield sub_docnum


def check_deadline(deadline: float | None) -> None:
    """Raises SearchTimeout when ``deadline`` (a ``time.perf_counter()`` value) has passed."""
    if deadline is not None and time.perf_counter() > deadline:
        raise timeout_error()


def timeout_error() -> SearchTimeout:
    return SearchTimeout(
        f"The search took longer than {LIMITS.search_seconds:g} s and was stopped. "
        "Add words, a phrase or a filter to narrow it."
    )


def sort_facet(sort: str) -> MultiFacet | None:
    """Dated articles first, by date; relevance needs no facet."""
    if sort == "relevance":
        return None
    return MultiFacet(
        [FieldFacet("dated", reverse=True), FieldFacet("date", reverse=sort == "newest")]
    )


def blend(decay: FloatOrArray, recency: float) -> FloatOrArray:
    """The factor recency multiplies a relevance score by: 1 for the newest article,
    falling towards ``1 - recency`` as the article ages. Multiplying (not adding) keeps
    the blend free of BM25's arbitrary score scale."""
    return (1.0 - recency) + recency * decay


class RecencyBM25F(NewsBM25F):
    """NewsBM25F with each document's score multiplied by its recency factor."""

    use_final = True

    def __init__(self, decay: array[float], recency: float, **kwargs: float) -> None:
        super().__init__(**kwargs)
        self.decay = decay
        self.recency = recency

    def final(self, searcher: Searcher, docnum: int, score: float) -> float:
        # Whoosh's collectors pass the top-level searcher and a global docnum.
        return score * blend(self.decay[docnum], self.recency)


class ClusterFacet(FacetType):
    """Groups documents by story, from the per-generation story numbers (FacetCache).

    Whoosh's own FieldFacet over the unsortable ``cluster`` field numbers the values
    from 0, and its collapser takes key 0 for "no group": the first cluster in
    alphabetical order would never collapse. Here story n is key n + 1, and an article
    without a cluster (a negative number) gets 0, which Whoosh leaves uncollapsed as it
    should.
    """

    def __init__(self, story_keys: np.ndarray) -> None:
        self.story_keys = story_keys

    def categorizer(self, global_searcher: Searcher) -> Categorizer:
        return _ClusterCategorizer(self.story_keys)


class _ClusterCategorizer(Categorizer):
    def __init__(self, story_keys: np.ndarray) -> None:
        self.story_keys = story_keys
        self.offset = 0

    def set_searcher(self, segment_searcher: Searcher, docoffset: int) -> None:
        self.offset = docoffset

    def key_for(self, matcher: Any, segment_docnum: int) -> int:
        return max(int(self.story_keys[self.offset + segment_docnum]) + 1, 0)


class FinalScoreFacet(FacetType):
    """Orders by the score after the weighting's ``final()``, best first. Whoosh's
    ScoreFacet calls ``final()`` with segment-relative docnums, unlike its collectors."""

    def categorizer(self, global_searcher: Searcher) -> Categorizer:
        return _FinalScoreCategorizer(global_searcher)


class _FinalScoreCategorizer(Categorizer):
    needs_current = True

    def __init__(self, top_searcher: Searcher) -> None:
        self.top_searcher = top_searcher
        self.weighting = top_searcher.weighting
        self.offset = 0

    def set_searcher(self, segment_searcher: Searcher, docoffset: int) -> None:
        self.offset = docoffset

    def key_for(self, matcher: Any, segment_docnum: int) -> float:
        score = matcher.score()
        if self.weighting.use_final:
            score = self.weighting.final(self.top_searcher, self.offset + segment_docnum, score)
        return 0 - score


def explain_hit(
    hit: Hit, query: wq.Query, recency: Callable[[int], float] | None
) -> dict[str, Any]:
    """Which fields and terms matched this hit and what share of its score each gave.

    Each matched (field, term) is scored again on its own with the searcher's weighting
    and the query's boost for that term; the shares are those scores over their sum.
    They are exact for the plain sum of BM25F term scores that Whoosh's Or and And
    matchers compute, and an honest approximation under phrases.
    """
    searcher = hit.searcher
    boosts = query_boosts(query)
    scored = []
    for fieldname, text in hit.matched_terms() or []:
        matcher = searcher.postings(fieldname, text)
        if matcher.is_active() and matcher.id() < hit.docnum:
            matcher.skip_to(hit.docnum)
        if not matcher.is_active() or matcher.id() != hit.docnum:
            continue
        term = text.decode("utf-8") if isinstance(text, bytes) else str(text)
        boost = boosts.get((fieldname, term), boosts.get((fieldname, None), 1.0))
        scored.append((fieldname, term, matcher.score() * boost))
    total = sum(score for _, _, score in scored)
    scored.sort(key=lambda item: (-item[2], item[0], item[1]))
    terms = [
        {"field": fieldname, "term": term, "share": round(score / total, 4) if total else 0.0}
        for fieldname, term, score in scored
    ]
    explained: dict[str, Any] = {"terms": terms}
    if recency is not None:
        explained["recency_factor"] = round(recency(hit.docnum), 4)
    return explained


def query_boosts(query: wq.Query) -> dict[tuple[str, str | None], float]:
    """(field, term) -> boost of each term in the query, and (field, None) -> the boost
    of expanding terms (prefixes, wildcards) in that field."""
    boosts: dict[tuple[str, str | None], float] = {}
    leaves = query.leaves() if query.children() else [query]
    for leaf in leaves:
        fieldname = leaf.field()
        if not fieldname:
            continue
        text = getattr(leaf, "text", None)
        key = (fieldname, text if isinstance(leaf, wq.Term) else None)
        boosts[key] = max(boosts.get(key, 0.0), leaf.boost)
    return boosts


def brief_json(fields: dict[str, Any], score: float | None) -> dict[str, Any]:
    """An article as a list item: what related articles and story versions show."""
    return {
        "id": fields["id"],
        "headline": fields.get("headline", ""),
        "date": fields.get("date_iso"),
        "source": fields.get("source_tag", ""),
        "lang": fields.get("lang", ""),
        "score": round(score, 4) if score is not None else None,
    }


def hit_json(hit: Any, sort: str, cluster_size: int) -> dict[str, Any]:
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
        **cluster_json(fields, cluster_size),
    }


def cluster_json(fields: dict[str, Any], cluster_size: int) -> dict[str, Any]:
    """The article's story cluster (search.dedup) and how many indexed articles it has.

    An article indexed before clusters existed has no cluster field: it is its own.
    """
    cluster = fields.get("cluster") or fields["id"]
    return {"cluster": cluster, "cluster_size": cluster_size}


def entities_json(fields: dict[str, Any]) -> dict[str, list[str]]:
    stored = fields.get("entities") or {}
    return {kind: list(stored.get(kind, [])) for kind in ENTITY_KINDS}


def article_json(fields: dict[str, Any], cluster_size: int) -> dict[str, Any]:
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
        **cluster_json(fields, cluster_size),
    }


def request_json(request: SearchRequest) -> dict[str, Any]:
    data = asdict(request)
    data["date_from"] = request.date_from.isoformat() if request.date_from else None
    data["date_to"] = request.date_to.isoformat() if request.date_to else None
    return data
