"""The query language end to end: dates in the box, spelling suggestions, prefix caps
and parse errors, through ArticleIndex, the Flask client and the CLI, on a small corpus
written here (dated articles across 1987 and 2023-2024, one undated, one misspelling)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from whoosh.fields import ID, TEXT, Schema
from whoosh.index import create_in

import search.query
import search.spelling
from search.cli import main
from search.config import RANKING
from search.errors import QueryError
from search.indexer import index_paths
from search.searcher import ArticleIndex, SearchRequest
from web import create_app

ARTICLES = [
    (
        "a1987-1",
        "1987-03-10",
        "Cocoa exporters meet in Accra",
        "The government of Ghana hosted cocoa exporters.",
    ),
    (
        "a1987-2",
        "1987-11-02",
        "Coffee quotas debated",
        "Producers argued over coffee quotas in London.",
    ),
    (
        "a2023-1",
        "2023-01-15",
        "Port strike halts shipments",
        "Dock workers walked out; the government intervened.",
    ),
    (
        "a2023-2",
        "2023-06-10",
        "Government announces cocoa subsidy",
        "Farmers will receive support for cocoa.",
    ),
    (
        "a2023-3",
        "2023-07-05",
        "Harvest outlook improves",
        "Cocao farmers expect a better harvest this season.",
    ),
    (
        "a2023-4",
        "2023-12-30",
        "Cocoa prices end the year at a record",
        "Traders saw cocoa climb all year.",
    ),
    (
        "a2024-1",
        "2024-01-10",
        "Government budget vote",
        "Parliament approved the government budget.",
    ),
    ("a2024-2", "2024-03-05", "Election campaign opens", "Candidates toured the cocoa belt."),
    (
        "a2024-3",
        "2024-05-25",
        "Government cocoa reform passes",
        "The reform changes cocoa pricing.",
    ),
    ("a2024-4", "2024-06-14", "Rain delays harvest", "Heavy rain delayed the cocoa harvest."),
    ("a2024-5", "2024-06-19", "Farmers protest", "Farmers protested outside the ministry."),
    ("a2024-6", "2024-06-20", "Minister resigns", "The agriculture minister left the government."),
    ("undated", None, "Government cocoa history", "A history of cocoa and the government."),
]
# "japanse" is one edit from the stems of both Japan and Japanese: the suggestion must be
# the word closest to what was typed.
ARTICLES += [
    ("jp-1", None, "Japanese exports rise", "Japan sold more cars abroad."),
    ("jp-2", None, "Japan trade surplus grows", "Japanese banks lent more."),
]
# Enough cocoa for "cocao" (in one article) to count as a typo of it.
FILLER = [
    (f"fill-{n}", f"2023-02-{n + 1:02d}", f"Cocoa market report {n}", "Cocoa futures moved.")
    for n in range(12)
]


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("query-features")
    source = folder / "articles.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for article_id, day, headline, body in ARTICLES + FILLER:
            record = {"id": article_id, "headline": headline, "body": body, "source": "Test Wire"}
            if day:
                record["date"] = day
            out.write(json.dumps(record) + "\n")
    target = folder / "index"
    summary = index_paths([source], target, entities=False, learn=False, cluster_stories=False)
    assert summary.indexed == len(ARTICLES) + len(FILLER)
    return target


@pytest.fixture(scope="module")
def index(corpus_index: Path) -> ArticleIndex:
    return ArticleIndex(corpus_index)


@pytest.fixture()
def client(corpus_index: Path) -> FlaskClient:
    app = create_app({"INDEX_DIR": str(corpus_index), "TESTING": True})
    return app.test_client()


def ids(index: ArticleIndex, q: str, **params: object) -> set[str]:
    response = index.search(SearchRequest(q=q, per_page=100, **params))  # type: ignore[arg-type]
    assert response["total"] == len(response["results"])
    return {hit["id"] for hit in response["results"]}


def test_date_tokens_become_bounds_not_words(index):
    assert ids(index, "cocoa date:2023-06..2023-12") == {"a2023-2", "a2023-4"}
    assert ids(index, "date:1987") == {"a1987-1", "a1987-2"}
    assert ids(index, "date:2024-03-05") == {"a2024-2"}
    assert ids(index, "date:2024-06..") == {"a2024-4", "a2024-5", "a2024-6"}
    assert ids(index, "government date:..2023-01") == {"a1987-1", "a2023-1"}
    response = index.search(SearchRequest(q="cocoa date:2023-06..2023-12"))
    assert response["parsed"]["date_from"] == "2023-06-01"
    assert response["parsed"]["date_to"] == "2023-12-31"
    assert response["parsed"]["date_phrase"] == "date:2023-06..2023-12"
    assert "date" not in response["parsed"]["query"]


def test_query_dates_narrow_the_from_to_parameters(index):
    assert ids(index, "date:2023", date_from=date(2023, 6, 1)) == {"a2023-2", "a2023-3", "a2023-4"}
    # Disjoint ranges find nothing rather than failing.
    assert ids(index, "date:1987", date_from=date(2024, 1, 1)) == set()


def test_plain_language_dates(index):
    assert ids(index, "in 1987") == {"a1987-1", "a1987-2"}
    assert ids(index, "cocoa in March 1987") == {"a1987-1"}
    assert ids(index, "government since June 2023") == {"a2023-2", "a2024-1", "a2024-3", "a2024-6"}
    assert ids(index, "government before 2023") == {"a1987-1"}
    assert ids(index, "harvest after June 2023") == {"a2023-3", "a2024-4"}
    response = index.search(SearchRequest(q="government since June 2023"))
    assert response["parsed"]["date_phrase"] == "since June 2023"
    assert response["parsed"]["words"] == "government"
    assert response["parsed"]["dates"] == "since 2023-06-01"


def test_relative_dates_count_back_from_the_newest_article(index):
    # The newest article is dated 2024-06-20; the wall clock says something else.
    assert ids(index, "last week") == {"a2024-4", "a2024-5", "a2024-6"}
    assert ids(index, "yesterday") == {"a2024-5"}
    assert ids(index, "today") == {"a2024-6"}
    assert ids(index, "government last month") == {"a2024-3", "a2024-6"}
    assert ids(index, "government this year") == {"a2024-1", "a2024-3", "a2024-6"}
    assert index.search(SearchRequest(q="last year"))["parsed"]["date_from"] == "2023-06-21"


def test_words_that_only_look_like_dates_are_searched(index):
    response = index.search(SearchRequest(q="coffee in March"))
    assert response["parsed"]["date_from"] is None and response["parsed"]["date_phrase"] == ""
    assert ids(index, '"in 1987"') == set()  # quoted: a phrase, and "1987" is in no text


def test_unclosed_quote_is_searched_as_words_with_a_notice(index):
    response = index.search(SearchRequest(q='cocoa "subsidy'))
    assert {hit["id"] for hit in response["results"]} == {"a2023-2"}
    assert "Unclosed quote at character 7" in response["notice"]


def test_misspelt_word_gets_a_suggestion(index):
    response = index.search(SearchRequest(q="goverment budget"))
    assert response["suggestion"] == {"query": "government budget", "total": 1}
    # A typo that is in the index, once, against a word in many articles.
    response = index.search(SearchRequest(q="cocao"))
    assert response["total"] == 1
    assert response["suggestion"]["query"] == "cocoa"
    assert response["suggestion"]["total"] > 10
    # Dates stay as typed, and bound the corrected count too.
    response = index.search(SearchRequest(q="goverment in 2024"))
    assert response["suggestion"] == {"query": "government in 2024", "total": 3}
    assert "suggestion" not in index.search(SearchRequest(q="government budget"))
    assert index.search(SearchRequest(q="Japanse"))["suggestion"] == {
        "query": "Japanese",
        "total": 2,
    }


def test_no_close_words_are_looked_for_when_no_correction_could_find_enough(index, calls_to):
    """Known words must find FAR_MORE times the articles once corrected: past a tenth of
    the index that is impossible, and the closest-word search is not run at all."""
    searcher = index.searcher()
    reader, vocabulary = searcher.reader(), index.vocabulary(searcher)
    calls = calls_to(search.spelling, "closest_word")

    def suggest(typed: str, total: int):
        parsed = search.query.parse_query(typed, RANKING, None, languages=("en",))
        count = lambda query: len(list(searcher.docs_for_query(query)))  # noqa: E731
        return search.spelling.suggestion(reader, vocabulary, parsed, typed, total, count)

    tenth = reader.doc_count() // search.spelling.FAR_MORE
    assert suggest("cocao", 1)["query"] == "cocoa"
    suggest("cocao", tenth)  # ten times as many is still possible: looked for
    assert [call[2] for call in calls] == ["cocao", "cocao"]
    assert suggest("cocao", tenth + 1) is None
    # A known word, and hopeless: not looked for.
    assert [call[2] for call in calls] == ["cocao", "cocao"]
    # An unknown word needs only more articles: looked for, and the known one beside it.
    assert suggest("goverment cocao", tenth + 1)["query"] == "government cocoa"
    assert [call[2] for call in calls] == ["cocao", "cocao", "goverment", "cocao"]


def test_written_forms_are_read_once_a_generation(index, monkeypatch, calls_to):
    reader = index.searcher().reader()
    vocabulary = search.spelling.Vocabulary(reader)  # a fresh one: nothing remembered yet
    forms = search.spelling.written_forms
    calls = calls_to(search.spelling, "written_forms")
    first = vocabulary.written_forms(reader, "govern", "en")
    assert "government" in first and first == forms(reader, "govern", "en")
    assert vocabulary.written_forms(reader, "govern", "en") == first
    assert [call[1] for call in calls] == ["govern"]
    monkeypatch.setattr(search.spelling, "WRITTEN_CACHE", 1)
    vocabulary.written_forms(reader, "cocoa", "en")  # pushes "govern" out
    vocabulary.written_forms(reader, "govern", "en")
    assert [call[1] for call in calls] == ["govern", "cocoa", "govern"]


def test_the_vocabulary_counts_articles_as_whoosh_does_across_segments(tmp_path):
    schema = Schema(headline=TEXT(), body=TEXT(), id=ID(stored=True, unique=True))
    whoosh_index = create_in(str(tmp_path), schema)
    batches = [
        [("cocoa prices", "cocoa crop and cocoa talks"), ("coffee", "cocoa exporters")],
        [("cocoa deal", "coffee and tea"), ("tea", "cocoanut harvest")],
    ]
    for number, batch in enumerate(batches):  # one segment each
        with whoosh_index.writer(merge=False) as writer:
            for doc, (headline, body) in enumerate(batch):
                writer.add_document(headline=headline, body=body, id=f"{number}-{doc}")
    with whoosh_index.writer(merge=False) as writer:
        writer.delete_by_term("id", "1-1")
    with whoosh_index.reader() as reader:
        assert len(reader.leaf_readers()) == 2
        vocabulary = search.spelling.Vocabulary(reader)
        terms = {t.decode() for name in ("headline", "body") for t in reader.lexicon(name)}
        for term in terms:
            expected = sum(reader.doc_frequency(name, term) for name in ("headline", "body"))
            assert vocabulary.frequency(term) == expected, term
        assert vocabulary.frequency("cocoa") == 4  # 2 headlines + 2 bodies
        assert vocabulary.frequency("cacao") == 0
        assert vocabulary.within("cocoas", 1) == [("cocoa", 4)]
        assert sorted(vocabulary.within("cocoanuts", 2)) == [("cocoanut", 1)]


def test_prefix_expanding_to_too_many_words_is_refused(index, monkeypatch):
    assert ids(index, "harv*") == {"a2023-3", "a2024-4"}
    monkeypatch.setattr(
        search.query, "LIMITS", dataclasses.replace(search.query.LIMITS, max_prefix_terms=1)
    )
    assert ids(index, "harv*") == {"a2023-3", "a2024-4"}  # one word: harvest
    with pytest.raises(QueryError, match=r"'coc\*' matches 2 different words; the limit is 1"):
        index.search(SearchRequest(q="coc*"))  # cocoa and cocao


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("foo:bar", "Unknown field 'foo:' at character 1"),
        ("cocoa date:2023-13", "at character 7"),
        ("date:2024..2023", "ends before it starts"),
        ("co*", "at least 3 letters"),
    ],
)
def test_malformed_queries_are_400_with_the_error_shape(client, q, message):
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_query" and message in error["message"]
    page = client.get("/search", query_string={"q": q})
    assert page.status_code == 400 and message.replace("'", "&#39;") in page.text


def test_api_reports_how_the_query_was_read(client):
    data = client.get("/api/search", query_string={"q": "in 1987"}).get_json()
    assert data["total"] == 2
    assert data["parsed"]["date_from"] == "1987-01-01" and data["parsed"]["date_to"] == "1987-12-31"
    assert data["parsed"]["date_phrase"] == "in 1987"
    assert data["query"] == "in 1987"  # the contract field keeps what was typed


def test_page_shows_dates_and_suggestion_escaped(client):
    page = client.get("/search", query_string={"q": "<b>goverment</b> since June 2023"}).text
    assert "Showing articles since 2023-06-01" in page
    assert 'href="/search?q=%3Cb%3Egoverment%3C/b%3E"' in page  # search without the date
    assert "Did you mean" in page and "&lt;b&gt;government&lt;/b&gt; since June 2023" in page
    assert "<b>" not in page
    assert 'href="/help"' in page


def test_help_page_documents_the_language(client):
    page = client.get("/help")
    assert page.status_code == 200
    for example in (
        "date:2011-03..2011-06",
        "since March 2011",
        "last month",
        "econom*",
        "headline:",
    ):
        assert example in page.text


def test_cli_prints_the_suggestion_and_the_dates(corpus_index):
    result = CliRunner().invoke(
        main, ["search", "goverment since June 2023", "--index", str(corpus_index)]
    )
    assert result.exit_code == 0, result.output
    assert "Showing articles since 2023-06-01" in result.output
    assert "Did you mean: government since June 2023  (4 articles)" in result.output
