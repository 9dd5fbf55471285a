import contextlib
import re
from datetime import date

import pytest

from search.errors import InvalidRequest, NotFound, QueryError
from search.indexer import index_paths
from search.searcher import ArticleIndex, SearchRequest


def ids(response: dict) -> list[str]:
    return [hit["id"] for hit in response["results"]]


def every_id(articles: ArticleIndex, **fields) -> set[str]:
    response = articles.search(SearchRequest(per_page=100, **fields))
    assert response["total"] <= 100
    return set(ids(response))


def test_sample_corpus_is_fully_accounted_for(sample_index):
    _, summary = sample_index
    assert summary.line() == "read 42, indexed 39, unchanged 0, duplicates 2, rejected 1"


def test_response_has_the_contract_fields(articles):
    response = articles.search(SearchRequest(q="cocoa"))
    assert list(response)[:6] == ["query", "total", "page", "per_page", "sort", "filters"]
    assert {"took_ms", "results", "facets"} <= set(response)
    hit = response["results"][0]
    assert set(hit) == {
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
    }
    assert set(hit["entities"]) == {"person", "organization", "place", "other"}
    assert set(response["facets"]) == {"lang", "source", "person", "organization", "place", "year"}
    assert "<mark>" in "".join(h["snippet"] for h in response["results"])
    assert not any("… …" in h["snippet"] for h in response["results"])


def test_all_words_are_required_by_default(articles):
    cocoa = every_id(articles, q="cocoa")
    both = every_id(articles, q="cocoa Moonbar")
    assert both and both < cocoa
    assert every_id(articles, q="cocoa OR Hochwasser") == cocoa | every_id(articles, q="Hochwasser")


def test_not_and_minus_exclude(articles):
    flood = every_id(articles, q="flood")
    bristol = every_id(articles, q="Bristol")
    assert every_id(articles, q="flood -Bristol") == flood - bristol
    assert every_id(articles, q="flood NOT Bristol") == flood - bristol
    # totals and facets come from the same unscored walk as the page: they must agree
    response = articles.search(SearchRequest(q="flood -Bristol"))
    assert response["total"] == len(response["results"])


def test_phrases_and_fields(articles):
    assert len(every_id(articles, q='"harbour flood"')) < len(every_id(articles, q="harbour flood"))
    for hit in articles.search(SearchRequest(q="headline:strike"))["results"]:
        assert "strike" in hit["headline"].lower()
    german = articles.search(SearchRequest(q="lang:de", per_page=100))
    assert german["total"] == 6 and {h["lang"] for h in german["results"]} == {"de"}


def test_accents_are_folded(articles):
    assert every_id(articles, q="greve") == every_id(articles, q="grève")


def test_filters_narrow_and_match_facet_values(articles):
    everything = articles.search(SearchRequest(per_page=100))
    assert everything["total"] == 39
    langs = {item["value"]: item["count"] for item in everything["facets"]["lang"]}
    assert langs == {"en": 21, "de": 6, "fr": 6, "es": 6}
    for value, count in langs.items():
        assert articles.search(SearchRequest(lang=value.upper()))["total"] == count
    source = everything["facets"]["source"][0]
    assert articles.search(SearchRequest(source=source["value"]))["total"] == source["count"]
    person = everything["facets"]["person"][0]
    assert articles.search(SearchRequest(entity=person["value"]))["total"] == person["count"]


def test_facets_count_the_whole_result_set_not_the_page(articles):
    response = articles.search(SearchRequest(per_page=1))
    assert len(response["results"]) == 1
    assert sum(item["count"] for item in response["facets"]["lang"]) == response["total"]


def test_date_range_filter_never_matches_undated(articles):
    year_2024 = articles.search(
        SearchRequest(date_from=date(2024, 1, 1), date_to=date(2024, 12, 31), per_page=100)
    )
    assert year_2024["total"] > 0
    assert all(hit["date"].startswith("2024") for hit in year_2024["results"])
    years = {i["value"]: i["count"] for i in articles.search(SearchRequest())["facets"]["year"]}
    assert year_2024["total"] == years["2024"]


def test_sort_by_date_puts_undated_last(articles):
    for sort, reverse in (("newest", True), ("oldest", False)):
        hits = articles.search(SearchRequest(sort=sort, per_page=100))["results"]
        dates = [hit["date"] for hit in hits]
        dated = [d for d in dates if d]
        assert dates == dated + [None] * (len(dates) - len(dated))
        assert dated == sorted(dated, reverse=reverse)
        assert all(hit["score"] is None for hit in hits)


def test_pages_do_not_overlap_and_cover_the_results(articles):
    total = articles.search(SearchRequest(q="the OR a OR port OR cocoa"))["total"]
    seen: list[str] = []
    for page in range(1, total // 3 + 2):
        seen += ids(articles.search(SearchRequest(q="port OR cocoa", page=page, per_page=3)))
    assert len(seen) == len(set(seen)) == articles.search(SearchRequest(q="port OR cocoa"))["total"]


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"sort": "random"}, "sort must be one of"),
        ({"page": 0}, "page must be between"),
        ({"per_page": 101}, "per_page must be between"),
        ({"date_from": date(2024, 2, 1), "date_to": date(2024, 1, 1)}, "from must not be later"),
    ],
)
def test_bad_parameters_are_refused(articles, request_fields, message):
    with pytest.raises(InvalidRequest, match=message):
        articles.search(SearchRequest(**request_fields))


@pytest.mark.parametrize(
    ("text", "message"),
    [("AND", "no words to search for"), ("a*", "at least 3 letters"), ("x" * 2000, "limit")],
)
def test_unsearchable_queries_say_why(articles, text, message):
    with pytest.raises(QueryError, match=message):
        articles.search(SearchRequest(q=text))


@pytest.mark.parametrize("text", ['"lone quote', "(((", "cocoa)", "NOT", "econom*", "foo:bar"])
def test_odd_queries_answer_without_crashing(articles, text):
    with contextlib.suppress(QueryError):
        articles.search(SearchRequest(q=text))


def test_article_has_all_fields_and_unknown_id_is_not_found(articles):
    hit = articles.search(SearchRequest(q="cocoa"))["results"][0]
    article = articles.article(hit["id"])
    assert article["headline"] == hit["headline"] and article["body"]
    assert {"author", "entities_status", "path", "content_hash", "warnings"} <= set(article)
    with pytest.raises(NotFound):
        articles.article("no-such-id")


def test_snippets_escape_article_text_and_add_only_marks(tmp_path):
    hostile = tmp_path / "in" / "x.jsonl"
    hostile.parent.mkdir()
    hostile.write_text(
        '{"id": "x1", "title": "<script>alert(1)</script> Harbour news", "text": '
        '"The harbour <b onmouseover=\\"alert(2)\\">reopened</b> & \\"quotes\\" \'too\' '
        '<img src=x onerror=alert(3)> harbour."}\n'
    )
    index_paths([hostile.parent], tmp_path / "ix", entities=False)
    [hit] = ArticleIndex(tmp_path / "ix").search(SearchRequest(q="harbour"))["results"]
    snippet = hit["snippet"]
    assert "<mark>harbour</mark>" in snippet.lower()
    without_marks = re.sub(r"</?mark>", "", snippet)
    assert "<" not in without_marks and ">" not in without_marks
    assert "&lt;b onmouseover" in snippet
