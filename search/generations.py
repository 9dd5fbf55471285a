"""Index generations on disk: commits that survive a crash, and recovery from torn ones.

Whoosh commits a generation by writing the new segment's files, then its table of
contents (``_MAIN_<generation>.toc``, the list of segments and their deletions) through a
temporary file renamed into place, then deleting every file the new TOC does not name.
The rename is the atomic switch, but two things are missing for a crash:

- nothing is flushed to disk, so after a power cut the renamed TOC can be there while
  the segment data it names is not (a torn commit);
- the previous generation is deleted at once, so a damaged newest generation leaves
  nothing to fall back to.

``DurableWriter`` flushes the new segment files before the TOC and the TOC and folder
after it, and keeps the previous generation (its TOC and segment files; segments are never
changed once written, so it stays whole) until the next commit. ``recover``, run under
the writer lock before each indexing run, checks that the newest generation opens and
reads; a broken one is set aside (renamed ``*.broken``) and the previous one is used.
It also removes what a killed run leaves behind: segment files no kept generation
names, TOCs Whoosh had not yet renamed into place, and the temporary posting pool.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import shutil
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex
from whoosh.writing import SegmentWriter

from search.postingpool import ChunkedPostingPool
from search.schema import INDEX_NAME

log = logging.getLogger(__name__)

# The newest generation and the one before it: enough to fall back once.
KEEP_GENERATIONS = 2
BROKEN_SUFFIX = ".broken"
TOC_PATTERN = re.compile(rf"^_{INDEX_NAME}_([0-9]+)\.toc$")
# Whoosh writes a TOC as "<name>.<time.time()>" and then renames it.
TOC_TEMP_PATTERN = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc\.[0-9]+(\.[0-9]+)?$")
SEGMENT_PATTERN = re.compile(rf"^({INDEX_NAME}_[0-9a-z]+)\.[A-Za-z0-9_.]+$")
POOL_FOLDER = f"{INDEX_NAME}.tmp"  # SegmentWriter's temporary posting pool


@dataclass
class Recovery:
    """What ``recover`` found and did."""

    set_aside: list[tuple[int, str]] = field(default_factory=list)  # generation, problem
    removed: list[str] = field(default_factory=list)
    generation: int | None = None  # the generation in use afterwards; None: no index

    def notes(self) -> list[str]:
        """One line per thing a person should know, for the end of an indexing run."""
        lines = [
            f"index generation {gen} could not be read ({problem}); set aside as "
            f"_{INDEX_NAME}_{gen}.toc{BROKEN_SUFFIX}"
            for gen, problem in self.set_aside
        ]
        if self.set_aside:
            now = f"generation {self.generation}" if self.generation is not None else "none"
            lines.append(f"index recovered: now using {now}; the run re-adds what is missing")
        if self.removed:
            lines.append(f"removed {len(self.removed)} files left by an interrupted run")
        return lines


def generations(folder: Path) -> list[int]:
    """The generations whose TOC is in ``folder``, newest first."""
    found = (TOC_PATTERN.match(path.name) for path in folder.iterdir())
    return sorted((int(match.group(1)) for match in found if match), reverse=True)


def segment_ids(storage: FileStorage, generation: int) -> set[str] | None:
    """The segments a generation names; None when its TOC cannot be read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # as in check_generation
        try:
            toc = TOC.read(storage, INDEX_NAME, gen=generation)
        except Exception:  # a TOC that does not read is simply not kept
            toc = None
        gc.collect()
    return None if toc is None else {segment.segment_id() for segment in toc.segments}


def check_generation(storage: FileStorage, generation: int) -> str | None:
    """What is wrong with a generation, or None when it reads in full.

    Opens every segment, reads every stored document and walks the ``id`` postings:
    a missing or cut-short segment file fails one of these. The stored fields are read
    on every run anyway (known articles, story clusters), so this at most doubles that.
    """
    with warnings.catch_warnings():
        # Whoosh leaves a file open when a damaged one fails to read; let it close quietly.
        warnings.simplefilter("ignore", ResourceWarning)
        problem = _read_generation(storage, generation)
        gc.collect()
    return problem


def _read_generation(storage: FileStorage, generation: int) -> str | None:
    try:
        toc = TOC.read(storage, INDEX_NAME, gen=generation)
        reader = FileIndex._reader(storage, toc.schema, toc.segments, generation)
        try:
            return _check_reader(reader)
        finally:
            reader.close()
    except Exception as error:  # any failure to read it means it is broken
        return f"{type(error).__name__}: {error}"[:300]


def _check_reader(reader: Any) -> str | None:
    count = reader.doc_count()
    stored = sum(1 for _ in reader.all_stored_fields())
    if stored != count:
        return f"{stored} stored documents for {count} live ones"
    if "id" in reader.schema and count:
        posted = sum(
            len(list(reader.postings("id", term).all_ids())) for term in reader.lexicon("id")
        )
        if posted != count:
            return f"{posted} ids for {count} documents"
    return None


def recover(index_dir: Path) -> Recovery:
    """Make the newest generation in ``index_dir`` one that reads, and tidy up.

    Call it only while holding the writer lock: it deletes files that a running writer
    would still be writing.
    """
    recovery = Recovery()
    if not index_dir.is_dir():
        return recovery
    storage = FileStorage(str(index_dir))
    for generation in generations(index_dir):
        problem = check_generation(storage, generation)
        if problem is None:
            recovery.generation = generation
            break
        log.warning("index generation %d in %s is broken: %s", generation, index_dir, problem)
        set_aside(index_dir, generation)
        recovery.set_aside.append((generation, problem))
    recovery.removed = prune(index_dir, keep=KEEP_GENERATIONS)
    return recovery


def set_aside(index_dir: Path, generation: int) -> None:
    """Rename a broken TOC so that Whoosh no longer sees it (kept for a post-mortem)."""
    name = TOC._filename(INDEX_NAME, generation)
    (index_dir / name).replace(index_dir / (name + BROKEN_SUFFIX))


def prune(index_dir: Path, *, keep: int = KEEP_GENERATIONS) -> list[str]:
    """Delete all but the newest ``keep`` generations and every file none of them names.

    Returns the names removed. Readers that still have an older generation open keep
    reading it: on POSIX an open file outlives its name.
    """
    storage = FileStorage(str(index_dir))
    kept = generations(index_dir)[:keep]
    wanted: set[str] = set()
    for generation in kept:
        wanted |= segment_ids(storage, generation) or set()
    removed = []
    for path in sorted(index_dir.iterdir()):
        if _unwanted(path.name, kept, wanted):
            _remove(path)
            removed.append(path.name)
    return removed


def _unwanted(name: str, kept: list[int], wanted: set[str]) -> bool:
    if toc := TOC_PATTERN.match(name):
        return int(toc.group(1)) not in kept
    if segment := SEGMENT_PATTERN.match(name):
        return segment.group(1) not in wanted
    return name == POOL_FOLDER or bool(TOC_TEMP_PATTERN.match(name))


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sync_files(folder: Path, names: Iterable[str]) -> None:
    """Flush files' data to disk, so that a TOC written after them never outruns them."""
    for name in names:
        descriptor = os.open(folder / name, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename is only durable once its folder is)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class DurableWriter(SegmentWriter):
    """Whoosh's writer, with a commit that a crash or power cut cannot tear.

    The order: segment files flushed, TOC written and renamed, TOC and folder flushed,
    then only the generations beyond the newest two pruned (Whoosh would delete the
    previous one here). Its posting pool spills in chunks (search.postingpool).
    """

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.pool = ChunkedPostingPool(
            self._tempstorage, self.newsegment, limitmb=self.pool.limit // (1024 * 1024)
        )

    def _commit_toc(self, segments: list[Any]) -> None:
        folder = Path(self.storage.folder)
        ids = {segment.segment_id() for segment in segments}
        sync_files(folder, segment_files(folder, ids))
        TOC(self.schema, segments, self.generation).write(self.storage, self.indexname)
        sync_files(folder, [TOC._filename(self.indexname, self.generation)])
        sync_folder(folder)
        prune(folder, keep=KEEP_GENERATIONS)


def segment_files(folder: Path, ids: set[str]) -> list[str]:
    """The files in ``folder`` that belong to the segments ``ids``."""
    matches = (SEGMENT_PATTERN.match(path.name) for path in sorted(folder.iterdir()))
    return [match.group(0) for match in matches if match and match.group(1) in ids]
