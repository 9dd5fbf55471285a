"""Story signatures and clusters (search.dedup), alone and inside the indexer."""

import json
import random

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHashLSH
from whoosh import index as whoosh_index

from search.dedup import (
    LSH_BANDS,
    LSH_ROWS,
    MIN_CONTAINMENT,
    NUM_PERM,
    BandIndex,
    Signature,
    StoryClusters,
    band_keys,
    containment,
    story_shingles,
    story_signature,
)
from search.indexer import index_paths
from search.schema import INDEX_NAME, build_schema
from search.searcher import ArticleIndex, SearchRequest

# Fictional stories written for these tests.
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
COCOA = (
    "Cocoa futures rose to their highest level in a decade in London on Thursday as dry "
    "weather across west Africa threatened the main harvest for a second year running.\n\n"
    "Traders said farmers in Ghana and Ivory Coast had reported small pods and early wilting "
    "on many plantations, and exporters were holding back sales until the crop was clearer.\n\n"
    "Chocolate makers have already raised prices twice this year and warned that a third "
    "increase could follow before the winter holidays if the beans stay this expensive.\n\n"
    "Analysts at a commodities broker said stocks held in European warehouses had fallen to "
    "their lowest level since records began, leaving little room for any further shortfall."
)


def republished(body: str) -> str:
    """The harbour story as a syndicating site prints it: byline, furniture, ending trimmed."""
    paragraphs = body.split("\n\n")
    last = paragraphs[-1].split(". ")
    paragraphs[-1] = ". ".join(last[: len(last) // 2]) + "."
    paragraphs.insert(0, "By Marta Sousa, Lisbon correspondent for the Evening Courier")
    paragraphs.insert(2, "Advertisement")
    paragraphs.append("Share this article")
    paragraphs.append("The Courier is not responsible for the content of external sites")
    return "\n\n".join(paragraphs)


def test_shingles_ignore_case_and_short_lines():
    with_byline = "By Jane Doe\n\n" + HARBOUR.upper() + "\n\nShare this"
    assert story_shingles(with_byline) == story_shingles(HARBOUR)
    assert "crane operators at the harbour" in story_shingles(HARBOUR)


def test_a_body_of_short_lines_still_has_shingles():
    lines = "\n".join(["Wales 24 Italy 12", "Scotland 10 France 31", "Ireland 19 England 17"])
    assert len(story_shingles(lines)) == 8


def test_too_short_a_body_has_no_signature():
    assert story_signature("Pictures from the harbour strike.") is None
    assert story_signature("") is None
    assert story_signature(HARBOUR) is not None


def test_signature_round_trips_through_bytes():
    signature = story_signature(HARBOUR)
    assert signature is not None
    restored = Signature.from_bytes(signature.to_bytes())
    assert restored is not None
    assert restored.shingles == signature.shingles
    assert restored.minhash.jaccard(signature.minhash) == 1.0
    assert Signature.from_bytes(signature.to_bytes()[:-4]) is None


def test_containment_of_a_trimmed_copy_is_estimated_well():
    half = "\n\n".join(HARBOUR.split("\n\n")[:2])
    full, part = story_shingles(HARBOUR), story_shingles(half)
    true_containment = len(full & part) / len(part)
    jaccard = len(full & part) / len(full | part)
    a, b = story_signature(HARBOUR), story_signature(half)
    assert a is not None and b is not None
    assert jaccard < MIN_CONTAINMENT <= true_containment  # Jaccard alone would miss it
    assert containment(a, b) == pytest.approx(true_containment, abs=0.12)
    assert containment(a, b) == containment(b, a)


def test_near_duplicates_join_the_first_articles_cluster_and_it_stays():
    clusters = StoryClusters()
    assert clusters.add("first", story_signature(HARBOUR)) == "first"
    assert clusters.add("copy", story_signature(republished(HARBOUR))) == "first"
    assert clusters.add("cocoa", story_signature(COCOA)) == "cocoa"
    assert clusters.add("copy-of-copy", story_signature(republished(HARBOUR))) == "first"
    assert len(clusters) == 4
    assert clusters.cluster_of("copy-of-copy") == "first"


def test_match_only_looks_and_a_removed_founder_keeps_its_cluster_id():
    clusters = StoryClusters()
    clusters.add("first", story_signature(HARBOUR))
    clusters.add("copy", story_signature(republished(HARBOUR)))
    signature = story_signature(HARBOUR)
    assert signature is not None
    assert clusters.match(signature) == "first"
    assert len(clusters) == 2
    clusters.remove("first")
    assert "first" not in clusters
    assert clusters.match(signature) == "first"  # through "copy", which carries the id


def test_adding_an_id_again_replaces_it():
    clusters = StoryClusters()
    clusters.add("a", story_signature(HARBOUR))
    assert clusters.add("a", story_signature(COCOA)) == "a"
    assert len(clusters) == 1
    signature = story_signature(HARBOUR)
    assert signature is not None and clusters.match(signature) is None


def test_a_restored_cluster_is_kept_and_unsigned_articles_are_alone():
    clusters = StoryClusters()
    assert clusters.add("b", story_signature(HARBOUR), cluster="a") == "a"
    assert clusters.add("short", None) == "short"
    assert "short" not in clusters


def planted_signatures(count: int, seed: int = 7) -> np.ndarray:
    """Random hash values where many rows copy one or more bands of an earlier row."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**32, size=(count, NUM_PERM), dtype=np.uint32)
    for row in range(1, count):
        for _ in range(int(rng.integers(0, 3))):
            band = int(rng.integers(0, LSH_BANDS)) * LSH_ROWS
            source = int(rng.integers(0, row))
            values[row, band : band + LSH_ROWS] = values[source, band : band + LSH_ROWS]
    return values


@pytest.mark.parametrize("max_run", [BandIndex.MAX_RUN, 2000])
def test_band_index_finds_what_datasketch_finds_across_flushes_and_merges(monkeypatch, max_run):
    monkeypatch.setattr(BandIndex, "BUFFER", 7)  # many runs and merges in 300 rows
    monkeypatch.setattr(BandIndex, "MAX_RUN", max_run)  # 2000 keys: 47 articles a run
    values = planted_signatures(300)
    bands, reference = BandIndex(), MinHashLSH(num_perm=NUM_PERM, params=(LSH_BANDS, LSH_ROWS))
    for row, hashvalues in enumerate(values):
        lean = LeanMinHash(seed=1, hashvalues=hashvalues, scheme="affine32")
        expected = sorted(int(key) for key in reference.query(lean)) if row else []
        assert bands.candidates(band_keys(hashvalues)).tolist() == expected
        bands.insert(row, band_keys(hashvalues))
        reference.insert(row, lean)
    assert len(bands._runs) > 1 and bands._pending  # the query really crossed runs and buffer
    assert all(len(keys) <= max_run for keys, _ in bands._runs)
    if max_run < BandIndex.MAX_RUN:
        assert len(bands._runs) >= 300 * LSH_BANDS // max_run


def test_clusters_match_as_datasketch_lsh_with_candidate_by_candidate_containment(monkeypatch):
    # The reference is the implementation StoryClusters replaced: datasketch's LSH for the
    # candidates, containment() one candidate at a time, ties to the earliest added.
    monkeypatch.setattr(BandIndex, "BUFFER", 5)
    paragraphs = (HARBOUR + "\n\n" + COCOA).split("\n\n")
    rng = random.Random(3)
    bodies = ["\n\n".join(rng.sample(paragraphs, rng.randint(2, 5))) for _ in range(60)]
    clusters = StoryClusters()
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(LSH_BANDS, LSH_ROWS))
    added: list[tuple[str, Signature, str]] = []
    grouped = 0
    for number, body in enumerate(bodies):
        signature = story_signature(body)
        assert signature is not None
        scored = [
            (-containment(signature, other), order, cluster)
            for order, (article, other, cluster) in enumerate(added)
            if article in set(lsh.query(signature.minhash))
        ]
        best = min(scored, default=None)
        expected = best[2] if best and -best[0] >= MIN_CONTAINMENT else None
        assert clusters.match(signature) == expected
        cluster = clusters.add(f"a{number}", signature)
        assert cluster == (expected or f"a{number}")
        grouped += expected is not None
        lsh.insert(f"a{number}", signature.minhash)
        added.append((f"a{number}", signature, cluster))
    assert 0 < grouped < len(bodies)  # both answers were exercised


# ------------------------------------------------------------------------------ indexer


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def cluster_view(index_dir, article_id):
    article = ArticleIndex(index_dir).article(article_id)
    return article["cluster"], article["cluster_size"]


def test_indexer_stores_clusters_and_keeps_them_across_runs(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    write_jsonl(
        source / "a.jsonl",
        [
            {"id": "h1", "title": "Crane operators strike in Lisbon", "text": HARBOUR},
            {"id": "c1", "title": "Cocoa at a ten-year high", "text": COCOA},
            {"id": "h2", "title": "Port of Lisbon at a standstill", "text": republished(HARBOUR)},
            {"id": "h1-again", "title": "Crane operators strike in Lisbon", "text": HARBOUR},
        ],
    )
    ix = tmp_path / "ix"
    first = index_paths([source], ix, entities=False)
    assert (first.indexed, first.duplicates) == (3, 1)  # the exact copy is not indexed
    assert cluster_view(ix, "h2") == ("h1", 2)
    assert cluster_view(ix, "c1") == ("c1", 1)
    hits = ArticleIndex(ix).search(SearchRequest(q="harbour", collapse=False))["results"]
    assert {(hit["id"], hit["cluster"], hit["cluster_size"]) for hit in hits} == {
        ("h1", "h1", 2),
        ("h2", "h1", 2),
    }

    # A later run only knows the earlier articles from the index.
    later = HARBOUR.replace("Tuesday morning", "Tuesday")
    write_jsonl(source / "b.jsonl", [{"id": "h3", "title": "Lisbon strike", "text": later}])
    second = index_paths([source], ix, entities=False)
    assert (second.indexed, second.unchanged) == (1, 3)
    assert cluster_view(ix, "h3") == ("h1", 3)
    assert cluster_view(ix, "h1") == ("h1", 3)

    rebuilt = index_paths([source / "b.jsonl"], ix, entities=False, rebuild=True)
    assert rebuilt.indexed == 1
    assert cluster_view(ix, "h3") == ("h3", 1)


def test_clustering_can_be_switched_off(tmp_path):
    source = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "h1", "title": "Strike", "text": HARBOUR},
            {"id": "h2", "title": "Standstill", "text": republished(HARBOUR)},
        ],
    )
    index_paths([source], tmp_path / "ix", entities=False, cluster_stories=False)
    assert cluster_view(tmp_path / "ix", "h2") == ("h2", 1)


def test_an_index_from_before_clusters_gets_the_new_fields(tmp_path):
    target = tmp_path / "ix"
    target.mkdir()
    schema = build_schema()
    schema.remove("cluster")
    schema.remove("minhash")
    old = whoosh_index.create_in(target, schema, indexname=INDEX_NAME)
    with old.writer() as writer:
        writer.add_document(id="old", headline="Old story", body=HARBOUR, content_hash="x")
    source = write_jsonl(tmp_path / "a.jsonl", [{"id": "new", "title": "T", "text": COCOA}])
    assert index_paths([source], target, entities=False).indexed == 1
    assert cluster_view(target, "old") == ("old", 1)
    assert cluster_view(target, "new") == ("new", 1)
