#!/usr/bin/env python3
"""Kill ``newsearch index`` with SIGKILL at random moments and check that nothing is lost.

``soak_index.py [--trials N] [--seed S] [--articles N]`` runs N trials on a corpus the
script writes itself and prints one row per trial and a summary; it exits 1 if any
trial found a problem. tests/test_faults.py runs the same trials, fewer of them.

Each trial starts from no index or from one holding half the corpus, starts
``newsearch index`` on the whole corpus (``--verbose``, so that it announces its
phases), waits for a chosen phase -- startup, learning (the first reading pass),
indexing (reading, cleaning, language, writing), committing, finishing -- sleeps a
random part of that phase's length (measured by a first, clean run) and SIGKILLs it.
Then: the index opens and searches (or is absent, when it never committed), it holds
exactly the articles it held before or all of them (a run commits at once), the
workers died with their parent, the lock is free, and running the same command again
ends with exactly the expected articles, none twice, nothing left over on disk.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from search.errors import IndexLocked
from search.generations import BROKEN_SUFFIX, POOL_FOLDER, SEGMENT_PATTERN, generations, segment_ids
from search.indexer import index_paths, write_lock
from search.schema import INDEX_NAME
from search.searcher import ArticleIndex, SearchRequest

PHASES = ("startup", "learning", "indexing", "committing", "finishing")
VOCABULARY = (
    "harbour cocoa strike union minister price market crane rail bank storm vote court "
    "trade port grain ferry budget council tariff drought river bridge factory wages "
    "election senate mayor police hospital school teacher nurse fishing coal steel copper "
    "airline pilot tourism festival museum library orchard vineyard harvest flood wind"
)
WORDS = tuple(VOCABULARY.split())
MALFORMED_LINES = 2  # the corpus also holds this many broken JSON lines


def write_corpus(folder: Path, articles: int = 200, seed: int = 0) -> Path:
    """``articles`` short, distinct articles over JSON Lines, text and CSV files."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def body(number: int) -> str:
        words = " ".join(rng.choice(WORDS) for _ in range(45))
        return f"{words.capitalize()}. Report number {number} ends here."

    text_files, csv_rows = articles // 5, articles // 10
    json_records = articles - text_files - csv_rows
    per_feed = max(1, json_records // 3 + 1)
    for start in range(0, json_records, per_feed):
        with (folder / f"feed-{start:04d}.jsonl").open("w", encoding="utf-8") as out:
            for number in range(start, min(start + per_feed, json_records)):
                record = {"id": f"j-{number}", "title": f"Story {number}", "text": body(number)}
                out.write(json.dumps(record) + "\n")
                if number in (start + 3, start + 7) and start == 0:
                    out.write("{broken json\n")
    for number in range(text_files):
        url = f"https://news.example/t-{number}"
        (folder / f"story-{number:04d}.txt").write_text(
            f"URL: {url}\nDate: 2024-03-05\n\nText story {number}\n\n{body(number + 1000)}\n",
            encoding="utf-8",
        )
    with (folder / "table.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "title", "text"])
        for number in range(csv_rows):
            writer.writerow([f"c-{number}", f"Table story {number}", body(number + 2000)])
    return folder


def index_command(corpus: Path, index_dir: Path, workers: int) -> list[str]:
    """``newsearch index`` as a user runs it (the console script beside this Python)."""
    script = Path(sys.executable).with_name("newsearch")
    start = [str(script)] if script.exists() else [sys.executable, "-c", CLI_MAIN]
    return [
        *start,
        "index",
        str(corpus),
        "--index",
        str(index_dir),
        "--no-entities",
        "--verbose",
        "--workers",
        str(workers),
    ]


CLI_MAIN = "from search.cli import main; main()"


def measure_phases(corpus: Path, workdir: Path, launch: str) -> dict[str, float]:
    """How long each phase lasts in a clean run, from when its ``phase:`` line arrives."""
    target = workdir / f"timing-index-{launch}"
    shutil.rmtree(target, ignore_errors=True)
    started = time.monotonic()
    seen: dict[str, float] = {"startup": started}
    with Launched(launch, index_command(corpus, target, 1)) as run:
        for line in run.lines():
            if line.startswith("phase: "):
                seen[line.removeprefix("phase: ")] = time.monotonic()
        status = run.wait()
    ended = time.monotonic()
    if status != 0:
        raise RuntimeError(f"the clean run failed with exit status {status}")
    boundaries = ["startup", "recovering", "learning", "indexing", "committing", "finishing"]
    times = [seen[name] for name in boundaries] + [ended]
    lengths = dict(zip(boundaries, (b - a for a, b in itertools.pairwise(times)), strict=False))
    lengths["startup"] += lengths.pop("recovering")  # too short to aim at on its own
    shutil.rmtree(target, ignore_errors=True)
    return lengths


class Launched:
    """``newsearch index`` running in a child process, its stderr read line by line.

    ``exec``: the installed command, as a user runs it. ``fork``: this process forks and
    the child runs the same command function -- the same code from reading to commit,
    without the 1.5 s it takes a fresh interpreter to import it all (a trial killed at
    start-up needs ``exec``). Either way the child is killed with SIGKILL, the same.
    """

    def __init__(self, launch: str, command: list[str]) -> None:
        self.launch = launch
        self.status: int | None = None
        if launch == "exec":
            self.process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            self.pid = self.process.pid
            assert self.process.stderr is not None
            self.stream = self.process.stderr
        else:
            read_end, write_end = os.pipe()
            self.pid = os.fork()
            if self.pid == 0:  # the child: never returns
                os.close(read_end)
                run_command_in_child(command[1:], write_end)
            os.close(write_end)
            self.stream = os.fdopen(read_end, "rb")

    def lines(self) -> Iterator[str]:
        for raw in self.stream:
            yield raw.decode("utf-8", "replace").strip()

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        """The exit status; negative: the signal that ended it."""
        if self.status is None:
            if self.launch == "exec":
                self.process.communicate()
                self.status = self.process.returncode
            else:
                self.stream.read()
                _, code = os.waitpid(self.pid, 0)
                self.status = os.waitstatus_to_exitcode(code)
        return self.status

    def __enter__(self) -> Launched:
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.status is None:
                self.kill()
        self.wait()
        self.stream.close()


def run_command_in_child(args: list[str], stderr_fd: int) -> None:
    """In a forked child: run ``newsearch ARGS`` with stderr into the pipe, then exit."""
    from search.cli import main as cli_main

    code = 1
    try:
        sys.stdout = os.fdopen(os.open(os.devnull, os.O_WRONLY), "w")
        sys.stderr = os.fdopen(stderr_fd, "w", buffering=1)
        cli_main(args, prog_name="newsearch")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        os._exit(code)  # never run the parent's clean-up (pytest's, for one) in the child


def stored_ids(index_dir: Path) -> list[str] | None:
    """Every stored article id (duplicates kept); None when there is no index."""
    if not whoosh_index.exists_in(index_dir, indexname=INDEX_NAME):
        return None
    ix = whoosh_index.open_dir(index_dir, indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        return [fields["id"] for fields in searcher.reader().all_stored_fields()]


@dataclass
class Trial:
    number: int
    phase: str
    delay: float
    workers: int
    start: str  # "empty" or "half"
    launch: str = "exec"
    killed: bool = False
    after_kill: str = ""  # absent, empty, half, complete or partial
    workers_left: int = 0
    rerun_indexed: int = -1
    problems: list[str] = field(default_factory=list)

    def row(self) -> str:
        verdict = "ok" if not self.problems else "FAIL: " + "; ".join(self.problems)
        return (
            f"{self.number:>4}  {self.phase:<10} {self.delay * 1000:>7.1f}ms  w{self.workers}  "
            f"{self.launch:<4}  "
            f"{self.start:<5}  {'killed' if self.killed else 'ended':<6}  "
            f"{self.after_kill:<8}  {self.rerun_indexed:>4}  {verdict}"
        )


HEADER = "   #  phase         delay  w   how   start  run     after     re-indexed  verdict"


@dataclass
class Setup:
    """What every trial shares: the corpus, the expected ids, the half-way index."""

    corpus: Path
    workdir: Path
    expected: set[str]
    half_index: Path
    half_ids: set[str]
    phases: dict[str, dict[str, float]]  # by launch, then by phase


def prepare(
    workdir: Path, articles: int = 200, seed: int = 0, launches: tuple[str, ...] = ("exec",)
) -> Setup:
    corpus = write_corpus(workdir / "corpus", articles, seed)
    reference = workdir / "reference-index"
    index_paths([corpus], reference, entities=False)
    expected = set(stored_ids(reference) or [])
    # The half-way index: the same files, half of them, at the same paths.
    half_corpus = workdir / "half-corpus"
    shutil.copytree(corpus, half_corpus)
    files = sorted(half_corpus.iterdir())
    for path in files[len(files) // 2 :]:
        path.unlink()
    half_index = workdir / "half-index"
    index_paths([half_corpus], half_index, entities=False)
    half_ids = set(stored_ids(half_index) or [])
    phases = {launch: measure_phases(corpus, workdir, launch) for launch in launches}
    return Setup(corpus, workdir, expected, half_index, half_ids, phases)


def run_trial(
    number: int, rng: random.Random, setup: Setup, *, rerun_cli: bool, launch: str = "exec"
) -> Trial:
    """One trial: the phase, the worker count and the start come from its number."""
    phase = PHASES[number % len(PHASES)]
    # Killing at start-up needs a fresh interpreter; so does finishing, whose window a
    # forked child (no interpreter shutdown) is too quick to hit.
    launch = "exec" if phase in ("startup", "finishing") else launch
    trial = Trial(
        number=number,
        phase=phase,
        delay=rng.uniform(0.0, setup.phases[launch][phase] * 0.9),
        workers=1 + number % 2,
        start="half" if (number // len(PHASES)) % 2 else "empty",
        launch=launch,
    )
    index_dir = setup.workdir / f"trial-{number}"
    shutil.rmtree(index_dir, ignore_errors=True)
    if trial.start == "half":
        shutil.copytree(setup.half_index, index_dir)
    before = setup.half_ids if trial.start == "half" else set()
    kill_during(trial, index_command(setup.corpus, index_dir, trial.workers))
    check_after_kill(trial, index_dir, before, setup.expected)
    rerun(trial, index_dir, setup, rerun_cli=rerun_cli)
    shutil.rmtree(index_dir, ignore_errors=True)
    return trial


def kill_during(trial: Trial, command: list[str]) -> None:
    """Start the command, SIGKILL it ``delay`` into ``phase``, and wait for it to end."""
    with Launched(trial.launch, command) as run:
        if trial.phase != "startup":
            for line in run.lines():
                if line == f"phase: {trial.phase}":
                    break
        time.sleep(trial.delay)
        workers = child_pids(run.pid)
        run.kill()
        trial.killed = run.wait() == -signal.SIGKILL
    trial.workers_left = len(outliving(workers))
    if trial.workers_left:
        trial.problems.append(f"{trial.workers_left} worker processes outlived the run")


def child_pids(pid: int) -> list[int]:
    """The direct children of ``pid`` (its pipeline workers), from /proc."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def outliving(pids: list[int], patience: float = 5.0) -> list[int]:
    """The processes still alive (not zombies) after up to ``patience`` seconds.

    Those left are then killed, so that a failing trial does not leave them running.
    """
    deadline = time.monotonic() + patience
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if running(pid)]
        if alive:
            time.sleep(0.05)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return alive


def running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next((line for line in status.splitlines() if line.startswith("State:")), "")
    return "Z" not in state.split(":", 1)[-1].split()[:1]


def check_after_kill(trial: Trial, index_dir: Path, before: set[str], expected: set[str]) -> None:
    """The index is whole (before or after the run, nothing between) and searchable."""
    ids = stored_ids(index_dir) if index_dir.is_dir() else None
    if ids is None:
        trial.after_kill = "absent"
        if before:
            trial.problems.append("the previous index is gone")
    else:
        found = set(ids)
        if len(ids) != len(found):
            trial.problems.append("an article is in the index twice")
        trial.after_kill = (
            "complete"
            if found == expected
            else "empty"
            if not found
            else "half"
            if found == before
            else "partial"
        )
        if trial.after_kill == "partial" or (trial.after_kill == "empty" and before):
            trial.problems.append(f"after the kill the index holds {len(found)} articles")
        check_searches(trial, index_dir, len(ids))
    if index_dir.is_dir():
        try:
            with write_lock(index_dir):
                pass
        except IndexLocked:
            trial.problems.append("the lock is still held after the kill")


def check_searches(trial: Trial, index_dir: Path, count: int) -> None:
    articles = ArticleIndex(index_dir)
    try:
        everything = articles.search(SearchRequest(per_page=5))
        articles.search(SearchRequest(q="harbour OR cocoa", per_page=5))
    except Exception as error:  # a search that fails is what this trial looks for
        trial.problems.append(f"search failed: {type(error).__name__}: {error}")
        return
    if everything["total"] != count:
        trial.problems.append(f"search sees {everything['total']} of {count} articles")


def rerun(trial: Trial, index_dir: Path, setup: Setup, *, rerun_cli: bool) -> None:
    """Run the same index again: it must end with exactly the expected articles."""
    if rerun_cli:
        command = index_command(setup.corpus, index_dir, trial.workers)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or "Traceback" in done.stderr:
            trial.problems.append(f"re-run failed ({done.returncode}): {done.stderr[-300:]}")
            return
        counts = summary_counts(done.stdout)
    else:
        summary = index_paths([setup.corpus], index_dir, workers=trial.workers, entities=False)
        counts = {
            "read": summary.read,
            "indexed": summary.indexed,
            "unchanged": summary.unchanged,
            "duplicates": summary.duplicates,
            "rejected": summary.rejected,
        }
    trial.rerun_indexed = counts.get("indexed", -1)
    if counts["read"] != sum(counts[k] for k in ("indexed", "unchanged", "duplicates", "rejected")):
        trial.problems.append(f"the re-run's counts do not add up: {counts}")
    if counts["rejected"] != MALFORMED_LINES:
        trial.problems.append(f"the re-run rejected {counts['rejected']}, not {MALFORMED_LINES}")
    ids = stored_ids(index_dir) or []
    if Counter(ids) != Counter(setup.expected):
        missing, extra = setup.expected - set(ids), len(ids) - len(set(ids))
        trial.problems.append(f"after the re-run: {len(missing)} missing, {extra} twice")
    leftovers = leftover_files(index_dir)
    if leftovers:
        trial.problems.append(f"files left over: {leftovers[:5]}")


def summary_counts(stdout: str) -> dict[str, int]:
    """``read 5, indexed 2, ...`` -> {"read": 5, "indexed": 2, ...}."""
    line = next(line for line in stdout.splitlines() if line.startswith("read "))
    counts = {}
    for part in line.split(" in ")[0].split(", "):
        name, value = part.split(" ")
        counts[name] = int(value)
    return counts


def leftover_files(index_dir: Path) -> list[str]:
    """Files no kept generation names: what a crash left and recovery missed."""
    kept = generations(index_dir)
    storage = FileStorage(str(index_dir))
    wanted: set[str] = set()
    for generation in kept:
        wanted |= segment_ids(storage, generation) or set()
    names = [path.name for path in index_dir.iterdir() if stray(path.name, wanted)]
    if len(kept) > 2:
        names.append(f"{len(kept)} generations kept")
    return names


def stray(name: str, wanted: set[str]) -> bool:
    segment = SEGMENT_PATTERN.match(name)
    if segment:
        return segment.group(1) not in wanted
    if name.endswith(BROKEN_SUFFIX):  # a torn generation, set aside on purpose
        return False
    return name == POOL_FOLDER or name.endswith(".tmp") or ".toc." in name


def totals(results: list[Trial]) -> str:
    """``20 trials, 20 killed (learning 4, ...); after the kill: empty 6, ...``."""
    by_phase = Counter(t.phase for t in results if t.killed)
    states = Counter(t.after_kill for t in results)
    phases = ", ".join(f"{name} {count}" for name, count in by_phase.items())
    after = ", ".join(f"{name} {count}" for name, count in states.items())
    killed = sum(t.killed for t in results)
    return f"{len(results)} trials, {killed} killed ({phases}); after the kill: {after}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", "7")))
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument(
        "--cli-every", type=int, default=5, help="re-run with the CLI every Nth trial"
    )
    parser.add_argument(
        "--fork",
        action="store_true",
        help="fork the command instead of starting it afresh (faster; not for start-up, finishing)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-index-") as folder:
        workdir = Path(folder)
        setup_started = time.monotonic()
        results = []
        launch = "fork" if args.fork else "exec"
        setup = prepare(workdir, args.articles, args.seed, launches=tuple({"exec", launch}))
        print(
            f"corpus: {len(setup.expected)} articles, phases measured (s): "
            + ", ".join(f"{k} {v:.2f}" for k, v in setup.phases["exec"].items())
        )
        print(f"set-up took {time.monotonic() - setup_started:.1f}s; seed {args.seed}\n")
        print(HEADER)
        rng = random.Random(args.seed)
        for number in range(args.trials):
            with_cli = number % args.cli_every == args.cli_every - 1
            trial = run_trial(number, rng, setup, rerun_cli=with_cli, launch=launch)
            results.append(trial)
            print(trial.row(), flush=True)
    failed = [t for t in results if t.problems]
    print("\n" + totals(results) + f"; {len(failed)} failed; {time.monotonic() - started:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
