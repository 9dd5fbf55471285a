"""search.postings: plain queries matched and scored in bulk, held to Whoosh's own walk."""

import json
import pickle
import random
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from whoosh import formats
from whoosh import index as whoosh_index

from search import postings
from search.config import RANKING
from search.indexer import index_paths
from search.postings import Postings, Scored, evaluate, field_postings, ranked
from search.query import parse_query
from search.schema import INDEX_NAME
from search.scoring import NewsBM25F
from search.searcher import ArticleIndex, SearchRequest

# Few words, many articles: common terms span several posting blocks (Whoosh writes 128
# postings a block), and rare ones are inlined into the term table.
WORDS = [
    "harbour",
    "strike",
    "grain",
    "tanker",
    "minister",
    "budget",
    "coal",
    "flood",
    "court",
    "vote",
]
RARE = ["zeppelin", "quokka"]


def article(rng: random.Random, number: int, edition: int = 0) -> dict[str, str]:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
    if number % 97 == 0:
        body += " " + RARE[number % 2]
    headline = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
    return {
        "id": f"a{number}",
        "headline": f"{headline} {number} {edition}",  # no two articles alike
        "body": f"{body}. Edition {edition} of article {number}.",
        "date": f"2024-{1 + number % 12:02d}-{1 + number % 28:02d}",
        "source": "Fictional Wire",
    }


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two segments and deleted documents: 600 articles, then 200 new and 30 rewritten."""
    rng = random.Random(7)
    folder = tmp_path_factory.mktemp("postings")
    first = folder / "first.jsonl"
    first.write_text("".join(json.dumps(article(rng, n)) + "\n" for n in range(600)))
    second = folder / "second.jsonl"
    rows = [article(rng, n) for n in range(600, 800)]
    rows += [article(rng, n, edition=1) for n in range(0, 300, 10)]
    second.write_text("".join(json.dumps(row) + "\n" for row in rows))
    target = folder / "index"
    index_paths([first], target, entities=False, semantic=False)
    index_paths([second], target, entities=False, semantic=False)
    return target


@pytest.fixture()
def searcher(index_dir):
    ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    with ix.searcher(weighting=NewsBM25F(B=RANKING.b, K1=RANKING.k1)) as opened:
        yield opened


QUERIES = [
    "harbour",
    "strike grain",
    "tanker minister budget",
    "coal flood court vote harbour",
    "zeppelin",
    "quokka harbour",
    "edition",
    "nothingatall",
    "harbour nothingatall",
    "517",  # in one article: its postings are inlined in the term table
    '"harbour strike"',
    '"coal flood court"',
    '"strike harbour"~3',
    '"harbour strike" grain',
    '"edition 1 of article"',  # stop words: positions with gaps
    '"zeppelin nothingatall"',
]


def test_the_index_has_what_the_comparison_needs(searcher):
    reader = searcher.reader()
    assert len(list(reader.leaf_readers())) >= 2
    assert reader.has_deletions()
    assert searcher.doc_frequency("body", "harbour") > 300  # several posting blocks


@pytest.mark.parametrize("text", QUERIES)
def test_matches_and_scores_equal_whooshs_exhaustive_walk(searcher, text):
    parsed = parse_query(text, RANKING, None, languages=("en",))
    found = evaluate(parsed.query, searcher, Postings(searcher.reader()))
    assert found is not None
    expected = set(searcher.docs_for_query(parsed.query))
    assert set(found.docs.tolist()) == expected
    # optimize=False: Whoosh scores every match in full, without its block-quality skips
    hits = searcher.search(parsed.query, limit=None, optimize=False)
    whoosh_scores = {hit.docnum: hit.score for hit in hits}
    assert whoosh_scores.keys() == expected
    ours = dict(zip(found.docs.tolist(), found.scores.tolist(), strict=True))
    for docnum, score in whoosh_scores.items():
        assert ours[docnum] == pytest.approx(score, rel=1e-9)


def test_relaxed_any_word_queries_are_evaluated_too(searcher):
    parsed = parse_query("harbour zeppelin", RANKING, None, languages=("en",))
    assert parsed.relaxed is not None
    found = evaluate(parsed.relaxed, searcher, Postings(searcher.reader()))
    assert found is not None
    assert set(found.docs.tolist()) == set(searcher.docs_for_query(parsed.relaxed))


@pytest.mark.parametrize("text", ["harbour -strike", "harb*", "harbour OR NOT coal"])
def test_other_queries_are_left_to_whoosh(searcher, text):
    parsed = parse_query(text, RANKING, None, languages=("en",))
    assert evaluate(parsed.query, searcher, Postings(searcher.reader())) is None


def test_deleted_documents_never_match(searcher):
    reader = searcher.reader()
    found = evaluate(
        parse_query("edition", RANKING, None, languages=("en",)).query,
        searcher,
        Postings(reader),
    )
    assert found is not None
    assert not any(reader.is_deleted(docnum) for docnum in found.docs.tolist())
    assert len(found) == reader.doc_count()  # every live article says "Edition"


def test_a_small_cache_evicts_and_still_answers_the_same(searcher, monkeypatch):
    query = parse_query("coal flood court vote", RANKING, None, languages=("en",)).query
    full = evaluate(query, searcher, Postings(searcher.reader()))
    monkeypatch.setattr(postings, "CACHE_POSTINGS", 50)
    small = Postings(searcher.reader())
    again = evaluate(query, searcher, small)
    assert full is not None and again is not None
    assert np.array_equal(full.docs, again.docs)
    assert np.allclose(full.scores, again.scores)
    assert len(small._terms) == 1  # only the last term read is kept


def test_known_terms_are_the_readers_and_forgotten_past_the_bound(searcher, monkeypatch):
    reader = searcher.reader()
    present = [(name, text) for name, text in reader.all_terms() if name == "body"][:5]
    absent = [("body", b"zzqx-never-written"), ("headline", b"qqzz-nor-this")]
    monkeypatch.setattr(postings, "KNOWN_TERMS", 3)
    known = Postings(reader)
    for _ in range(2):  # the second time from memory, or after forgetting
        for term in present + absent:
            assert known.has(reader, *term) is (term in reader), term
    assert len(known._known) <= 3


def test_ranked_breaks_ties_by_docnum_and_keeps_the_best_of_each_story():
    scored = Scored(np.array([1, 2, 3, 4, 5, 6]), np.array([1.0, 3.0, 3.0, 2.0, 5.0, 0.5]))
    assert ranked(scored, 3) == [(5.0, 5), (3.0, 2), (3.0, 3)]
    assert [docnum for _, docnum in ranked(scored, None)] == [5, 2, 3, 4, 1, 6]
    # Documents 2, 3 and 5 are one story: its best, 5, stands for it.
    story = np.array([-1, -2, 9, 9, -5, 9, -7])
    assert ranked(scored, 3, story=story) == [(5.0, 5), (2.0, 4), (1.0, 1)]
    factor = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 10.0])
    assert ranked(scored, 2, factor=factor) == [(5.0, 6), (3.0, 2)]


def test_ranked_collapses_past_its_first_sorting_depth():
    # 40 copies of one story outscore everything else: the page still gets 3 stories.
    docs = np.arange(50)
    scores = np.concatenate([np.full(40, 10.0), np.arange(10, dtype=float)])
    story = np.concatenate([np.zeros(40, dtype=np.int64), -1 - np.arange(40, 50)])
    top = ranked(Scored(docs, scores), 3, story=story)
    assert [docnum for _, docnum in top] == [0, 49, 48]


def test_the_search_pages_through_bulk_ranked_stories_without_overlap(index_dir):
    articles = ArticleIndex(index_dir)
    seen: list[str] = []
    total = None
    for page in range(1, 4):
        response = articles.search(SearchRequest(q="harbour strike", page=page, per_page=20))
        total = response["stories"]
        seen += [hit["id"] for hit in response["results"]]
    assert len(seen) == len(set(seen)) == min(60, total)
    first = articles.search(SearchRequest(q="harbour strike", explain=True))
    for hit in first["results"]:
        assert "<mark>" in hit["snippet"]
        assert {term["field"] for term in hit["explain"]["terms"]} <= {"headline", "body"}


@pytest.mark.parametrize(
    "request_fields",
    [
        {"q": "harbour strike", "sort": "newest"},
        {"q": "harbour strike", "sort": "oldest", "page": 3},
        {"q": "", "sort": "newest", "per_page": 50},
        {"q": ""},
        {"q": "", "recency": 0.5},
        {"q": "coal", "recency": 0.7, "collapse": False},
    ],
)
def test_sorts_and_browsing_in_bulk_give_whooshs_order(index_dir, monkeypatch, request_fields):
    request = SearchRequest(**request_fields)
    articles = ArticleIndex(index_dir)
    bulk = articles.search(request)
    monkeypatch.setattr(postings, "evaluate", lambda *args: None)
    walked = ArticleIndex(index_dir).search(request)
    assert [hit["id"] for hit in bulk["results"]] == [hit["id"] for hit in walked["results"]]
    assert bulk["total"] == walked["total"] and bulk["facets"] == walked["facets"]
    assert len(bulk["results"]) == min(request.per_page, bulk["total"])


def test_a_phrase_kept_to_its_languages_is_evaluated_like_whoosh(searcher):
    # "the" is an English stop word, not a German one: the two readings differ in
    # length, so each is required to be in its languages (wq.Require).
    parsed = parse_query('"the harbour strike"', RANKING, None, languages=("de", "en"))
    assert "Require" in repr(parsed.query)
    found = evaluate(parsed.query, searcher, Postings(searcher.reader()))
    assert found is not None and len(found) > 0
    hits = searcher.search(parsed.query, limit=None, optimize=False)
    expected = {hit.docnum: hit.score for hit in hits}
    assert set(found.docs.tolist()) == expected.keys()
    for docnum, score in zip(found.docs.tolist(), found.scores.tolist(), strict=True):
        assert score == pytest.approx(expected[docnum], rel=1e-9)


def test_a_word_some_languages_stop_is_evaluated_like_whoosh(searcher, index_dir):
    # "the" is stopped in English, not in German: in English articles it matches every
    # one and scores nothing (InLanguages); "harbour" does the scoring.
    parsed = parse_query("the harbour", RANKING, None, languages=("de", "en"))
    assert "<stop word in en>" in str(parsed.query)
    tables = Postings(searcher.reader())
    found = evaluate(parsed.query, searcher, tables)
    assert found is not None and len(found) > 300
    hits = searcher.search(parsed.query, limit=None, optimize=False, terms=True)
    expected = {hit.docnum: hit.score for hit in hits}
    assert set(found.docs.tolist()) == expected.keys()
    for docnum, score in zip(found.docs.tolist(), found.scores.tolist(), strict=True):
        assert score == pytest.approx(expected[docnum], rel=1e-9)
    # The language filter is not a matched term: Whoosh's hits name only real words.
    sample = [hit.docnum for hit in hits[:20]]
    by_doc, _ = postings.matched_terms(parsed.query, searcher, tables, sample)
    for hit in hits[:20]:
        assert sorted(by_doc.get(hit.docnum, [])) == sorted(hit.matched_terms())


def test_exact_phrase_runs_equal_the_span_walk():
    # slop 1 takes a shortcut; the span walk with slop 1 is the same rule written out.
    from whoosh.query.spans import Span, bisect_spans

    def span_walk(positions):
        aspans = [Span(p) for p in positions[0]]
        for following in positions[1:]:
            bspans = [Span(p) for p in following]
            spans = set()
            for aspan in aspans:
                for bspan in bspans[bisect_spans(bspans, aspan.start) :]:
                    if aspan.start <= bspan.start and aspan.distance_to(bspan) == 1:
                        spans.add(aspan.to(bspan))
            if not spans:
                return False
            aspans = sorted(spans)
        return True

    rng = random.Random(11)
    for _ in range(2000):
        words = rng.randint(2, 4)
        positions = tuple(sorted(rng.sample(range(30), rng.randint(1, 6))) for _ in range(words))
        assert postings.has_spans(positions, 1) == span_walk(positions), positions


@pytest.mark.parametrize("fieldname", ["cluster", "lang", "day", "body"])
def test_field_postings_are_the_live_postings_of_every_term(searcher, fieldname: str) -> None:
    reader = searcher.reader()
    assert reader.has_deletions() and len(list(reader.leaf_readers())) == 2
    expected = [
        (raw.decode("utf-8"), list(reader.postings(fieldname, raw).all_ids()))
        for raw in reader.lexicon(fieldname)
    ]
    found = [(text, docs.tolist()) for text, docs in field_postings(reader, fieldname)]
    assert found == expected
    if fieldname == "body":  # long postings, read from the postings file, are covered too
        assert max(len(docs) for _, docs in found) > 100


def test_pinned_postings_are_the_ones_read_on_demand(searcher, monkeypatch) -> None:
    monkeypatch.setattr(postings, "PINNED_MIN", 20)
    monkeypatch.setattr(postings, "PINNED_POSTINGS", 3000)
    reader = searcher.reader()
    pinned = Postings(reader)
    pinned.pin_longest(reader, ["headline", "body"])
    assert pinned._pinned
    assert sum(len(docs) for docs, _ in pinned._pinned.values()) <= 3000
    longest = max(pinned._pinned, key=lambda key: len(pinned._pinned[key][0]))
    assert reader.doc_frequency(*longest) == max(
        reader.doc_frequency("body", text) for text in reader.lexicon("body")
    )
    plain = Postings(reader)
    for key, (docs, freqs) in pinned._pinned.items():
        assert reader.doc_frequency(*key) > 20
        expected_docs, expected_freqs = plain.term(reader, *key)
        assert docs.tolist() == expected_docs.tolist()
        assert freqs.tolist() == expected_freqs.tolist()
        assert pinned.term(reader, *key)[0] is docs
    for query in QUERIES:
        parsed = parse_query(query, RANKING, None).query
        a, b = evaluate(parsed, searcher, pinned), evaluate(parsed, searcher, plain)
        assert a is not None and b is not None
        assert a.docs.tolist() == b.docs.tolist() and a.scores.tolist() == b.scores.tolist()


def test_an_empty_index_has_no_postings_to_pin_or_list(tmp_path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    index_paths([empty], tmp_path / "index", entities=False, semantic=False)
    ix = whoosh_index.open_dir(str(tmp_path / "index"), indexname=INDEX_NAME)
    with ix.searcher() as opened:
        reader = opened.reader()
        tables = Postings(reader)
        tables.pin_longest(reader, ["headline", "body"])
        assert not tables._pinned and field_postings(reader, "cluster") == []
    assert ArticleIndex(tmp_path / "index").search(SearchRequest(q="harbour"))["total"] == 0


@pytest.mark.parametrize("fieldname", ["body", "headline"])
def test_positions_read_in_bulk_are_whooshs(searcher, fieldname: str) -> None:
    reader = searcher.reader()
    text = b"harbour"
    expected = {}
    matcher = reader.postings(fieldname, text)
    while matcher.is_active():
        expected[matcher.id()] = matcher.value_as("positions")
        matcher.next()
    # Every third document: blocks are skipped, and some are read for a few postings.
    docs = np.array(sorted(expected)[::3], dtype=np.int32)
    assert len(expected) > 2 * 128 and docs[-1] >= next(reversed(list(reader.leaf_readers())))[1]
    counts, flat = postings.read_positions(reader, fieldname, text, docs)
    found = [part.tolist() for part in np.split(flat, np.cumsum(counts)[:-1])]
    assert found == [expected[doc] for doc in docs.tolist()]


@pytest.mark.parametrize("fmt", [formats.Positions(), formats.Characters()])
def test_positions_decode_like_whoosh_with_large_gaps_and_without_stop(fmt) -> None:
    rng = random.Random(5)
    lists = [[0], [3], [70_000], [1, 300, 70_000, 5_000_000]]
    lists += [sorted(rng.sample(range(100_000), rng.randint(1, 9))) for _ in range(200)]
    if isinstance(fmt, formats.Characters):
        values = [fmt.encode([(p, 7 * p, 7 * p + 5) for p in poses]) for poses in lists]
    else:
        values = [fmt.encode(poses) for poses in lists]
    values[1] = values[1][:-1]  # older Whoosh wrote the pickle without its STOP
    counts, flat = postings.decode_positions(fmt, values)
    assert [part.tolist() for part in np.split(flat, np.cumsum(counts)[:-1])] == lists
    assert lists == [fmt.decode_positions(value) for value in values]


def test_long_lists_are_read_by_strides_and_equal_whooshs(searcher, monkeypatch) -> None:
    strided = []
    real = postings.strided_block
    monkeypatch.setattr(
        postings, "strided_block", lambda raw, size: strided.append(real(raw, size)) or strided[-1]
    )
    reader = searcher.reader()
    terms = [text for _, text in reader.most_frequent_terms("body", 8)] + [b"zeppelin"]
    ours = [postings.read_postings(reader, "body", text) for text in terms]
    monkeypatch.setattr(postings, "strided_block", lambda raw, size: None)
    for (docs, freqs), text in zip(ours, terms, strict=True):
        unpickled_docs, unpickled_freqs = postings.read_postings(reader, "body", text)
        assert docs.tolist() == unpickled_docs.tolist()
        assert freqs.tolist() == unpickled_freqs.tolist()
    assert sum(found is not None for found in strided) > 10


def whoosh_block(ids: list[int], weights: object, values: int = 0) -> bytes:
    """A block's data as Whoosh's writer pickles it: ids as gaps, weights minified."""
    gaps = tuple(ids[:1] + [b - a for a, b in pairwise(ids)])
    return pickle.dumps((gaps, weights, tuple(b"\x00\x01" * n for n in range(values))), 2)


@pytest.mark.parametrize(
    "ids, weights",
    [
        (list(range(700, 828)), None),  # dense, every weight 1
        (list(range(0, 256, 2)), 3.0),  # one weight for all
        ([70_000 + 3 * n for n in range(50)], tuple(float(n % 7 + 1) for n in range(50))),
        ([5, 300, 900, 901], (1.0, 2.0, 1.0, 4.0)),  # gaps of 256 and more: unpickled
        ([1, 2, 3], (1.0, 2.0, 3.0)),  # three postings pickle as TUPLE3: unpickled
        (list(range(10)), (*[1.5] * 9, 2)),  # an int among the floats: unpickled
    ],
)
def test_strided_block_reads_what_unpickling_reads_or_declines(ids, weights) -> None:
    raw = whoosh_block(ids, weights, values=len(ids))
    expected_ids, expected_weights = postings.unpickled_block(raw, len(ids))
    found = postings.strided_block(raw, len(ids))
    dense = len(ids) > 3 and all(b - a < 256 for a, b in pairwise(ids))
    plain_floats = weights is None or all(
        isinstance(w, float) for w in (weights if isinstance(weights, tuple) else [weights])
    )
    assert (found is not None) == (dense and plain_floats)
    if found is not None:
        assert found[0].tolist() == expected_ids.tolist()
        assert found[1].tolist() == expected_weights.tolist()
