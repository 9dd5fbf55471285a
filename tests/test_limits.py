"""The server-enforced time limit: a search past LIMITS.search_seconds stops with a 400."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from search import searcher as searcher_module
from search.errors import SearchTimeout
from search.searcher import ArticleIndex, SearchRequest


@pytest.fixture()
def no_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        searcher_module, "LIMITS", replace(searcher_module.LIMITS, search_seconds=0)
    )


def test_matching_stops_at_the_deadline(articles: ArticleIndex, no_time: None) -> None:
    with pytest.raises(SearchTimeout, match="longer than 0 s"):
        articles.search(SearchRequest(q="harbour"))


def test_ranking_stops_at_the_deadline(articles: ArticleIndex) -> None:
    """Matching done in time, ranking past it: the collector under Whoosh's stops too."""
    request = SearchRequest(q="harbour")
    searcher = articles.searcher()
    facets = articles.facet_cache(searcher)
    match = articles.match(request, searcher, facets)
    assert match.docs
    with pytest.raises(SearchTimeout):
        articles.rank(request, searcher, match, facets, deadline=time.perf_counter() - 1)
    # With time to spare, the same ranking (collapsed, terms kept) gives hits.
    results = articles.rank(request, searcher, match, facets, deadline=time.perf_counter() + 60)
    assert len(results) > 0


def test_the_api_answers_a_timeout_with_a_400(client, no_time: None) -> None:
    response = client.get("/api/search?q=harbour")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "search_timeout" and "narrow" in error["message"]
    page = client.get("/search?q=harbour")
    assert page.status_code == 400 and "longer than" in page.get_data(as_text=True)
