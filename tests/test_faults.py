"""Faults: a killed run, a torn commit, a full or read-only disk, indexing while serving.

The SIGKILL trials are scripts/soak_index.py's, fewer of them; run the script for more.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import TOC

from scripts import soak_index
from search import generations
from search.cli import main
from search.errors import IndexLocked, IndexUnwritable
from search.generations import BROKEN_SUFFIX, check_generation, segment_files, segment_ids
from search.indexer import LOCK_FILE, index_paths, write_lock
from search.schema import INDEX_NAME
from search.searcher import ArticleIndex, SearchRequest

TRIALS = 20
SEED = int(os.environ.get("NEWSEARCH_FAULT_SEED", "7"))


def feed(folder: Path, name: str, first: int, count: int) -> Path:
    """A JSON Lines file of ``count`` distinct articles with ids ``f-<first>``..."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(first)
    lines = []
    for number in range(first, first + count):
        words = " ".join(rng.choice(soak_index.WORDS) for _ in range(40))
        body = f"{words.capitalize()}. Harbour report {number}."
        lines.append(json.dumps({"id": f"f-{number}", "title": f"Report {number}", "text": body}))
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def ids_in(index_dir: Path) -> list[str]:
    return soak_index.stored_ids(index_dir) or []


def expected(first: int, count: int) -> list[str]:
    return sorted(f"f-{number}" for number in range(first, first + count))


# --- SIGKILL at random moments -------------------------------------------------------


def test_sigkill_at_random_moments_loses_nothing(tmp_path):
    """20 runs killed in every phase; each index whole afterwards, and a re-run completes it."""
    setup = soak_index.prepare(tmp_path, articles=200, seed=SEED, launches=("exec", "fork"))
    rng = random.Random(SEED)
    # Start-up and finishing kills, and two others, run the installed command; the rest
    # fork this process into the same command, which saves 1.5 s of imports a trial. One
    # re-run goes through the command too; the others call the same code in this process.
    trials = [
        soak_index.run_trial(
            number,
            rng,
            setup,
            rerun_cli=number == 4,
            launch="exec" if number in (7, 13) else "fork",
        )
        for number in range(TRIALS)
    ]
    report = "\n".join([soak_index.HEADER, *(trial.row() for trial in trials)])
    assert [trial for trial in trials if trial.problems] == [], f"seed {SEED}\n{report}"
    killed = [trial for trial in trials if trial.killed]
    assert len(killed) >= TRIALS - 2, f"most runs must be killed, not end first\n{report}"
    assert {trial.phase for trial in killed} == set(soak_index.PHASES), report
    # Killed before the commit: the index as it was; after it: complete.
    assert {"half", "complete"} <= {trial.after_kill for trial in trials}, report


def test_a_lock_file_left_by_a_dead_process_is_taken_over(tmp_path):
    source = feed(tmp_path / "in", "a.jsonl", 0, 3)
    (tmp_path / "ix").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    (tmp_path / "ix" / LOCK_FILE).write_text(f"{dead}\n")
    assert index_paths([source], tmp_path / "ix", entities=False).indexed == 3
    assert (tmp_path / "ix" / LOCK_FILE).read_text().strip() == str(os.getpid())


def test_a_refusal_names_the_process_holding_the_lock(tmp_path):
    (tmp_path / "ix").mkdir()
    with write_lock(tmp_path / "ix"), pytest.raises(IndexLocked, match=f"process {os.getpid()}"):
        index_paths([feed(tmp_path / "in", "a.jsonl", 0, 1)], tmp_path / "ix")


# --- torn commits --------------------------------------------------------------------


def two_generations(tmp_path: Path) -> tuple[Path, Path, int]:
    """An index committed twice: 30 articles, then 30 more. Returns input, index, newest."""
    source = feed(tmp_path / "in", "a.jsonl", 0, 30)
    index_dir = tmp_path / "ix"
    index_paths([source], index_dir, entities=False)
    feed(source, "b.jsonl", 30, 30)
    index_paths([source], index_dir, entities=False)
    newest = generations.generations(index_dir)[0]
    return source, index_dir, newest


def new_segment_files(index_dir: Path, newest: int) -> list[Path]:
    storage = FileStorage(str(index_dir))
    only_new = (segment_ids(storage, newest) or set()) - (segment_ids(storage, newest - 1) or set())
    assert only_new, "the second commit wrote a segment of its own"
    return [index_dir / name for name in segment_files(index_dir, only_new)]


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def tear(kind: str, index_dir: Path, newest: int) -> None:
    """Leave the index as a crash or power cut in the middle of the newest commit could."""
    toc = index_dir / TOC._filename(INDEX_NAME, newest)
    if kind == "segment files missing":  # TOC renamed into place before the data reached disk
        for path in new_segment_files(index_dir, newest):
            path.unlink()
    elif kind == "segment file cut short":
        for path in new_segment_files(index_dir, newest):
            cut_in_half(path)
    elif kind == "TOC cut short":
        cut_in_half(toc)
    elif kind == "TOC never renamed":  # killed between writing the TOC and renaming it
        toc.rename(toc.with_name(f"{toc.name}.1764672000.25"))
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    ["segment files missing", "segment file cut short", "TOC cut short", "TOC never renamed"],
)
def test_a_torn_commit_is_detected_and_the_previous_generation_used(tmp_path, kind):
    source, index_dir, newest = two_generations(tmp_path)
    tear(kind, index_dir, newest)
    broken = kind != "TOC never renamed"
    if broken:
        assert check_generation(FileStorage(str(index_dir)), newest) is not None
    summary = index_paths([source], index_dir, entities=False)
    notes = " ".join(summary.recovered)
    assert (f"generation {newest} could not be read" in notes) is broken, notes
    if kind != "segment files missing":  # the others leave files no generation names
        assert "files left by an interrupted run" in notes
    assert (index_dir / f"_{INDEX_NAME}_{newest}.toc{BROKEN_SUFFIX}").exists() is broken
    # The fallback held the first 30; the run put back the 30 the torn commit lost.
    assert summary.indexed == 30
    assert sorted(ids_in(index_dir)) == expected(0, 60)
    assert ArticleIndex(index_dir).search(SearchRequest(q="harbour"))["total"] == 60
    assert soak_index.leftover_files(index_dir) == []


def test_with_every_generation_broken_the_index_starts_afresh(tmp_path):
    source, index_dir, newest = two_generations(tmp_path)
    for generation in (newest, newest - 1):
        cut_in_half(index_dir / TOC._filename(INDEX_NAME, generation))
    summary = index_paths([source], index_dir, entities=False)
    assert "now using none" in " ".join(summary.recovered)
    assert summary.indexed == 60
    assert sorted(ids_in(index_dir)) == expected(0, 60)


def test_a_commit_keeps_the_previous_generation_whole(tmp_path):
    """Whoosh alone deletes it; here it stays, readable, until the commit after."""
    _, index_dir, newest = two_generations(tmp_path)
    assert generations.generations(index_dir) == [newest, newest - 1]
    storage = FileStorage(str(index_dir))
    assert check_generation(storage, newest - 1) is None
    assert soak_index.leftover_files(index_dir) == []


def test_segment_data_reaches_the_disk_before_the_toc_names_it(tmp_path, monkeypatch):
    source = feed(tmp_path / "in", "a.jsonl", 0, 5)
    events: list[tuple[str, str]] = []
    real_sync, real_rename = generations.sync_files, FileStorage.rename_file

    def sync(folder: Path, names: Any) -> None:
        names = list(names)
        events.extend(("sync", name) for name in names)
        real_sync(folder, names)

    def rename(self: FileStorage, old: str, new: str, safe: bool = False) -> None:
        events.append(("rename", new))
        real_rename(self, old, new, safe=safe)

    monkeypatch.setattr(generations, "sync_files", sync)
    monkeypatch.setattr(FileStorage, "rename_file", rename)
    index_paths([source], tmp_path / "ix", entities=False)
    toc = TOC._filename(INDEX_NAME, generations.generations(tmp_path / "ix")[0])
    segment = next(name for kind, name in events if kind == "sync" and name.endswith(".seg"))
    assert events.index(("sync", segment)) < events.index(("rename", toc))
    assert events.index(("rename", toc)) < events.index(("sync", toc))


# --- a full disk, a read-only folder -------------------------------------------------


def refuse_writes(monkeypatch: pytest.MonkeyPatch, folder: Path, code: int) -> None:
    """Make every write under ``folder`` fail with ``code``, as a read-only mount would.

    Tests run as root, for whom chmod does not stop writes, so the refusal is simulated
    at the calls Python and Whoosh write through: open for writing, os.open with write
    flags, mkdir, rename, replace and unlink.
    """
    root = str(folder.resolve())

    def inside(path: Any) -> bool:
        try:
            return str(Path(os.fspath(path)).resolve()).startswith(root)
        except TypeError:  # a file descriptor
            return False

    def refuse(path: Any) -> None:
        raise OSError(code, os.strerror(code), os.fspath(path))

    real_open, real_os_open = builtins.open, os.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if inside(file) and any(flag in mode for flag in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    for name in ("mkdir", "rename", "replace", "unlink", "remove"):
        real = getattr(os, name)

        def guarded(path: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if inside(path):
                refuse(path)
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(os, name, guarded)


@pytest.fixture()
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    """An index of 20 articles, and an input folder with 40 more to add to it."""
    source = feed(tmp_path / "in", "a.jsonl", 0, 20)
    index_paths([source], tmp_path / "ix", entities=False)
    feed(source, "b.jsonl", 20, 40)
    return source, tmp_path / "ix"


def still_usable(index_dir: Path, count: int) -> None:
    articles = ArticleIndex(index_dir)
    assert articles.count() == count
    assert articles.search(SearchRequest(q="harbour"))["total"] == count


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_index_folder_is_a_clear_error_and_the_index_still_serves(
    indexed, monkeypatch, code
):
    source, index_dir = indexed
    refuse_writes(monkeypatch, index_dir, code)
    with pytest.raises(IndexUnwritable, match="Cannot write the index in") as raised:
        index_paths([source], index_dir, entities=False)
    assert str(index_dir) in raised.value.message
    reason = "read-only file system" if code == errno.EROFS else "permission denied"
    assert reason in raised.value.message
    still_usable(index_dir, 20)


def test_the_cli_reports_a_read_only_folder_without_a_traceback(indexed, monkeypatch):
    source, index_dir = indexed
    refuse_writes(monkeypatch, index_dir, errno.EROFS)
    result = CliRunner().invoke(
        main, ["index", str(source), "--index", str(index_dir), "--no-entities", "--workers", "1"]
    )
    assert result.exit_code == 1
    assert f"Error: Cannot write the index in {index_dir}: the folder is on a read-only" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def full_disk_at(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """ENOSPC from the segment files as articles are written, or from the TOC at commit."""

    def no_space(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "writing articles":
        real_write = StructFile.write
        calls = {"n": 0}

        def write(self: StructFile, *args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] > 40:  # part-way into the segment, not at its first byte
                no_space()
            return real_write(self, *args, **kwargs)

        monkeypatch.setattr(StructFile, "write", write)
    else:
        monkeypatch.setattr(TOC, "write", no_space)


@pytest.mark.parametrize("where", ["writing articles", "committing"])
def test_a_full_disk_is_a_clear_error_and_leaves_the_previous_index(indexed, monkeypatch, where):
    source, index_dir = indexed
    with monkeypatch.context() as patched:
        full_disk_at(patched, where)
        with pytest.raises(IndexUnwritable, match="the disk is full") as raised:
            index_paths([source], index_dir, entities=False)
    assert str(index_dir) in raised.value.message
    still_usable(index_dir, 20)
    assert soak_index.leftover_files(index_dir) == []  # the abandoned segment is gone
    assert index_paths([source], index_dir, entities=False).indexed == 40
    still_usable(index_dir, 60)


def test_an_index_path_that_is_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "ix").write_text("not a folder")
    with pytest.raises(IndexUnwritable, match="it is not a folder"):
        index_paths([feed(tmp_path / "in", "a.jsonl", 0, 1)], tmp_path / "ix")


# The real thing where the machine allows it: a tiny tmpfs, full or mounted read-only.


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs; skipped where mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def run_cli_index(source: Path, index_dir: Path) -> subprocess.CompletedProcess[str]:
    command = soak_index.index_command(source, index_dir, 1)
    return subprocess.run(command, capture_output=True, text=True, check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk has no room left; returns it."""
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_on_a_really_full_disk_the_command_fails_clearly(small_disk, tmp_path):
    source = feed(tmp_path / "in", "a.jsonl", 0, 20)
    index_dir = small_disk / "ix"
    index_paths([source], index_dir, entities=False)
    feed(source, "b.jsonl", 20, 400)
    filler = fill(small_disk)
    done = run_cli_index(source, index_dir)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Cannot write the index in {index_dir}: the disk is full" in done.stderr
    assert "Traceback" not in done.stderr
    still_usable(index_dir, 20)
    filler.unlink()
    assert run_cli_index(source, index_dir).returncode == 0
    still_usable(index_dir, 420)


def test_on_a_really_read_only_mount_the_command_fails_clearly(small_disk, tmp_path):
    source = feed(tmp_path / "in", "a.jsonl", 0, 20)
    index_dir = small_disk / "ix"
    index_paths([source], index_dir, entities=False)
    feed(source, "b.jsonl", 20, 5)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    done = run_cli_index(source, index_dir)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Cannot write the index in {index_dir}: the folder is on a read-only" in done.stderr
    assert "Traceback" not in done.stderr
    still_usable(index_dir, 20)


# --- indexing while serving ----------------------------------------------------------


def test_searches_keep_answering_while_an_index_run_commits(tmp_path):
    source = feed(tmp_path / "in", "a.jsonl", 0, 50)
    index_dir = tmp_path / "ix"
    index_paths([source], index_dir, entities=False)
    articles = ArticleIndex(index_dir)  # opened once, like the server's
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                totals.append(articles.search(SearchRequest(q="harbour", per_page=20))["total"])
                articles.search(SearchRequest(q="report OR cocoa", sort="newest"))
            except BaseException as error:  # every failure is what this test is about
                errors.append(error)

    server = threading.Thread(target=serve)
    server.start()
    try:
        sizes = [50]
        for first, count in ((50, 400), (450, 400)):  # two large runs, two commits
            feed(source, f"more-{first}.jsonl", first, count)
            done = run_cli_index(source, index_dir)
            assert done.returncode == 0, done.stderr
            sizes.append(first + count)
            # The same ArticleIndex sees the new articles: no reopening, no restart.
            assert articles.count() == first + count
    finally:
        stop.set()
        server.join()
    assert errors == []
    assert len(totals) > 10
    assert set(totals) <= set(sizes)  # every search saw a whole generation, never half of one
    assert totals == sorted(totals)
