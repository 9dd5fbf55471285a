"""The chunked posting pool (search.postingpool) sorts and writes what Whoosh's does."""

import random

from whoosh import fields, index
from whoosh.filedb.filestore import FileStorage

from search import postingpool
from search.generations import DurableWriter
from search.postingpool import ChunkedPostingPool


def postings(count: int) -> list[tuple[str, bytes, int, float, bytes | None]]:
    rng = random.Random(3)
    words = [f"w{n}".encode() for n in range(300)]
    return [
        (rng.choice(["body", "headline"]), rng.choice(words), doc, float(rng.randint(1, 4)),
         None if doc % 7 == 0 else bytes([doc % 256, 1]))
        for doc in range(count)
    ]  # fmt: skip


def test_spilled_runs_come_back_sorted_and_whole(monkeypatch, tmp_path):
    monkeypatch.setattr(postingpool, "CHUNK", 10)  # chunks end inside runs
    pool = ChunkedPostingPool(FileStorage(str(tmp_path)), segment=None, limitmb=1)
    pool.limit = 4000  # bytes: a run every ~30 postings
    items = postings(2000)
    for item in items:
        pool.add(item)
    assert len(pool.runs) > 50
    assert list(pool.items(maxfiles=8)) == sorted(items)  # merged in passes, too
    assert not list(tmp_path.iterdir())  # every run file removed


def test_an_index_written_through_spilled_runs_equals_one_sorted_in_memory(tmp_path):
    schema = fields.Schema(id=fields.ID(stored=True), body=fields.TEXT(chars=True))
    rng = random.Random(5)
    texts = [" ".join(rng.choice(["harbour", "strike", "crane", "port", "pay"]) for _ in range(30))
             for _ in range(300)]  # fmt: skip
    readers = []
    for name, limitmb in (("spilled", 0.01), ("memory", 256)):
        (tmp_path / name).mkdir()
        ix = index.create_in(tmp_path / name, schema)
        writer = DurableWriter(ix, limitmb=limitmb)
        for number, text in enumerate(texts):
            writer.add_document(id=str(number), body=text)
        if name == "spilled":
            assert len(writer.pool.runs) > 1
        writer.commit()
        readers.append(ix.reader())
    spilled, memory = readers
    for term in ("harbour", "strike", "pay"):
        a = spilled.postings("body", term)
        b = memory.postings("body", term)
        assert list(a.items_as("characters")) == list(b.items_as("characters"))
