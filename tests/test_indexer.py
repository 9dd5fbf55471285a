import json
import threading
from pathlib import Path

import pytest

from search import indexer
from search.errors import IndexLocked, InputMissing
from search.indexer import index_paths, write_lock
from search.searcher import ArticleIndex, SearchRequest


def corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_text(
        "Date: 2024-03-05\n\nHarbour cranes stand idle\n\n"
        "Crane operators at the harbour in Lisbon stopped work on Tuesday over pay.\n"
    )
    (folder / "b.jsonl").write_text(
        json.dumps(
            {
                "id": "w-1",
                "title": "Cocoa prices climb",
                "text": "Cocoa futures rose sharply in London as dry weather hit crops in Ghana.",
            }
        )
        + "\n{broken\n"
        + json.dumps(
            {
                "id": "w-2",
                "title": "Harbour cranes stand idle",
                "text": "Crane operators at the harbour in Lisbon stopped work on Tuesday "
                "over pay.",
            }
        )
        + "\n"
    )
    (folder / "notes.bin").write_bytes(b"\x00\x01")
    return folder


def test_counts_add_up_and_rejects_are_written(tmp_path):
    summary = index_paths([corpus(tmp_path / "in")], tmp_path / "ix")
    assert summary.line() == "read 5, indexed 2, unchanged 0, duplicates 1, rejected 2"
    lines = (tmp_path / "ix" / "rejects.jsonl").read_text().splitlines()
    rejects = [json.loads(line) for line in lines]
    assert sorted(r["reason"].split(":")[0] for r in rejects) == [
        "malformed JSON",
        "unsupported file type '.bin'",
    ]
    assert any(r["line"] == 2 and r["path"].endswith("b.jsonl") for r in rejects)
    assert ArticleIndex(tmp_path / "ix").count() == 2


def test_rerun_indexes_nothing_again_and_changes_replace(tmp_path):
    source = corpus(tmp_path / "in")
    index_paths([source], tmp_path / "ix")
    again = index_paths([source], tmp_path / "ix")
    assert again.line() == "read 5, indexed 0, unchanged 2, duplicates 1, rejected 2"
    text = (source / "b.jsonl").read_text().replace("rose sharply", "fell back")
    (source / "b.jsonl").write_text(text)
    changed = index_paths([source], tmp_path / "ix")
    assert changed.line() == "read 5, indexed 1, unchanged 1, duplicates 1, rejected 2"
    articles = ArticleIndex(tmp_path / "ix")
    assert articles.count() == 2
    assert "fell back" in articles.article("w-1")["body"]


def test_rebuild_starts_afresh(tmp_path):
    source = corpus(tmp_path / "in")
    index_paths([source], tmp_path / "ix")
    (source / "a.txt").unlink()
    summary = index_paths([source], tmp_path / "ix", rebuild=True)
    assert summary.line() == "read 4, indexed 2, unchanged 0, duplicates 0, rejected 2"
    assert ArticleIndex(tmp_path / "ix").count() == 2


def test_workers_give_the_same_result(tmp_path):
    source = corpus(tmp_path / "in")
    one = index_paths([source], tmp_path / "one", workers=1, entities=False)
    two = index_paths([source], tmp_path / "two", workers=2, entities=False)
    assert one.line() == two.line()
    request = SearchRequest(q="harbour")
    ids = [hit["id"] for hit in ArticleIndex(tmp_path / "two").search(request)["results"]]
    assert ids == [hit["id"] for hit in ArticleIndex(tmp_path / "one").search(request)["results"]]


def test_a_second_writer_is_refused(tmp_path):
    source = corpus(tmp_path / "in")
    (tmp_path / "ix").mkdir()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_lock(tmp_path / "ix"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    try:
        with pytest.raises(IndexLocked, match="locked"):
            index_paths([source], tmp_path / "ix")
    finally:
        release.set()
        thread.join()
    assert index_paths([source], tmp_path / "ix").indexed == 2


def test_missing_input_fails_before_touching_the_index(tmp_path):
    with pytest.raises(InputMissing):
        index_paths([tmp_path / "nope"], tmp_path / "ix")
    assert not (tmp_path / "ix").exists()


def test_rerun_skips_the_pipeline_for_records_read_as_before(tmp_path, monkeypatch):
    source = corpus(tmp_path / "in")
    index_paths([source], tmp_path / "ix")
    processed: list[int] = []
    original = indexer.process_batch

    def counting(records, **kwargs):
        processed.append(len(records))
        return original(records, **kwargs)

    monkeypatch.setattr(indexer, "process_batch", counting)
    again = index_paths([source], tmp_path / "ix")
    assert again.line() == "read 5, indexed 0, unchanged 2, duplicates 1, rejected 2"
    assert sum(processed) == 1  # only the exact duplicate under another id is cleaned again


def test_entity_names_with_commas_filter_and_facet_exactly(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(
        json.dumps({"id": "c1", "title": "Exchange sets cocoa limits",
                    "text": "The Coffee, Sugar and Cocoa Exchange in New York set new limits "
                            "on Monday, traders said."}) + "\n"
    )  # fmt: skip
    index_paths([folder], tmp_path / "ix")
    articles = ArticleIndex(tmp_path / "ix")
    names = articles.article("c1")["entities"]["organization"]
    name = next(n for n in names if "," in n)
    facet = articles.search(SearchRequest())["facets"]["organization"]
    assert name in [item["value"] for item in facet]
    assert articles.search(SearchRequest(entity=name))["total"] == 1


def test_rebuild_replaces_an_index_made_with_older_field_types(tmp_path):
    from whoosh import index as whoosh_index
    from whoosh.fields import KEYWORD

    from search.schema import INDEX_NAME, build_schema, schema_signature

    old = build_schema()
    old.remove("source_tag")
    old.add("source_tag", KEYWORD(stored=True, commas=True, lowercase=False))
    (tmp_path / "ix").mkdir()
    whoosh_index.create_in(tmp_path / "ix", old, indexname=INDEX_NAME)
    index_paths([corpus(tmp_path / "in")], tmp_path / "ix", rebuild=True)
    ix = whoosh_index.open_dir(tmp_path / "ix", indexname=INDEX_NAME)
    assert schema_signature(ix.schema) == schema_signature(build_schema())
    assert ArticleIndex(tmp_path / "ix").count() == 2
