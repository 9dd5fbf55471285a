"""Scale series: index time, index size, memory and query latency at growing corpus sizes.

For each size N: scripts/make_corpus.py writes N synthetic articles (seeded, from real
headlines and sentences) outside the repository; a child process indexes them with
``index_paths(..., workers=W)`` and reports its time and peak memory (its own and its
largest worker's); another child opens the index, runs scripts/bench_search.py's query log
through ArticleIndex.search and reports p50/p95/p99 per query kind and its resident memory
(the figure a server process would hold). Entities and semantic vectors are on up to
``--entities-up-to`` articles and off above it (the issue allows that above 100k; NER and
the sentence model are the slowest stages).

Writes a JSON report and a PNG plot next to it.

    scripts/bench_scale.py [--sizes 20000,100000] [--entities-up-to 100000] [--workers 2]
                           [--queries 500] [--seed 1] [--work /tmp/newsearch-scale]
                           [--out bench-results/scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts._scripts import load_script  # noqa: E402 - after the path set-up

DEFAULT_OUT = REPO / "bench-results" / "scale.json"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_mb() -> dict[str, float]:
    """Peak resident set of this process and of its largest waited-for child, MB (Linux kB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "peak_child_rss_mb": round(children, 1)}


def child_index(corpus: Path, index_dir: Path, workers: int, entities: bool) -> dict[str, Any]:
    from search.indexer import index_paths

    # Semantic vectors go with entities: both are the model stages switched off at scale.
    summary = index_paths(
        [corpus], index_dir, rebuild=True, workers=workers, entities=entities, semantic=entities
    )
    size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    return {
        "index_s": round(summary.seconds, 1),
        "read": summary.read,
        "indexed": summary.indexed,
        "duplicates": summary.duplicates,
        "articles_per_s": round(summary.read / summary.seconds, 1),
        "index_mb": round(size / 2**20, 1),
        **rss_mb(),
    }


def child_query(index_dir: Path, queries: int, seed: int) -> dict[str, Any]:
    bench = load_script("bench_search")
    queries_log, info = bench.build_log(index_dir, queries, seed)
    result = bench.bench_project(index_dir, queries_log)
    # The query log's construction reads every stored field, which inflates the peak; the
    # current RSS after the queries is what a long-running searcher keeps.
    status = Path("/proc/self/status").read_text()
    current = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return {"queries": len(queries_log), "log": info, "project": result,
            "rss_after_queries_mb": round(current / 1024, 1), **rss_mb()}  # fmt: skip


def spawn(arguments: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *arguments], check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_size(size: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    corpus = work / f"corpus-{size}-seed{args.seed}.jsonl"
    if not corpus.exists():  # the same seed and size give the same file: reuse it
        log(f"[{size}] generating the corpus ...")
        subprocess.run(
            [sys.executable, str(REPO / "scripts" / "make_corpus.py"), str(corpus),
             "--articles", str(size), "--seed", str(args.seed)],
            check=True,
        )  # fmt: skip
    entities = size <= args.entities_up_to
    index_dir = work / f"index-{size}"
    log(f"[{size}] indexing (entities {'on' if entities else 'off'}) ...")
    indexed = spawn(["--child-index", str(corpus), str(index_dir), str(args.workers),
                     "1" if entities else "0"])  # fmt: skip
    log(f"[{size}] {indexed['articles_per_s']} articles/s, {indexed['index_mb']} MB; querying ...")
    queried = spawn(["--child-query", str(index_dir), str(args.queries), str(args.seed)])
    overall = queried["project"]["overall"]
    log(f"[{size}] p50 {overall['p50_ms']:.1f} ms p95 {overall['p95_ms']:.1f} ms")
    if not args.keep:
        shutil.rmtree(index_dir, ignore_errors=True)
    return {"size": size, "entities": entities, "index": indexed, "search": queried}


def plot(report: dict[str, Any], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on the benchmark machine
    import matplotlib.pyplot as plt

    rows = report["sizes"]
    sizes = [r["size"] for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    panels = [
        ("index time (s)", [r["index"]["index_s"] for r in rows]),
        ("index size (MB)", [r["index"]["index_mb"] for r in rows]),
        ("indexing peak RSS (MB), main process", [r["index"]["peak_rss_mb"] for r in rows]),
    ]
    for axis, (title, values) in zip(axes.flat, panels, strict=False):
        axis.plot(sizes, values, marker="o")
        axis.set_title(title)
        axis.set_xscale("log")
        axis.set_xlabel("articles")
    latency = axes.flat[3]
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        latency.plot(sizes, [r["search"]["project"]["overall"][key] for r in rows],
                     marker="o", label=key.split("_")[0])  # fmt: skip
    latency.set_title("search latency (ms), all query kinds")
    latency.set_xscale("log")
    latency.set_xlabel("articles")
    latency.legend()
    fig.suptitle(f"newsearch scale series (seed {report['seed']}, {report['cores']} busy cores)")
    fig.tight_layout()
    fig.savefig(png, dpi=100)


def print_table(report: dict[str, Any]) -> None:
    print(f"{'articles':>9}{'NER':>5}{'index s':>9}{'art/s':>8}{'index MB':>9}{'peak MB':>9}"
          f"{'child MB':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'p95*':>8}"
          f"{'q RSS MB':>9}")  # fmt: skip
    print("-" * 99)
    for r in report["sizes"]:
        i, s = r["index"], r["search"]["project"]["overall"]
        uncommon = r["search"]["project"].get("not_single_common_word", {})
        print(f"{r['size']:>9}{'on' if r['entities'] else 'off':>5}{i['index_s']:>9.1f}"
              f"{i['articles_per_s']:>8.1f}{i['index_mb']:>9.1f}{i['peak_rss_mb']:>9.0f}"
              f"{i['peak_child_rss_mb']:>9.0f}{s['p50_ms']:>8.1f}{s['p95_ms']:>8.1f}"
              f"{s['p99_ms']:>8.1f}{uncommon.get('p95_ms', float('nan')):>8.1f}"
              f"{r['search']['rss_after_queries_mb']:>9.0f}")  # fmt: skip
    print("p95*: every query but those of a single very common word")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,100000", help="comma-separated article counts")
    parser.add_argument("--entities-up-to", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default="/tmp/newsearch-scale", help="corpora and indexes")
    parser.add_argument("--keep", action="store_true", help="keep the indexes afterwards")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON report (PNG beside it)")
    parser.add_argument("--child-index", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--child-query", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_index:
        corpus, index_dir, workers, entities = args.child_index
        print(json.dumps(child_index(Path(corpus), Path(index_dir), int(workers), entities == "1")))
        return 0
    if args.child_query:
        index_dir, queries, seed = args.child_query
        print(json.dumps(child_query(Path(index_dir), int(queries), int(seed))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = Path(args.work)
    if work.resolve().is_relative_to(REPO):
        parser.error("--work must be outside the repository")
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"seed": args.seed, "cores": os.cpu_count(), "workers": args.workers,
                              "entities_up_to": args.entities_up_to,
                              "load_before": [round(x, 2) for x in os.getloadavg()],
                              "sizes": []}  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for size in sizes:
        report["sizes"].append(run_size(size, args, work))
        # Written after every size, so that a run stopped at the next one keeps these.
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    report["wall_s"] = round(time.perf_counter() - started, 1)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    png = out.with_suffix(".png")
    plot(report, png)
    print_table(report)
    print(f"wrote {out} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
