"""Phrase tables (search.phrasetables): positions as arrays, equal to Whoosh's postings."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

from search import phrasetables, postings
from search.config import RANKING
from search.indexer import index_paths
from search.phrasetables import SUFFIX, PhraseTable, TableCache, table_path
from search.postings import Postings, evaluate
from search.query import parse_query
from search.schema import INDEX_NAME
from search.scoring import NewsBM25F

WORDS = ["harbour", "strike", "grain", "tanker", "minister", "budget", "coal", "flood"]
PHRASES = ['"harbour strike"', '"coal flood minister"', '"strike harbour"~3', '"grain tanker" coal']


def write_articles(path: Path, rng: random.Random, numbers: range) -> None:
    rows = []
    for number in numbers:
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 80)))
        headline = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
        rows.append({"id": f"a{number}", "headline": f"{headline} {number}", "body": body})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two segments, each with a phrase table of its common words."""
    patch = pytest.MonkeyPatch()
    patch.setattr(phrasetables, "MIN_POSTINGS", 50)
    try:
        rng = random.Random(3)
        folder = tmp_path_factory.mktemp("phrasetables")
        first, second = folder / "first.jsonl", folder / "second.jsonl"
        write_articles(first, rng, range(500))
        write_articles(second, rng, range(500, 700))
        target = folder / "index"
        index_paths([first], target, entities=False, semantic=False)
        index_paths([second], target, entities=False, semantic=False)
    finally:
        patch.undo()
    return target


@pytest.fixture()
def searcher(index_dir: Path):
    ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    with ix.searcher(weighting=NewsBM25F(B=RANKING.b, K1=RANKING.k1)) as opened:
        yield opened


def leaves(searcher) -> list:
    return [leaf for leaf, _ in searcher.reader().leaf_readers()]


def test_every_segment_gets_a_table_of_its_common_words(index_dir: Path, searcher) -> None:
    segments = leaves(searcher)
    assert len(segments) == 2
    for leaf in segments:
        table = TableCache(index_dir)(leaf)
        assert table is not None
        for word in WORDS:
            assert table.count("body", word.encode()) == leaf.doc_frequency("body", word)
        assert table.count("body", b"0") == 0  # in one article: not held
    assert not list(index_dir.glob(f"*{SUFFIX}.partial"))


@pytest.mark.parametrize("fieldname", ["body", "headline"])
def test_table_positions_are_whooshs(index_dir: Path, searcher, fieldname: str) -> None:
    for leaf in leaves(searcher):
        table = TableCache(index_dir)(leaf)
        assert table is not None
        for word in WORDS:
            text = word.encode()
            if not table.count(fieldname, text):
                continue
            expected = {}
            matcher = leaf.postings(fieldname, text)
            while matcher.is_active():
                expected[matcher.id()] = matcher.value_as("positions")
                matcher.next()
            wanted = np.array(sorted(expected)[1::3], dtype=np.int64)
            counts, flat = table.positions(fieldname, text, wanted)
            found = [part.tolist() for part in np.split(flat, np.cumsum(counts)[:-1])]
            assert found == [expected[doc] for doc in wanted.tolist()]


@pytest.mark.parametrize("text", PHRASES)
def test_phrases_read_from_tables_equal_whooshs(index_dir: Path, searcher, text: str) -> None:
    parsed = parse_query(text, RANKING, None, languages=("en",))
    tables = TableCache(index_dir)
    used = []
    real = PhraseTable.positions

    def counting(self, *args):
        used.append(args[1])
        return real(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PhraseTable, "positions", counting)
        patch.setattr(postings, "TABLE_SHARE", 10**6)  # every word held is read from tables
        found = evaluate(parsed.query, searcher, Postings(searcher.reader(), tables))
    assert used
    without = evaluate(parsed.query, searcher, Postings(searcher.reader()))
    assert found is not None and without is not None
    assert found.docs.tolist() == without.docs.tolist()
    assert found.scores.tolist() == without.scores.tolist()
    assert set(found.docs.tolist()) == set(searcher.docs_for_query(parsed.query))


def test_a_damaged_or_missing_table_is_left_to_whooshs_postings(
    index_dir: Path, searcher, tmp_path: Path
) -> None:
    leaf = leaves(searcher)[0]
    path = table_path(index_dir, leaf)
    copy = tmp_path / "index"
    copy.mkdir()
    for source in index_dir.iterdir():
        (copy / source.name).write_bytes(source.read_bytes())
    damaged = table_path(copy, leaf)
    parsed = parse_query('"harbour strike"', RANKING, None, languages=("en",))
    expected = set(searcher.docs_for_query(parsed.query))

    def phrase_docs() -> set[int]:
        found = evaluate(parsed.query, searcher, Postings(searcher.reader(), TableCache(copy)))
        assert found is not None
        return set(found.docs.tolist())

    # Another segment's table: whole, but not this segment's.
    damaged.write_bytes(table_path(index_dir, leaves(searcher)[1]).read_bytes())
    assert TableCache(copy)(leaf) is None
    assert phrase_docs() == expected
    # Its own, with the arrays of a word overwritten: found out when read, then let go.
    held = bytearray(path.read_bytes())
    start, count, _ = TableCache(index_dir)(leaf).words["body"]["harbour"]
    held[start + 4 * count : start + 8 * count] = b"\xff" * (4 * count)
    damaged.write_bytes(bytes(held))
    tables = TableCache(copy)
    assert tables(leaf) is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(postings, "TABLE_SHARE", 10**6)
        found = evaluate(parsed.query, searcher, Postings(searcher.reader(), tables))
    assert found is not None and set(found.docs.tolist()) == expected
    assert tables(leaf).damaged
    damaged.write_bytes(path.read_bytes()[:-5])  # cut short: no trailer
    assert TableCache(copy)(leaf) is None
    assert phrase_docs() == expected
    damaged.unlink()
    assert TableCache(copy)(leaf) is None
    assert phrase_docs() == expected


def test_the_next_run_writes_an_unreadable_table_anew(
    index_dir: Path, searcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(phrasetables, "MIN_POSTINGS", 50)
    first, second = leaves(searcher)
    copy = tmp_path / "index"
    copy.mkdir()
    for source in index_dir.iterdir():
        (copy / source.name).write_bytes(source.read_bytes())
    own = table_path(index_dir, first).read_bytes()
    target = table_path(copy, first)
    # Of an older layout: a directory that names no segment.
    start, length, magic = phrasetables._TRAILER.unpack(own[-phrasetables._TRAILER.size :])
    directory = json.loads(own[start : start + length])
    old = json.dumps({"words": directory["words"]}).encode()
    for unreadable in (
        own[:start] + old + phrasetables._TRAILER.pack(start, len(old), magic),
        table_path(index_dir, second).read_bytes(),  # another segment's
        own[:-5],  # cut short
    ):
        target.write_bytes(unreadable)
        assert TableCache(copy)(first) is None
        assert phrasetables.write_missing(searcher.reader(), copy) == 1
        table = TableCache(copy)(first)
        assert table is not None and table.words == TableCache(index_dir)(first).words
    assert phrasetables.write_missing(searcher.reader(), copy) == 0  # all readable now


def test_a_table_written_after_the_generation_opened_is_found(index_dir: Path, searcher) -> None:
    leaf = leaves(searcher)[0]
    path = table_path(index_dir, leaf)
    held = path.read_bytes()
    path.unlink()
    try:
        tables = TableCache(index_dir)
        assert tables(leaf) is None
        path.write_bytes(held)
        assert tables(leaf) is not None
    finally:
        path.write_bytes(held)


def test_a_rebuild_leaves_no_table_of_a_segment_gone(index_dir: Path, tmp_path: Path) -> None:
    rng = random.Random(9)
    source = tmp_path / "more.jsonl"
    write_articles(source, rng, range(40))
    target = tmp_path / "index"
    index_paths([source], target, entities=False, semantic=False)
    before = {path.name for path in target.glob(f"*{SUFFIX}")}
    assert len(before) == 1
    for _ in range(3):  # the previous generation is kept once, then pruned
        index_paths([source], target, rebuild=True, entities=False, semantic=False)
    after = {path.name for path in target.glob(f"*{SUFFIX}")}
    assert len(after) <= 2 and not before & after
    segments = {path.name.split(".")[0] for path in target.glob("*.seg")}
    assert {name.split(".")[0] for name in after} <= segments


def test_a_failure_writing_tables_does_not_fail_the_committed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(reader, folder: Path) -> int:
        (folder / f"MAIN_x{SUFFIX}.partial").write_bytes(b"half")
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(phrasetables, "write_missing", broken)
    source = tmp_path / "few.jsonl"
    write_articles(source, random.Random(2), range(30))
    summary = index_paths([source], tmp_path / "index", entities=False, semantic=False)
    assert summary.indexed == 30
    assert "phrase tables not written" in caplog.text
    assert not list((tmp_path / "index").glob(f"*{SUFFIX}*"))
    assert (tmp_path / "index" / "rejects.jsonl").exists()
