"""The writer's posting pool, with sorted runs spilled to disk in chunks.

Whoosh sorts a segment's postings in a pool that spills sorted runs to temporary files
when it passes its memory limit, and merges them when the segment is written. It
pickles and unpickles the runs one posting at a time: a quarter of the indexer's time
on a large run (py-spy, 20,000 articles). Chunks of postings through ``marshal`` (the
postings are tuples of str, bytes, int and float) do the same in C.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from whoosh.writing import PostingPool

# Postings per chunk. The merge holds one chunk of every run (at most 128 runs open):
# ~1 MB a chunk.
CHUNK = 4096


class ChunkedPostingPool(PostingPool):
    def _write_run(self, f: Any, items: Iterable[tuple[Any, ...]]) -> None:
        postings = iter(items)
        while chunk := list(islice(postings, CHUNK)):
            marshal.dump(chunk, f)
        f.close()

    def _read_run(self, path: str) -> Iterator[tuple[Any, ...]]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = marshal.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)
