"""Semantic vectors (search.semantic) and hybrid ranking (search.hybrid), end to end.

The articles are team-written, fictional, and chosen so that the query's words miss the
article they mean ("lunar expedition postponed" for a story about a delayed moon landing).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient

from search import semantic
from search.hybrid import RERANK_DEPTH, SemanticMatch, rerank
from search.indexer import index_paths
from search.models import Article
from search.searcher import ArticleIndex, SearchRequest
from web import create_app

ARTICLES = [
    (
        "moon",
        "Space agency delays its crewed moon landing by a year",
        "The agency said on Tuesday that the crew will not set foot on the Moon before "
        "next autumn. Engineers found cracks in the heat shield of the capsule after the "
        "last test flight, and the landing craft is running behind schedule.",
    ),
    (
        "cocoa",
        "Cocoa farmers plant shade trees to fight the heat",
        "Growers in the hills are planting taller trees between their cocoa bushes, "
        "hoping the shade will protect the pods from a hotter and drier climate.",
    ),
    (
        "derby",
        "City win the derby with a late header",
        "A header in the last minute gave City a two-one win over their neighbours in "
        "front of a full stadium on Saturday evening.",
    ),
    (
        "fr-greve",
        "Les dockers de Marseille en grève",
        "Les dockers du port de Marseille ont cessé le travail mardi pour protester "
        "contre la réforme des horaires.",
    ),
]
MISMATCHED_QUERY = "lunar expedition of astronauts postponed"


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "articles.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for article_id, headline, body in ARTICLES:
            record = {"id": article_id, "headline": headline, "body": body}
            out.write(json.dumps(record) + "\n")
    return source


@pytest.fixture(scope="module")
def semantic_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("semantic")
    target = folder / "index"
    summary = index_paths([write_corpus(folder)], target, entities=False, learn=False)
    assert summary.indexed == len(ARTICLES)
    return target


@pytest.fixture(scope="module")
def words_only_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("words-only")
    target = folder / "index"
    index_paths([write_corpus(folder)], target, entities=False, learn=False, semantic=False)
    return target


def test_passages_cover_the_start_of_the_text_in_overlapping_pieces():
    body = " ".join(f"w{n}" for n in range(1000))
    pieces = semantic.passages("Headline", body)
    assert len(pieces) == semantic.MAX_PASSAGES
    assert pieces[0].split()[0] == "Headline."
    first, second = pieces[0].split(), pieces[1].split()
    assert len(first) == semantic.PASSAGE_WORDS + semantic.PASSAGE_OVERLAP
    assert second[0] == first[semantic.PASSAGE_WORDS]  # the overlap is read twice
    assert semantic.passages("", "") == []


def test_article_vectors_are_unit_float16_and_mean_what_they_say():
    vectors = semantic.article_vectors(
        [
            ("Dockworkers strike at the port", "Ships wait offshore as unions walk out."),
            ("Harbour workers walk out", "Cargo piles up on the quay during the stoppage."),
            ("A recipe for lemon cake", "Beat the butter and sugar, then fold in the flour."),
            ("", ""),
        ]
    )
    assert [len(v) for v in vectors] == [semantic.VECTOR_BYTES] * 3 + [0]
    strike, walkout, cake = (semantic.from_bytes(v) for v in vectors[:3])
    assert strike is not None and walkout is not None and cake is not None
    assert abs(float(np.linalg.norm(strike)) - 1.0) < 1e-2
    assert float(strike @ walkout) > float(strike @ cake) + 0.2
    assert semantic.from_bytes(b"") is None


def test_a_query_is_encoded_on_one_thread_and_articles_on_every_core():
    import torch

    semantic.encode(["harbour strike", "cocoa farmers"])
    assert torch.get_num_threads() == semantic.ENCODE_THREADS
    one = semantic.encode(["harbour strike"])
    assert torch.get_num_threads() == 1
    # The same vector either way: threads change the speed, not the meaning.
    assert np.allclose(one[0], semantic.encode(["harbour strike", "x"])[0], atol=1e-5)


def test_a_query_vector_is_the_float32_models_to_within_bfloat16():
    text = "what happened to the harbour workers and their union"
    exact = semantic.encode([text])[0]
    query = semantic.query_vector(text)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-6
    assert float(query @ exact) > 0.999
    if semantic.native_bfloat16():
        import torch

        assert next(semantic.query_model().parameters()).dtype == torch.bfloat16


def test_only_languages_the_model_reads_get_a_vector():
    def article(article_id: str, lang: str) -> Article:
        return Article(article_id, "Headline", "Some body text.", lang, None, False,
                       "", "", "", "", "hash")  # fmt: skip

    english, french = article("en", "en"), article("fr", "fr")
    semantic.add_vectors([english, french])
    assert len(english.vector) == semantic.VECTOR_BYTES
    assert french.vector == b""
    assert "vector" not in english.to_json()


class FakeVectors:
    def __init__(self, by_docnum: dict[int, list[float]]) -> None:
        self.by_docnum = {d: np.array(v, dtype=np.float32) for d, v in by_docnum.items()}

    def get(self, docnum: int) -> np.ndarray | None:
        return self.by_docnum.get(docnum)


def test_rerank_blends_words_and_meaning_and_adds_one_per_story():
    query = np.array([1.0, 0.0], dtype=np.float32)
    vectors = FakeVectors({1: [0.0, 1.0], 2: [1.0, 0.0], 5: [0.9, 0.1], 6: [0.8, 0.2]})
    top_n = [(10.0, 1), (8.0, 2), (4.0, 3)]  # 3 has no vector (another language)
    match = SemanticMatch(query, nearest={5: 0.9, 6: 0.8, 7: 0.7})
    stories = {5: "s", 6: "s", 7: "#1"}.get
    ranked, cosines = rerank(top_n, match, vectors, 0.7, lambda d: stories(d) or f"#{d}")
    order = [docnum for _, docnum in ranked]
    # 2 has words and meaning (0.7 x 1.0 + 0.3 x 0.8); 3 has no vector and gets the median
    # cosine, 0.9; 5 has meaning alone (0.7 x 0.9) and beats 1, which has words alone
    # (0.3 x 1.0). 6 shares 5's story and 7 shares 1's, so neither joins.
    assert order == [2, 3, 5, 1]
    assert cosines[1] == pytest.approx(0.0) and cosines[2] == pytest.approx(1.0)
    scores = [score for score, _ in ranked]
    assert scores == sorted(scores, reverse=True)


def test_a_near_article_from_the_tail_joins_the_head_once():
    query = np.array([1.0, 0.0], dtype=np.float32)
    top_n = [(float(1000 - n), n) for n in range(RERANK_DEPTH + 3)]
    vectors = FakeVectors({n: [0.0, 1.0] for n in range(RERANK_DEPTH + 3)})
    far_down = RERANK_DEPTH + 1
    ranked, _ = rerank(top_n, SemanticMatch(query, {far_down: 0.95}), vectors, 0.7, lambda d: d)
    order = [docnum for _, docnum in ranked]
    assert order[0] == far_down
    assert order.count(far_down) == 1
    assert len(order) == len(top_n)


def test_rerank_keeps_the_tail_in_word_order_below_the_head():
    query = np.array([1.0, 0.0], dtype=np.float32)
    top_n = [(float(1000 - n), n) for n in range(RERANK_DEPTH + 5)]
    # The tail's last article is the nearest in meaning: it stays in the tail.
    vectors = FakeVectors({n: [0.0, 1.0] for n in range(RERANK_DEPTH + 4)} | {104: [1.0, 0.0]})
    ranked, _ = rerank(top_n, SemanticMatch(query), vectors, 0.7, lambda d: d)
    assert [d for _, d in ranked[RERANK_DEPTH:]] == list(range(RERANK_DEPTH, RERANK_DEPTH + 5))
    scores = [score for score, _ in ranked]
    assert scores == sorted(scores, reverse=True)


def found(index_dir: Path, q: str, **params: object) -> list[str]:
    response = ArticleIndex(index_dir).search(SearchRequest(q=q, **params))  # type: ignore[arg-type]
    return [hit["id"] for hit in response["results"]]


def test_a_long_query_finds_the_article_it_means_without_its_words(
    semantic_index, words_only_index
):
    assert found(semantic_index, MISMATCHED_QUERY)[0] == "moon"
    # Without vectors the same words find nothing but a relaxed miss.
    assert "moon" not in found(words_only_index, MISMATCHED_QUERY)


def test_unrelated_articles_are_not_brought_in(semantic_index):
    assert found(semantic_index, MISMATCHED_QUERY) == ["moon"]
    assert "derby" not in found(semantic_index, "shade trees protect cocoa pods from heat")


def test_short_queries_still_require_every_word(semantic_index):
    assert found(semantic_index, "moon landing") == ["moon"]
    assert found(semantic_index, "lunar astronauts") == []


def test_semantic_ranking_is_off_for_sorted_and_operator_queries(semantic_index):
    assert found(semantic_index, MISMATCHED_QUERY, sort="newest") == []
    assert "moon" not in found(semantic_index, f"{MISMATCHED_QUERY} OR cocoa")


@pytest.fixture()
def client(semantic_index: Path) -> FlaskClient:
    return create_app({"INDEX_DIR": str(semantic_index), "TESTING": True}).test_client()


def test_json_endpoint_explains_the_semantic_share(client):
    response = client.get("/api/search", query_string={"q": MISMATCHED_QUERY, "explain": "true"})
    assert response.status_code == 200
    [hit] = response.get_json()["results"]
    assert hit["id"] == "moon"
    explained = hit["explain"]["semantic"]
    assert explained["share"] == 0.7
    assert 0.4 <= explained["similarity"] <= 1.0
    assert hit["explain"]["terms"] == []  # none of its words matched


def test_search_page_says_a_hit_was_found_by_meaning(client):
    response = client.get("/", query_string={"q": MISMATCHED_QUERY, "explain": "true"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Space agency delays its crewed moon landing" in page
    assert "none of its words is here" in page
    assert "It matches every article" not in page


def test_recency_multiplies_the_blended_score():
    query = np.array([1.0, 0.0], dtype=np.float32)
    vectors = FakeVectors({1: [1.0, 0.0], 2: [1.0, 0.0]})
    factors = {1: 1.0, 2: 0.5}
    # Whoosh's scores already carry the factor: 2 has the same words as 1.
    top_n = [(10.0, 1), (5.0, 2)]
    ranked, _ = rerank(top_n, SemanticMatch(query), vectors, 0.7, lambda d: d, factors.get)
    assert dict((d, s) for s, d in ranked) == pytest.approx({1: 1.0, 2: 0.5})


def test_an_index_made_before_vectors_is_searched_by_words(tmp_path):
    from whoosh import index as whoosh_index

    from search.indexer import write_article
    from search.schema import INDEX_NAME, build_schema

    schema = build_schema()
    schema.remove("vector")
    ix = whoosh_index.create_in(tmp_path, schema, indexname=INDEX_NAME)
    article = Article("old", "Space agency delays moon landing", "The crew waits.", "en",
                      None, False, "", "", "", "", "hash")  # fmt: skip
    with ix.writer() as writer:
        write_article(writer, article, replace=False)
    for q in ("moon landing", MISMATCHED_QUERY):
        response = ArticleIndex(tmp_path).search(SearchRequest(q=q, explain=True))
        assert all("semantic" not in hit["explain"] for hit in response["results"])
    assert found(tmp_path, "moon landing") == ["old"]
