"""More like this, story collapsing, recency and "why this result", through the library,
the JSON API and the page, on a small corpus written here (fictional stories)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from search.cli import main
from search.config import RANKING
from search.errors import InvalidRequest, NotFound
from search.indexer import index_paths
from search.query import parse_query
from search.searcher import ArticleIndex, SearchRequest, query_boosts
from web import create_app

HARBOUR = (
    "Crane operators at the harbour in Lisbon stopped work on Tuesday morning after talks "
    "over pay and night shifts broke down late on Monday evening.\n\n"
    "The operators' union said its members had not had a rise in three years while the "
    "volume of containers passing through the port had grown by almost a third. Managers "
    "said the port could not afford the increase without raising its fees for shipping lines.\n\n"
    "By midday more than twenty ships were waiting at anchor outside the harbour mouth, and "
    "lorries queued along the riverside road for several kilometres as drivers waited to load.\n\n"
    "The harbour authority said it hoped to reopen talks on Wednesday. A spokeswoman for the "
    "union said the stoppage would last until a written offer was put to the members, and "
    "that a ballot on further action in the summer had not been ruled out by the committee."
)
# The same story re-published by another site: new headline, byline, ending trimmed.
HARBOUR_COPY = (
    "By Marta Sousa, Lisbon correspondent\n\n"
    + HARBOUR.rsplit(". ", 1)[0]
    + ".\n\nShare this article"
)
OLD_HARBOUR = (
    "Dock workers at the harbour in Porto voted to accept a new contract on Friday, ending "
    "a dispute over container handling that had lasted most of the winter. The harbour "
    "authority said ships would be unloaded normally from Monday, and the union thanked "
    "members for their patience during the long negotiations over shifts and pay."
)
NEW_HARBOUR = (
    "A new ferry terminal opened at the harbour in Faro on Saturday. The mayor said the "
    "terminal would carry twice as many passengers to the islands during the summer season, "
    "and local cafes expect more visitors along the waterfront."
)
COCOA = (
    "Cocoa futures rose to their highest level in a decade in London on Thursday as dry "
    "weather across west Africa threatened the main harvest for a second year running. "
    "Traders said farmers in Ghana and Ivory Coast had reported small pods and early wilting."
)
UNDATED = (
    "Pilots at the harbour guided a damaged cargo ship to safety after its engine failed in "
    "heavy seas. Nobody was hurt, the harbour master said, and the ship will be repaired."
)
ARTICLES = [
    {
        "id": "harbour-1",
        "title": "Lisbon crane operators strike",
        "date": "2024-03-10",
        "body": HARBOUR,
    },
    {
        "id": "harbour-2",
        "title": "Port of Lisbon at a standstill as cranes stop",
        "date": "2024-05-20",
        "body": HARBOUR_COPY,
    },
    {
        "id": "harbour-old",
        "title": "Porto dockers accept contract",
        "date": "2023-01-05",
        "body": OLD_HARBOUR,
    },
    {
        "id": "harbour-new",
        "title": "Faro opens ferry terminal",
        "date": "2024-06-01",
        "body": NEW_HARBOUR,
    },
    {
        "id": "cocoa",
        "title": "Cocoa at a ten-year high <i>again</i>",
        "date": "2024-05-01",
        "body": COCOA,
    },
    {"id": "pilots", "title": "Harbour pilots save cargo ship", "body": UNDATED},
]


def write_corpus(folder: Path) -> Path:
    """The corpus above as one JSON Lines file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "articles.jsonl"
    path.write_text("\n".join(json.dumps(article) for article in ARTICLES) + "\n")
    return path


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("features-index")
    source = write_corpus(tmp_path_factory.mktemp("features-input"))
    summary = index_paths([source], target, workers=1, entities=False, learn=False)
    assert summary.indexed == len(ARTICLES), summary.line()
    return target


@pytest.fixture(scope="module")
def ix(index_dir: Path) -> ArticleIndex:
    return ArticleIndex(index_dir)


@pytest.fixture()
def web(index_dir: Path) -> FlaskClient:
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    with app.test_client() as client:
        yield client


def ids(response: dict) -> list[str]:
    return [hit["id"] for hit in response["results"]]


def test_near_duplicates_share_a_cluster(ix: ArticleIndex) -> None:
    assert ix.article("harbour-1")["cluster"] == ix.article("harbour-2")["cluster"]
    assert ix.article("harbour-1")["cluster_size"] == 2
    assert ix.article("harbour-old")["cluster_size"] == 1


# --- story collapsing ------------------------------------------------------------------------


def test_copies_collapse_under_the_best_ranked_one(ix: ArticleIndex) -> None:
    collapsed = ix.search(SearchRequest(q="harbour", per_page=100))
    every = ix.search(SearchRequest(q="harbour", per_page=100, collapse=False))
    assert every["total"] == collapsed["total"] == 5  # total counts articles either way
    assert collapsed["stories"] == every["stories"] == 4
    assert len(every["results"]) == 5 and len(collapsed["results"]) == 4
    lisbon = [hit for hit in collapsed["results"] if hit["id"] in ("harbour-1", "harbour-2")]
    assert len(lisbon) == 1 and lisbon[0]["versions"] == 1
    # the one kept is the copy that ranks first among the uncollapsed results
    first_copy = next(i for i in ids(every) if i in ("harbour-1", "harbour-2"))
    assert lisbon[0]["id"] == first_copy
    others = [hit for hit in collapsed["results"] if hit is not lisbon[0]]
    assert all(hit["versions"] == 0 for hit in others)
    assert {hit["versions"] for hit in every["results"] if hit["cluster_size"] == 2} == {1}


def test_versions_count_only_copies_that_match(ix: ArticleIndex) -> None:
    # "Marta" is only in the re-published copy's byline
    response = ix.search(SearchRequest(q="Marta"))
    assert ids(response) == ["harbour-2"] and response["results"][0]["versions"] == 0


def test_collapsed_pages_are_consistent(ix: ArticleIndex) -> None:
    whole = ids(ix.search(SearchRequest(q="harbour", per_page=100)))
    paged = [
        ids(ix.search(SearchRequest(q="harbour", per_page=1, page=p)))[0] for p in (1, 2, 3, 4)
    ]
    assert paged == whole
    assert ids(ix.search(SearchRequest(q="harbour", per_page=1, page=5))) == []


def test_collapse_works_with_date_sorts(ix: ArticleIndex) -> None:
    newest = ix.search(SearchRequest(q="harbour", sort="newest", per_page=100))
    assert ids(newest)[:3] == ["harbour-new", "harbour-2", "harbour-old"]
    assert "harbour-1" not in ids(newest)


# --- recency ---------------------------------------------------------------------------------


def test_recency_moves_newer_articles_up(ix: ArticleIndex) -> None:
    relevance = ix.search(SearchRequest(q="harbour", per_page=100))
    recent = ix.search(SearchRequest(q="harbour", per_page=100, recency=0.9))
    assert relevance["recency"] == 0.0 and recent["recency"] == 0.9
    assert set(ids(relevance)) == set(ids(recent))
    assert ids(relevance).index("harbour-new") > 0
    assert ids(recent)[0] == "harbour-new"
    # the undated article (given the oldest article's decay) loses the top place it has
    # by relevance; the 17-month-old one sinks to the bottom
    assert ids(relevance)[0] == "pilots" and ids(recent).index("pilots") > 0
    assert ids(recent)[-1] == "harbour-old"
    scores = [hit["score"] for hit in recent["results"]]
    assert scores == sorted(scores, reverse=True)


def test_recency_one_half_is_between(ix: ArticleIndex) -> None:
    def score(recency: float, article: str) -> float:
        response = ix.search(SearchRequest(q="harbour", per_page=100, recency=recency))
        return next(hit["score"] for hit in response["results"] if hit["id"] == article)

    # the newest article keeps its whole score; older ones lose up to `recency` of it
    assert score(0.5, "harbour-new") == pytest.approx(score(0.0, "harbour-new"), rel=1e-3)
    old = [score(r, "harbour-old") for r in (0.0, 0.5, 1.0)]
    assert old[0] > old[1] > old[2] >= 0


def test_recency_is_ignored_by_date_sorts(ix: ArticleIndex) -> None:
    plain = ix.search(SearchRequest(q="harbour", sort="oldest"))
    recent = ix.search(SearchRequest(q="harbour", sort="oldest", recency=0.9))
    assert ids(plain) == ids(recent)


def test_recency_picks_the_copy_that_ranks_first_after_blending(ix: ArticleIndex) -> None:
    # harbour-1 has these words in its headline; its copy harbour-2 was re-published later
    relevance = ix.search(SearchRequest(q="operators Lisbon"))
    recent = ix.search(SearchRequest(q="operators Lisbon", recency=1.0))
    every = ix.search(SearchRequest(q="operators Lisbon", recency=1.0, collapse=False))
    assert ids(relevance) == ["harbour-1"] and relevance["results"][0]["versions"] == 1
    assert ids(every) == ["harbour-2", "harbour-1"]
    assert ids(recent) == ["harbour-2"]


def test_explain_weighs_terms_by_their_field_boost() -> None:
    boosts = query_boosts(parse_query("harbour").query)
    assert boosts[("headline", "harbour")] == RANKING.headline_boost
    assert boosts[("person", "harbour")] == RANKING.entity_boost
    assert query_boosts(parse_query("harb*").query)[("body", None)] == 1.0


@pytest.mark.parametrize("recency", [-0.1, 1.5, float("nan")])
def test_recency_out_of_range_is_refused(ix: ArticleIndex, recency: float) -> None:
    with pytest.raises(InvalidRequest, match="recency"):
        ix.search(SearchRequest(q="harbour", recency=recency))


# --- why it matched --------------------------------------------------------------------------


def test_explain_gives_matched_terms_and_shares(ix: ArticleIndex) -> None:
    response = ix.search(SearchRequest(q="harbour union", explain=True, collapse=False))
    assert response["results"]
    for hit in response["results"]:
        terms = hit["explain"]["terms"]
        assert {t["term"] for t in terms} <= {"harbour", "union"}
        assert {t["field"] for t in terms} <= {"headline", "body"}
        assert sum(t["share"] for t in terms) == pytest.approx(1.0, abs=1e-3)
        shares = [t["share"] for t in terms]
        assert shares == sorted(shares, reverse=True) and all(s > 0 for s in shares)
    lisbon = next(hit for hit in response["results"] if hit["id"] == "harbour-1")
    assert {(t["field"], t["term"]) for t in lisbon["explain"]["terms"]} == {
        ("body", "harbour"),
        ("body", "union"),
    }
    assert "explain" not in ix.search(SearchRequest(q="harbour"))["results"][0]


def test_explain_names_the_headline_and_recency(ix: ArticleIndex) -> None:
    response = ix.search(SearchRequest(q="pilots", explain=True, recency=0.5))
    explained = response["results"][0]["explain"]
    assert ("headline", "pilot") in {(t["field"], t["term"]) for t in explained["terms"]}
    # undated: the oldest article's decay (2023-01-05 is 513 days before 2024-06-01)
    assert explained["recency_factor"] == pytest.approx(0.5 + 0.5 * 0.5 ** (513 / 30), abs=1e-4)


# --- more like this and other versions -------------------------------------------------------


def test_related_excludes_the_article_and_its_copies(ix: ArticleIndex) -> None:
    related = ix.related("harbour-1")
    found = [item["id"] for item in related]
    assert found and "harbour-1" not in found and "harbour-2" not in found
    assert found[0] == "harbour-old"  # the other harbour strike story shares the most words
    assert found.index("harbour-old") < found.index("cocoa")
    assert set(related[0]) == {"id", "headline", "date", "source", "lang", "score"}
    assert len(ix.related("harbour-1", limit=1)) == 1
    with pytest.raises(NotFound):
        ix.related("no-such-article")


def test_versions_list_the_other_copies(ix: ArticleIndex) -> None:
    assert [item["id"] for item in ix.versions("harbour-1")] == ["harbour-2"]
    assert [item["id"] for item in ix.versions("harbour-2")] == ["harbour-1"]
    assert ix.versions("cocoa") == []


# --- the JSON API and the page ---------------------------------------------------------------


def test_api_search_parameters(web: FlaskClient) -> None:
    collapsed = web.get("/api/search?q=harbour&per_page=100").get_json()
    every = web.get("/api/search?q=harbour&per_page=100&collapse=false").get_json()
    assert (collapsed["total"], collapsed["stories"], len(collapsed["results"])) == (5, 4, 4)
    assert len(every["results"]) == 5 and every["collapse"] is False
    recent = web.get("/api/search?q=harbour&recency=0.9").get_json()
    assert recent["results"][0]["id"] == "harbour-new"
    explained = web.get("/api/search?q=harbour&explain=true").get_json()
    assert all(hit["explain"]["terms"] for hit in explained["results"])


@pytest.mark.parametrize(
    "query",
    ["recency=2", "recency=-1", "recency=soon", "recency=nan", "collapse=maybe", "explain=2"],
)
def test_api_bad_feature_values_are_400(web: FlaskClient, query: str) -> None:
    response = web.get(f"/api/search?q=harbour&{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter" and query.split("=")[0] in error["message"]
    assert web.get(f"/search?q=harbour&{query}").status_code == 400


def test_api_related(web: FlaskClient) -> None:
    data = web.get("/api/articles/harbour-1/related").get_json()
    assert data["id"] == "harbour-1"
    assert data["results"][0]["id"] == "harbour-old"
    assert [item["id"] for item in data["versions"]] == ["harbour-2"]
    assert len(web.get("/api/articles/harbour-1/related?limit=1").get_json()["results"]) == 1
    assert web.get("/api/articles/harbour-1/related?limit=0").status_code == 400
    missing = web.get("/api/articles/nothing-here/related")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_page_shows_versions_and_keeps_options_in_links(web: FlaskClient) -> None:
    page = web.get("/search?q=harbour&recency=0.5").get_data(as_text=True)
    assert "1 other version" in page
    assert re.search(r'<option value="0.5" selected', page)
    # pagination and sort links keep the feature parameters
    assert (
        "recency=0.5"
        in web.get("/search?q=harbour&recency=0.5&per_page=1")
        .get_data(as_text=True)
        .split('rel="next"')[1][:200]
    )
    every = web.get("/search?q=harbour&collapse=false").get_data(as_text=True)
    assert every.count('class="hit"') == 5
    assert web.get("/search?q=harbour").get_data(as_text=True).count('class="hit"') == 4


def test_page_explains_without_javascript(web: FlaskClient) -> None:
    page = web.get("/search?q=harbour").get_data(as_text=True)
    assert "<details" in page and "Why this result" in page
    assert re.search(r"body.{0,80}harbour.{0,80}\d+%", page, re.S)


def test_article_page_lists_related_and_versions(web: FlaskClient) -> None:
    page = web.get("/articles/harbour-1").get_data(as_text=True)
    related = page.split("Related articles")[1]
    assert "Porto dockers accept contract" in related
    versions = page.split("Other versions of this story")[1].split("Related articles")[0]
    assert "Port of Lisbon at a standstill as cranes stop" in versions
    assert "Lisbon crane operators strike" not in related + versions  # never itself
    assert related.index("Porto dockers") < related.index("Cocoa at a ten-year high")


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_search_options(index_dir: Path) -> None:
    runner = CliRunner()
    base = ["search", "harbour", "--index", str(index_dir)]
    collapsed = runner.invoke(main, base)
    assert collapsed.exit_code == 0, collapsed.output
    assert collapsed.output.startswith("5 articles match, 4 stories")
    assert "+ 1 other version of this story" in collapsed.output
    every = runner.invoke(main, [*base, "--no-collapse", "--json"])
    assert len(json.loads(every.output)["results"]) == 5
    recent = runner.invoke(main, [*base, "--recency", "0.9", "--explain"])
    assert recent.exit_code == 0, recent.output
    assert "[harbour-new]" in recent.output.split("\n\n")[1]
    assert "why: body:harbour 100% · recency ×1.0" in recent.output
    refused = runner.invoke(main, [*base, "--recency", "2"])
    assert refused.exit_code == 2 and "recency" in refused.output


def test_cli_related(index_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["related", "harbour-1", "--index", str(index_dir), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["results"][0]["id"] == "harbour-old"
    assert [item["id"] for item in data["versions"]] == ["harbour-2"]
    text = runner.invoke(main, ["related", "harbour-1", "--index", str(index_dir)]).output
    assert "Other versions: 1" in text and "[harbour-old]" in text
    missing = runner.invoke(main, ["related", "nothing", "--index", str(index_dir)])
    assert missing.exit_code == 1 and "No article has the id" in missing.output


def test_article_text_is_escaped_in_the_new_lists(web: FlaskClient) -> None:
    # The cocoa headline carries markup; it is shown as text wherever the new lists show it.
    assert "<i>again</i>" in web.get("/api/articles/cocoa").get_json()["headline"]
    page = web.get("/articles/harbour-1").get_data(as_text=True)
    assert "&lt;i&gt;again&lt;/i&gt;" in page and "<i>again" not in page
    results = web.get("/search?q=cocoa&explain=true").get_data(as_text=True)
    assert "&lt;i&gt;again&lt;/i&gt;" in results and "<i>again" not in results
