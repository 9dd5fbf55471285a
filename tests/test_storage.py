"""The shared segment files read what Whoosh's own storage reads."""

from __future__ import annotations

import threading
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq

from search.indexer import IndexSummary
from search.schema import INDEX_NAME
from search.storage import READ_AHEAD, RangeFile, SharedFileStorage, shared_file


def test_readers_see_the_same_documents_and_postings(
    sample_index: tuple[Path, IndexSummary],
) -> None:
    folder = sample_index[0]
    plain = whoosh_index.open_dir(folder, indexname=INDEX_NAME)
    shared = SharedFileStorage(str(folder)).open_index(INDEX_NAME)
    with plain.searcher() as expected, shared.searcher() as actual:
        assert actual.doc_count_all() == expected.doc_count_all()
        for docnum in range(expected.doc_count_all()):
            assert actual.stored_fields(docnum) == expected.stored_fields(docnum)
        query = wq.Or([wq.Term("body", "oil"), wq.Term("headline", "bank")])
        assert list(actual.docs_for_query(query)) == list(expected.docs_for_query(query))
        wanted = [(hit.docnum, hit.score) for hit in expected.search(query, limit=None)]
        assert [(hit.docnum, hit.score) for hit in actual.search(query, limit=None)] == wanted


def test_threads_share_one_descriptor_per_segment_file(
    sample_index: tuple[Path, IndexSummary],
) -> None:
    storage = SharedFileStorage(str(sample_index[0]))
    segments = [name for name in storage.list() if name.endswith(".seg")]
    assert segments  # the sample index is one compound segment
    opened: list[RangeFile] = []

    def open_one() -> None:
        opened.append(storage.open_file(segments[0]))

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shared = shared_file(str((sample_index[0] / segments[0]).resolve()))
    assert all(file._buf.file is shared for file in opened)
    # Each file keeps its own position over the one descriptor.
    opened[0].seek(8)
    assert opened[1].tell() == 0


def test_reads_match_the_file_across_the_read_ahead(tmp_path: Path) -> None:
    data = bytes(range(256)) * (3 * READ_AHEAD // 256) + b"line one\nline two\n"
    path = tmp_path / "blob.seg"
    path.write_bytes(data)
    storage = SharedFileStorage(str(tmp_path))
    whole = storage.open_file("blob.seg")
    assert whole.get(5, 10) == data[5:15]
    inner = whole.subset(100, len(data) - 100)
    assert inner.get(0, 4) == data[100:104]
    assert inner._buf[3] == data[103] and inner._buf[-1] == data[-1]
    # Reads that cross the read-ahead window's edge, then a jump back.
    inner.seek(READ_AHEAD - 10)
    assert inner.read(30) == data[100 + READ_AHEAD - 10 : 100 + READ_AHEAD + 20]
    assert inner.read(2 * READ_AHEAD) == data[100 + READ_AHEAD + 20 : 100 + 3 * READ_AHEAD + 20]
    inner.seek(0)
    assert inner.read(3) == data[100:103]
    assert inner.file.peek(1)[:2] == data[103:105] and inner.tell() == 3
    inner.seek(len(data) - 100 - 18)
    assert inner.file.readline() == b"line one\n"
    assert inner.read() == b"line two\n"
    assert inner.read(5) == b""


def test_get_clamps_to_the_range_as_a_buffer_slice_does(tmp_path: Path) -> None:
    data = bytes(range(200))
    (tmp_path / "small.seg").write_bytes(data)
    inner = SharedFileStorage(str(tmp_path)).open_file("small.seg").subset(50, 100)
    expected = data[50:150]
    cases = [(0, 10), (95, 10), (100, 5), (120, 5), (0, 1000), (99, 1), (40, 20), (3, 2)]
    for position, length in cases:
        assert inner.get(position, length) == expected[position : position + length]
