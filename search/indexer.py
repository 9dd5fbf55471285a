"""The indexer: files -> records -> pipeline -> Whoosh, with every record accounted for.

One writer at a time (an OS file lock, released even if the process dies). Each
record ends as indexed, unchanged (already indexed with the same content),
duplicate (the same story under another id) or rejected (in ``rejects.jsonl``).

Site furniture is learned from the input first (search.furniture): one extra pass that
only reads and decodes the files and counts short lines, keeping a bounded table of
counts, not the records. That pass costs a second read of every file (for HTML, a second
trafilatura extraction): 0.6 s for the 2,225 BBC files, 4 s for Reuters-21578 as JSON
Lines, small next to entity extraction. The learned keys are kept in ``furniture.json``
in the index folder and added to those of later runs, so an incremental run of a few new
articles is cleaned like the ones before it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import io
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from whoosh import index as whoosh_index
from whoosh.writing import CLEAR, IndexWriter

from search import semantic
from search.analysis import in_language
from search.dedup import Signature, StoryClusters, article_id, raw_fingerprint
from search.errors import IndexLocked, IndexUnwritable
from search.furniture import FURNITURE_FILE, LearnedFurniture, learn_furniture
from search.generations import DurableWriter, prune, recover
from search.models import ENTITY_KINDS, Article, Origin, RawRecord, Reject, Unchanged
from search.phrasetables import write_phrase_tables
from search.pipeline import process_batch
from search.readers import iter_files, read_paths
from search.schema import (
    ENTITY_TAG_FIELDS,
    INDEX_NAME,
    LANGUAGE_FIELDS,
    build_schema,
    schema_signature,
)

log = logging.getLogger(__name__)

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
    rejected_by_code: Counter[str] = field(default_factory=Counter)
    # What recovery from an earlier crash did (search.generations), for the person running it.
    recovered: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"read {self.read}, indexed {self.indexed}, unchanged {self.unchanged}, "
            f"duplicates {self.duplicates}, rejected {self.rejected}"
        )

    def reasons_line(self) -> str:
        """``rejected by reason: malformed 3, not_text 1``, most frequent first."""
        ranked = sorted(self.rejected_by_code.items(), key=lambda item: (-item[1], item[0]))
        return "rejected by reason: " + ", ".join(f"{code} {count}" for code, count in ranked)


@contextmanager
def write_lock(index_dir: Path) -> Iterator[IO[str]]:
    """Hold the index's writer lock; raise IndexLocked at once if someone else has it.

    An flock, so the kernel releases it when its holder dies however it dies: a lock
    left by a killed run is never stale. The holder's pid is written into the file so
    that a refusal can name it. Worker processes close their inherited copy of it
    (``worker_start``), or a worker orphaned by a killed parent would keep it held.
    """
    handle = (index_dir / LOCK_FILE).open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(
                f"The index at {index_dir} is locked: another 'newsearch index'"
                f"{holder(handle)} is writing to it. Wait for it to finish, then run this again."
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield handle
    finally:
        handle.close()


def holder(handle: IO[str]) -> str:
    """`` (process 1234)``, from the pid the lock's holder wrote; empty if unknown."""
    handle.seek(0)
    pid = handle.read().strip()
    return f" (process {pid})" if pid.isdigit() else ""


def open_or_create(index_dir: Path, *, rebuild: bool = False) -> whoosh_index.Index:
    """The index in ``index_dir``, created if there is none. On ``rebuild``, an index whose
    field types differ from this version's (made by an older one) is created afresh:
    Whoosh cannot change a field's type in place."""
    index_dir.mkdir(parents=True, exist_ok=True)
    schema = build_schema()
    if whoosh_index.exists_in(index_dir, indexname=INDEX_NAME):
        ix = whoosh_index.open_dir(index_dir, indexname=INDEX_NAME)
        changed = schema_signature(ix.schema) != schema_signature(schema)
        if not (rebuild and changed):
            if changed:
                # Re-creating it would lose the articles this run does not re-read.
                log.warning(
                    "The index at %s was made by an older version (its fields are analysed "
                    "differently); run 'newsearch index --rebuild' on all its input to remake it.",
                    index_dir,
                )
            add_missing_fields(ix)
            return ix
    return whoosh_index.create_in(index_dir, schema, indexname=INDEX_NAME)


def add_missing_fields(ix: whoosh_index.Index) -> None:
    """Give an index made by an older version the fields added since (e.g. ``cluster``).

    Whoosh refuses documents with fields its stored schema lacks; adding a field
    rewrites no document, so old articles simply have no value for it.
    """
    missing = [(name, kind) for name, kind in build_schema().items() if name not in ix.schema]
    if missing:
        with DurableWriter(ix) as writer:
            for name, kind in missing:
                writer.add_field(name, kind)


def index_paths(
    paths: Iterable[str | Path],
    index_dir: Path,
    *,
    rebuild: bool = False,
    workers: int = 1,
    entities: bool = True,
    semantic: bool = True,
    on_record: Callable[[], None] | None = None,
    learn: bool = True,
    cluster_stories: bool = True,
    on_phase: Callable[[str], None] | None = None,
) -> IndexSummary:
    """Index every article under ``paths`` into ``index_dir``.

    ``learn`` reads the input once more beforehand to learn site furniture from it;
    without it only the furniture learned by earlier runs (kept unless ``rebuild``) is used.
    Without ``semantic`` articles get no semantic vector (search.semantic) and are ranked
    by BM25F alone. Without ``cluster_stories`` near-duplicates are not looked for: each
    new article is its own story cluster (exact duplicates are still caught).
    ``on_phase`` is told the name of each phase as it starts (recovering, learning,
    indexing, committing, finishing, done).

    All of a run's articles are committed at once, at the end: a run that is killed or
    fails leaves the index exactly as it was, and running it again completes it.

    Raises InputMissing for a path that does not exist, IndexLocked when another writer
    holds the index and IndexUnwritable when the index folder cannot be written.
    """
    paths = list(paths)
    for _ in iter_files(paths):  # fail on a missing path before touching the index
        break
    started = time.perf_counter()
    phase = on_phase or (lambda _name: None)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        with write_lock(index_dir) as lock:
            run = IndexRun(index_dir, rebuild, cluster_stories)
            summary = run.execute(
                paths, workers, (entities, semantic), learn, on_record, phase, lock
            )
    except OSError as error:
        problem = unwritable(index_dir, error)
        if problem is error:  # not the index folder's fault: let it through as it is
            raise
        raise problem from error
    summary.seconds = time.perf_counter() - started
    phase("done")
    return summary


def unwritable(index_dir: Path, error: OSError) -> OSError | IndexUnwritable:
    """IndexUnwritable for an error writing the index folder; other errors unchanged."""
    where = Path(error.filename) if isinstance(error.filename, str) else None
    if where is not None and not where.resolve().is_relative_to(index_dir.resolve()):
        return error
    reason = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the folder is on a read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "it is not a folder",
        errno.EEXIST: "it is not a folder",
    }.get(error.errno or 0, error.strerror or str(error))
    return IndexUnwritable(
        f"Cannot write the index in {index_dir}: {reason}. "
        "The index is as it was before this run; free space or fix the folder, then "
        "run this again."
    )


class IndexRun:
    """One run under the writer lock: every record read is accounted for exactly once."""

    def __init__(self, index_dir: Path, rebuild: bool, cluster_stories: bool) -> None:
        self.index_dir = index_dir
        self.rebuild = rebuild
        self.cluster_stories = cluster_stories
        self.summary = IndexSummary(rejects_path=index_dir / REJECTS_FILE)

    def execute(
        self,
        paths: list[str | Path],
        workers: int,
        stages: tuple[bool, bool],
        learn: bool,
        on_record: Callable[[], None] | None,
        phase: Callable[[str], None],
        lock: IO[str],
    ) -> IndexSummary:
        phase("recovering")
        self.summary.recovered = recover(self.index_dir).notes()
        ix = open_or_create(self.index_dir, rebuild=self.rebuild)
        furniture_path = self.index_dir / FURNITURE_FILE
        furniture = LearnedFurniture() if self.rebuild else LearnedFurniture.load(furniture_path)
        if learn:
            phase("learning")
            furniture = furniture.union(learn_furniture(read_paths(paths)))
        self.load_known(ix)
        writer = DurableWriter(ix, limitmb=256)
        pending = self.index_dir / (REJECTS_FILE + ".tmp")
        try:
            phase("indexing")
            inherited = (lock.fileno(), writer.writelock.fd)
            with pending.open("w", encoding="utf-8") as rejects:
                records = skip_unchanged(read_paths(paths), self.known_raw)
                for item in processed_records(records, workers, stages, furniture, inherited):
                    self.summary.read += 1
                    if on_record:
                        on_record()
                    self.account(item, writer, rejects)
            phase("committing")
            writer.commit(mergetype=CLEAR) if self.rebuild else writer.commit()
        except BaseException:
            abandon(writer, self.index_dir, pending)
            raise
        phase("finishing")
        furniture.save(furniture_path)
        pending.replace(self.index_dir / REJECTS_FILE)
        write_phrase_tables(self.index_dir)
        return self.summary

    def load_known(self, ix: whoosh_index.Index) -> None:
        """What is indexed already: ids with their hashes, and the story clusters."""
        self.known_raw: dict[str, tuple[str, str]] = {} if self.rebuild else known_articles(ix)
        self.known = {article_id: hashes[0] for article_id, hashes in self.known_raw.items()}
        self.clusters = StoryClusters() if self.rebuild else stored_clusters(ix)
        self.by_hash = {content: article_id for article_id, content in self.known.items()}
        self.seen_ids: dict[str, str] = {}

    def account(
        self, item: Article | Reject | Unchanged, writer: IndexWriter, rejects: IO[str]
    ) -> None:
        """Count one record as rejected, unchanged, duplicate or indexed (and write it)."""
        summary = self.summary
        if isinstance(item, Reject):
            record_reject(item, summary, rejects)
        elif isinstance(item, Unchanged):
            if item.id in self.seen_ids:
                summary.duplicates += 1
            else:
                self.seen_ids[item.id] = item.content_hash
                summary.unchanged += 1
        elif (earlier := self.seen_ids.get(item.id)) is not None:
            if earlier == item.content_hash:
                summary.duplicates += 1
            else:
                reason = f"id {item.id!r} already used in this run by other content"
                record_reject(Reject(Origin(item.path), reason, "duplicate_id"), summary, rejects)
        else:
            self.seen_ids[item.id] = item.content_hash
            if self.known.get(item.id) == item.content_hash:
                summary.unchanged += 1
            elif self.by_hash.get(item.content_hash, item.id) != item.id:
                summary.duplicates += 1
            else:
                self.add(item, writer)

    def add(self, item: Article, writer: IndexWriter) -> None:
        signature = Signature.from_bytes(item.signature) if self.cluster_stories else None
        cluster = self.clusters.add(item.id, signature)
        replace = item.id in self.known
        write_article(writer, item, replace=replace, cluster=cluster, signature=signature)
        self.known[item.id] = item.content_hash
        self.by_hash[item.content_hash] = item.id
        self.summary.indexed += 1


def abandon(writer: IndexWriter, index_dir: Path, pending: Path) -> None:
    """Give up a run's uncommitted work, as far as the disk lets us.

    Best effort: after a full disk, closing the half-written segment can fail again.
    The files left behind are named by no generation; pruning them now gives the space
    back, and the next run's recovery removes whatever this could not.
    """
    try:
        writer.cancel()
    except Exception as error:  # the run's own error is the one to report, not this one
        log.info("the index writer did not close cleanly: %s", error)
        close_files(writer)
        if writer.writelock:
            writer.writelock.release()
    try:
        prune(index_dir)
        pending.unlink(missing_ok=True)
    except OSError as error:
        log.info("could not remove the files of the abandoned run: %s", error)


def close_files(root: object, depth: int = 4) -> None:
    """Close the files a failed Whoosh writer still holds (segment, postings, pool).

    Whoosh gives no way to do it once its own close has failed part-way; its files hang
    off the writer a few attributes deep. A buffered file whose flush fails still closes.
    """
    seen: set[int] = set()
    stack: list[tuple[object, int]] = [(root, 0)]
    while stack:
        item, level = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, io.IOBase):
            with suppress(Exception):
                item.close()
        elif level < depth:
            children = item.values() if isinstance(item, dict) else getattr(item, "__dict__", {})
            if isinstance(children, dict):
                children = children.values()
            if isinstance(item, list | tuple):
                children = item
            stack.extend((child, level + 1) for child in children)


def record_reject(reject: Reject, summary: IndexSummary, out: IO[str]) -> None:
    summary.rejected += 1
    summary.rejected_by_code[reject.code] += 1
    out.write(json.dumps(reject.to_json(), ensure_ascii=False) + "\n")


def known_articles(ix: whoosh_index.Index) -> dict[str, tuple[str, str]]:
    """id -> (content hash, raw fingerprint) of every article already in the index."""
    with ix.searcher() as searcher:
        return {
            fields["id"]: (fields["content_hash"], fields.get("raw_hash", ""))
            for fields in searcher.reader().all_stored_fields()
        }


def skip_unchanged(
    items: Iterable[RawRecord | Reject], known: dict[str, tuple[str, str]]
) -> Iterator[RawRecord | Reject | Unchanged]:
    """Records read exactly as they were indexed skip cleaning, language and entities."""
    for item in items:
        if isinstance(item, RawRecord):
            indexed = known.get(article_id(item))
            if indexed is not None and indexed[1] == raw_fingerprint(item):
                yield Unchanged(article_id(item), indexed[0])
                continue
        yield item


def stored_clusters(ix: whoosh_index.Index) -> StoryClusters:
    """The story clusters of the articles already indexed, from their stored signatures.

    Rebuilt on every run rather than kept in a file beside the index, so that they can
    never disagree with it. That costs about 1 s of CPU per 10,000 articles, most of
    it reading the stored fields (scripts/eval_duplicates.py prints the figure).
    Articles indexed before clusters existed have no signature: they stay alone until
    the index is rebuilt.
    """
    clusters = StoryClusters()
    with ix.searcher() as searcher:
        for fields in searcher.reader().all_stored_fields():
            data = fields.get("minhash")
            signature = Signature.from_bytes(data) if data else None
            if signature is not None:
                clusters.add(fields["id"], signature, cluster=fields.get("cluster"))
    return clusters


def processed_records(
    items: Iterable[RawRecord | Reject | Unchanged],
    workers: int,
    stages: tuple[bool, bool],
    furniture: LearnedFurniture | None = None,
    inherited: tuple[int, ...] = (),
) -> Iterator[Article | Reject | Unchanged]:
    """Run the pipeline over the stream, in order, on ``workers`` processes.

    ``stages``: whether entities and semantic vectors are computed.
    ``inherited`` are descriptors the workers must not keep (the writer locks).

    Semantic vectors are computed here, in this process, never in a worker: torch
    deadlocks in a forked child once its parent has used it, and its own threads keep
    both cores busy.
    """
    entities, vectors = stages
    for batch in understood_batches(items, workers, entities, furniture, inherited):
        if vectors:
            semantic.add_vectors([item for item in batch if isinstance(item, Article)])
        yield from batch


def understood_batches(
    items: Iterable[RawRecord | Reject | Unchanged],
    workers: int,
    entities: bool,
    furniture: LearnedFurniture | None,
    inherited: tuple[int, ...],
) -> Iterator[list[Article | Reject | Unchanged]]:
    """Batches through every stage but semantic vectors, in order, on ``workers``."""
    batches = batched_records(items)
    if workers <= 1:
        for batch in batches:
            yield run_batch(batch, entities, furniture)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, worker_start, (os.getpid(), inherited)) as pool:
        in_flight: deque[Any] = deque()
        for batch in batches:
            in_flight.append(pool.apply_async(run_batch, (batch, entities, furniture)))
            if len(in_flight) >= workers * BATCHES_PER_WORKER:
                yield in_flight.popleft().get()
        while in_flight:
            yield in_flight.popleft().get()


def worker_start(parent: int, inherited: tuple[int, ...]) -> None:
    """First thing in each worker: die with the parent, and let go of its locks.

    A forked worker holds copies of the parent's descriptors, flock'ed lock files
    included. If the parent is killed, a worker busy with a batch would live on (for
    as long as entity extraction takes) holding the index locked; closing our copies
    leaves the parent's lock in place, and PR_SET_PDEATHSIG ends the worker with it.
    """
    for descriptor in inherited:
        with suppress(OSError):
            os.close(descriptor)
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def batched_records(
    items: Iterable[RawRecord | Reject | Unchanged],
) -> Iterator[list[RawRecord | Reject | Unchanged]]:
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH_SIZE)):
        yield batch


def run_batch(
    batch: list[RawRecord | Reject | Unchanged],
    entities: bool,
    furniture: LearnedFurniture | None = None,
) -> list[Article | Reject | Unchanged]:
    """Pipeline one batch, keeping the readers' rejects and unchanged records in place."""
    records = [item for item in batch if isinstance(item, RawRecord)]
    done = iter(process_batch(records, with_entities=entities, furniture=furniture))
    return [next(done) if isinstance(item, RawRecord) else item for item in batch]


def write_article(
    writer: IndexWriter,
    article: Article,
    *,
    replace: bool,
    cluster: str | None = None,
    signature: Signature | None = None,
) -> None:
    date = article.date
    fields: dict[str, Any] = {
        "id": article.id,
        "headline": article.headline,
        "body": article.body,
        "dated": 1 if date else 0,
        "date_iso": article.to_json()["date"],
        "lang": article.lang,
        "source": article.source,
        "source_tag": article.source,
        "url": article.url,
        "author": article.author,
        "path": article.path,
        "content_hash": article.content_hash,
        "raw_hash": article.raw_hash,
        "cluster": cluster or article.id,
        "entities": article.entities,
        "entities_status": article.entities_status,
        "warnings": article.warnings,
    }
    if signature is not None:
        fields["minhash"] = signature.to_bytes()
    if article.vector:
        fields["vector"] = article.vector
    if date is not None:
        fields.update(date=date, day=date.strftime("%Y%m%d"), year=str(date.year))
    for kind in ENTITY_KINDS:
        names = article.entities.get(kind, [])
        fields[kind] = "\n".join(names)
        fields[ENTITY_TAG_FIELDS[kind]] = "\n".join(names)
    # Stemmed and stop-worded in the article's own language, stored as they are.
    in_language(fields, LANGUAGE_FIELDS, article.lang)
    if replace:
        writer.update_document(**fields)
    else:
        writer.add_document(**fields)
