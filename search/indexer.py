"""The indexer: files -> records -> pipeline -> Whoosh, with every record accounted for.

One writer at a time (an OS file lock, released even if the process dies). Each
record ends as indexed, unchanged (already indexed with the same content),
duplicate (the same story under another id) or rejected (in ``rejects.jsonl``).
"""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

from whoosh import index as whoosh_index
from whoosh.writing import CLEAR, IndexWriter

from search.errors import IndexLocked
from search.models import ENTITY_KINDS, Article, Origin, RawRecord, Reject
from search.pipeline import process_batch
from search.readers import iter_files, read_paths
from search.schema import ENTITY_TAG_FIELDS, INDEX_NAME, build_schema

LOCK_FILE = "newsearch.lock"
REJECTS_FILE = "rejects.jsonl"
BATCH_SIZE = 64
# Batches in flight per worker: enough to keep workers busy, few enough to bound memory.
BATCHES_PER_WORKER = 3


@dataclass
class IndexSummary:
    read: int = 0
    indexed: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects_path: Path | None = None

    def line(self) -> str:
        return (
            f"read {self.read}, indexed {self.indexed}, unchanged {self.unchanged}, "
            f"duplicates {self.duplicates}, rejected {self.rejected}"
        )


@contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's writer lock; raise IndexLocked at once if someone else has it."""
    handle = (index_dir / LOCK_FILE).open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(
                f"The index at {index_dir} is locked: another 'newsearch index' is writing "
                "to it. Wait for it to finish, then run this again."
            ) from None
        yield
    finally:
        handle.close()


def open_or_create(index_dir: Path) -> whoosh_index.Index:
    index_dir.mkdir(parents=True, exist_ok=True)
    if whoosh_index.exists_in(index_dir, indexname=INDEX_NAME):
        return whoosh_index.open_dir(index_dir, indexname=INDEX_NAME)
    return whoosh_index.create_in(index_dir, build_schema(), indexname=INDEX_NAME)


def index_paths(
    paths: Iterable[str | Path],
    index_dir: Path,
    *,
    rebuild: bool = False,
    workers: int = 1,
    entities: bool = True,
    on_record: Callable[[], None] | None = None,
) -> IndexSummary:
    """Index every article under ``paths`` into ``index_dir``.

    Raises InputMissing for a path that does not exist and IndexLocked when
    another writer holds the index.
    """
    paths = list(paths)
    for _ in iter_files(paths):  # fail on a missing path before touching the index
        break
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    summary = IndexSummary(rejects_path=index_dir / REJECTS_FILE)
    with write_lock(index_dir):
        ix = open_or_create(index_dir)
        known = {} if rebuild else known_articles(ix)
        by_hash = {content: article_id for article_id, content in known.items()}
        seen_ids: dict[str, str] = {}
        writer = ix.writer(limitmb=256)
        pending = summary.rejects_path.with_suffix(".jsonl.tmp")
        try:
            with pending.open("w", encoding="utf-8") as rejects:
                for item in processed_records(read_paths(paths), workers, entities):
                    summary.read += 1
                    if on_record:
                        on_record()
                    if isinstance(item, Reject):
                        record_reject(item, summary, rejects)
                        continue
                    earlier = seen_ids.get(item.id)
                    if earlier is not None:
                        if earlier == item.content_hash:
                            summary.duplicates += 1
                        else:
                            reason = f"id {item.id!r} already used in this run by other content"
                            record_reject(Reject(Origin(item.path), reason), summary, rejects)
                        continue
                    seen_ids[item.id] = item.content_hash
                    if known.get(item.id) == item.content_hash:
                        summary.unchanged += 1
                    elif by_hash.get(item.content_hash, item.id) != item.id:
                        summary.duplicates += 1
                    else:
                        write_article(writer, item, replace=item.id in known)
                        known[item.id] = item.content_hash
                        by_hash[item.content_hash] = item.id
                        summary.indexed += 1
            writer.commit(mergetype=CLEAR) if rebuild else writer.commit()
        except BaseException:
            writer.cancel()
            raise
        pending.replace(summary.rejects_path)
    summary.seconds = time.perf_counter() - started
    return summary


def record_reject(reject: Reject, summary: IndexSummary, out: IO[str]) -> None:
    summary.rejected += 1
    out.write(json.dumps(reject.to_json(), ensure_ascii=False) + "\n")


def known_articles(ix: whoosh_index.Index) -> dict[str, str]:
    """id -> content hash of every article already in the index."""
    with ix.searcher() as searcher:
        return {
            fields["id"]: fields["content_hash"] for fields in searcher.reader().all_stored_fields()
        }


def processed_records(
    items: Iterable[RawRecord | Reject], workers: int, entities: bool
) -> Iterator[Article | Reject]:
    """Run the pipeline over the stream, in order, on ``workers`` processes."""
    batches = batched_records(items)
    if workers <= 1:
        for batch in batches:
            yield from run_batch(batch, entities)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        in_flight: deque[Any] = deque()
        for batch in batches:
            in_flight.append(pool.apply_async(run_batch, (batch, entities)))
            if len(in_flight) >= workers * BATCHES_PER_WORKER:
                yield from in_flight.popleft().get()
        while in_flight:
            yield from in_flight.popleft().get()


def batched_records(items: Iterable[RawRecord | Reject]) -> Iterator[list[RawRecord | Reject]]:
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH_SIZE)):
        yield batch


def run_batch(batch: list[RawRecord | Reject], entities: bool) -> list[Article | Reject]:
    """Pipeline one batch, keeping rejects from the readers in their places."""
    records = [item for item in batch if isinstance(item, RawRecord)]
    done = iter(process_batch(records, with_entities=entities))
    return [item if isinstance(item, Reject) else next(done) for item in batch]


def write_article(writer: IndexWriter, article: Article, *, replace: bool) -> None:
    date = article.date
    fields: dict[str, Any] = {
        "id": article.id,
        "headline": article.headline,
        "body": article.body,
        "dated": 1 if date else 0,
        "date_iso": article.to_json()["date"],
        "lang": article.lang,
        "source": article.source,
        "source_tag": article.source.replace(",", " "),
        "url": article.url,
        "author": article.author,
        "path": article.path,
        "content_hash": article.content_hash,
        "entities": article.entities,
        "entities_status": article.entities_status,
        "warnings": article.warnings,
    }
    if date is not None:
        fields.update(date=date, day=date.strftime("%Y%m%d"), year=str(date.year))
    for kind in ENTITY_KINDS:
        names = article.entities.get(kind, [])
        fields[kind] = "\n".join(names)
        fields[ENTITY_TAG_FIELDS[kind]] = ",".join(name.replace(",", " ") for name in names)
    if replace:
        writer.update_document(**fields)
    else:
        writer.add_document(**fields)
