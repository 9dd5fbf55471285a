"""The shared, zero-copy segment maps read what Whoosh's own storage reads."""

from __future__ import annotations

import threading
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq

from search.indexer import IndexSummary
from search.schema import INDEX_NAME
from search.storage import MappedFile, SharedMapStorage, shared_mapping


def test_readers_see_the_same_documents_and_postings(
    sample_index: tuple[Path, IndexSummary],
) -> None:
    folder = sample_index[0]
    plain = whoosh_index.open_dir(folder, indexname=INDEX_NAME)
    shared = SharedMapStorage(str(folder)).open_index(INDEX_NAME)
    with plain.searcher() as expected, shared.searcher() as actual:
        assert actual.doc_count_all() == expected.doc_count_all()
        for docnum in range(expected.doc_count_all()):
            assert actual.stored_fields(docnum) == expected.stored_fields(docnum)
        query = wq.Or([wq.Term("body", "oil"), wq.Term("headline", "bank")])
        assert list(actual.docs_for_query(query)) == list(expected.docs_for_query(query))
        wanted = [(hit.docnum, hit.score) for hit in expected.search(query, limit=None)]
        assert [(hit.docnum, hit.score) for hit in actual.search(query, limit=None)] == wanted


def test_threads_share_one_map_per_segment_file(
    sample_index: tuple[Path, IndexSummary],
) -> None:
    storage = SharedMapStorage(str(sample_index[0]))
    segments = [name for name in storage.list() if name.endswith(".seg")]
    assert segments  # the sample index is one compound segment
    opened: list[MappedFile] = []

    def open_one() -> None:
        opened.append(storage.open_file(segments[0]))

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mapping = shared_mapping(str((sample_index[0] / segments[0]).resolve()))
    assert all(file._mapping is mapping for file in opened)
    # Each file keeps its own position over the one map.
    opened[0].seek(8)
    assert opened[1].tell() == 0
