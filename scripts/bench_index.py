"""Indexing benchmark: the full pipeline on Reuters-21578 + BBC, stage by stage, vs plain Whoosh.

Measures, in one run on the same input (so that ratios hold on a busy machine):

1. ``full``: ``index_paths(..., workers=W)`` end to end (read, learn furniture, clean,
   language, date, entities, semantic vectors, duplicates, index, commit) -- articles/s,
   peak memory, index size;
2. ``no-semantic``: the same without semantic vectors;
   ``no-entities``: search only, with neither entities nor semantic vectors;
3. ``baseline``: plain Whoosh (StemmingAnalyzer, stored body, one writer, default settings)
   over the same raw records;
4. ``stages``: each stage run on its own, single process, over the same records (entities on
   a sample, since NER dominates and a full extra pass would double the run). The indexer has
   no timing hooks, so the stages are measured by calling the library's own stage functions
   one after the other on the records, which is what ``process_record`` does.

Each configuration runs in a fresh child process: ``ru_maxrss`` is a high-water mark for the
life of a process, so only a new process gives each configuration its own peak.

    scripts/bench_index.py [--out bench-results/index.json] [--workers 2] [--entity-sample 3000]
                           [--max-docs N] [--data DIR] [--skip full,stages]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts._scripts import load_script  # noqa: E402 - after the path set-up

CONFIGS = ("baseline", "no-entities", "no-semantic", "full", "stages")
RUNS = ("full", "no-semantic", "no-entities")
DEFAULT_OUT = REPO / "bench-results" / "index.json"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def shared_data(explicit: str | None) -> Path:
    root = explicit or os.environ.get("NEWSEARCH_SHARED_DATA") or REPO.parent / "shared" / "data"
    return Path(root)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def peak_memory() -> dict[str, float]:
    """Peak resident set of this process and of its largest finished child, in MB.

    Linux reports ru_maxrss in kB. RUSAGE_CHILDREN is the largest of the waited-for
    children (the pool's workers are joined before we read it), not their sum.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "peak_child_rss_mb": round(children, 1)}


# ---------------------------------------------------------------- input


def prepare_inputs(data: Path, work: Path, max_docs: int) -> list[Path]:
    """Reuters-21578 converted by the project's importer into ``work``, plus the BBC folder."""
    importer = load_script("import_reuters21578")
    reuters = work / "reuters.jsonl"
    count = importer.convert(data / "reuters21578", reuters)
    if max_docs and count > max_docs:
        # A prefix keeps the run short for a smoke test; the real run uses every document.
        lines = reuters.read_text(encoding="utf-8").splitlines(keepends=True)[:max_docs]
        reuters.write_text("".join(lines), encoding="utf-8")
        count = max_docs
    log(f"converted {count} Reuters-21578 documents to {reuters}")
    bbc = data / "bbc" / "bbc"
    if not bbc.is_dir():
        raise SystemExit(f"no BBC folder at {bbc}")
    return [reuters, bbc]


# ---------------------------------------------------------------- child runs


def run_pipeline(
    paths: list[Path], work: Path, workers: int, entities: bool, semantic: bool
) -> dict[str, Any]:
    from search.indexer import index_paths

    target = work / f"index-{int(entities)}{int(semantic)}"
    phases: dict[str, float] = {}
    last = [time.perf_counter(), ""]

    def on_phase(name: str) -> None:
        # The indexer names its phases as it enters them: their gaps are the phase times.
        now = time.perf_counter()
        if last[1]:
            phases[str(last[1])] = round(now - float(last[0]), 2)
        last[0], last[1] = now, name

    summary = index_paths(
        paths,
        target,
        rebuild=True,
        workers=workers,
        entities=entities,
        semantic=semantic,
        on_phase=on_phase,
    )
    return {
        "seconds": round(summary.seconds, 2),
        "read": summary.read,
        "indexed": summary.indexed,
        "duplicates": summary.duplicates,
        "rejected": summary.rejected,
        "articles_per_s": round(summary.read / summary.seconds, 1),
        "phases_s": phases,
        "index_mb": round(folder_bytes(target) / 2**20, 1),
        "workers": workers,
        "entities": entities,
        "semantic": semantic,
    }


def raw_records(paths: list[Path]) -> list[Any]:
    from search.models import RawRecord
    from search.readers import read_paths

    return [item for item in read_paths(paths) if isinstance(item, RawRecord)]


def run_baseline(paths: list[Path], work: Path) -> dict[str, Any]:
    """Plain Whoosh on the raw records; reading is timed apart, as in the issue's 627/s."""
    from whoosh import index as whoosh_index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    t0 = time.perf_counter()
    records = raw_records(paths)
    read_s = time.perf_counter() - t0
    analyzer = StemmingAnalyzer()
    schema = Schema(
        id=ID(stored=True, unique=True),
        headline=TEXT(stored=True, analyzer=analyzer),
        body=TEXT(stored=True, analyzer=analyzer),
    )
    folder = work / "index-baseline"
    folder.mkdir()
    t0 = time.perf_counter()
    ix = whoosh_index.create_in(str(folder), schema)
    writer = ix.writer(limitmb=256)
    for number, record in enumerate(records):
        writer.add_document(id=str(number), headline=record.headline or "", body=record.body or "")
    writer.commit()
    index_s = time.perf_counter() - t0
    return {
        "seconds": round(index_s, 2),
        "read_s": round(read_s, 2),
        "read": len(records),
        "indexed": len(records),
        "articles_per_s": round(len(records) / index_s, 1),
        "articles_per_s_with_read": round(len(records) / (index_s + read_s), 1),
        "index_mb": round(folder_bytes(folder) / 2**20, 1),
        "workers": 1,
        "entities": False,
    }


def timed(label: str, items: list[Any], step: Callable[[Any], Any]) -> tuple[dict[str, Any], list]:
    t0 = time.perf_counter()
    out = [step(item) for item in items]
    seconds = time.perf_counter() - t0
    stage = {
        "stage": label,
        "n": len(items),
        "seconds": round(seconds, 3),
        "articles_per_s": round(len(items) / seconds, 1) if seconds else None,
        "ms_per_article": round(1000 * seconds / len(items), 3) if items else None,
    }
    log(f"  {label:<12} {stage['articles_per_s']} articles/s")
    return stage, out


def run_stages(paths: list[Path], work: Path, entity_sample: int) -> dict[str, Any]:
    """Each stage alone, one process, in pipeline order, each fed the previous one's output."""
    from search.clean import clean_body, clean_headline
    from search.config import ENTITY_LANGUAGES
    from search.dedup import content_hash, story_signature
    from search.entities import extract_entities
    from search.furniture import learn_furniture
    from search.indexer import open_or_create, write_article
    from search.language import detect_language
    from search.models import Article
    from search.pipeline import article_date
    from search.readers import read_paths

    stages = []
    t0 = time.perf_counter()
    records = raw_records(paths)
    read_s = time.perf_counter() - t0
    stages.append(
        {"stage": "read", "n": len(records), "seconds": round(read_s, 3),
         "articles_per_s": round(len(records) / read_s, 1),
         "ms_per_article": round(1000 * read_s / len(records), 3)}
    )  # fmt: skip
    t0 = time.perf_counter()
    furniture = learn_furniture(read_paths(paths))  # the indexer's extra pass reads again
    learn_s = time.perf_counter() - t0
    stages.append(
        {"stage": "furniture", "n": len(records), "seconds": round(learn_s, 3),
         "articles_per_s": round(len(records) / learn_s, 1),
         "ms_per_article": round(1000 * learn_s / len(records), 3)}
    )  # fmt: skip

    def clean(record: Any) -> tuple[Any, str, str]:
        learned = furniture.for_source(record.source)
        return record, clean_headline(record.headline), clean_body(record.body, learned)

    stage, cleaned = timed("clean", records, clean)
    stages.append(stage)
    stage, langs = timed("language", cleaned, lambda c: detect_language(c[1], c[2]))
    stages.append(stage)
    stage, dates = timed("date", cleaned, lambda c: article_date(c[0], c[2])[0])
    stages.append(stage)
    english = [f"{c[1]}\n\n{c[2]}" for c, lang in zip(cleaned, langs, strict=True) if lang == "en"]
    sample = english[:: max(1, len(english) // entity_sample)][:entity_sample]
    extract_entities(sample[:8])  # load the model outside the timing
    t0 = time.perf_counter()
    extract_entities(sample)
    ner_s = time.perf_counter() - t0
    words = sum(len(text.split()) for text in sample)
    stages.append(
        {"stage": "entities", "n": len(sample), "seconds": round(ner_s, 3),
         "articles_per_s": round(len(sample) / ner_s, 1),
         "ms_per_article": round(1000 * ner_s / len(sample), 3),
         "words_per_s": round(words / ner_s), "sampled": True,
         "entity_languages": sorted(ENTITY_LANGUAGES)}
    )  # fmt: skip
    log(f"  entities     {len(sample) / ner_s:.1f} articles/s (sample of {len(sample)})")
    stage, signatures = timed(
        "duplicates", cleaned, lambda c: (content_hash(c[1], c[2]), story_signature(c[2]))
    )
    stages.append(stage)
    articles = [
        Article(id=f"a{n}", headline=c[1], body=c[2], lang=lang,
                date=d.value if d else None, date_has_time=bool(d and d.has_time),
                source=c[0].source or "", url="", author="", path="", content_hash=s[0])
        for n, (c, lang, d, s) in enumerate(zip(cleaned, langs, dates, signatures, strict=True))
    ]  # fmt: skip
    target = work / "index-stages"
    ix = open_or_create(target, rebuild=True)
    writer = ix.writer(limitmb=256)
    t0 = time.perf_counter()
    for article, sig in zip(articles, signatures, strict=True):
        write_article(writer, article, replace=False, cluster=article.id, signature=sig[1])
    writer.commit()
    index_s = time.perf_counter() - t0
    stages.append(
        {"stage": "index", "n": len(articles), "seconds": round(index_s, 3),
         "articles_per_s": round(len(articles) / index_s, 1),
         "ms_per_article": round(1000 * index_s / len(articles), 3),
         "note": "project schema, one writer, no entities in the documents"}
    )  # fmt: skip
    log(f"  index        {len(articles) / index_s:.1f} articles/s")
    return {"stages": stages, "english": len(english), "records": len(records)}


def child(config: str, paths: list[Path], work: Path, args: argparse.Namespace) -> None:
    if config == "baseline":
        result = run_baseline(paths, work)
    elif config == "stages":
        result = run_stages(paths, work, args.entity_sample)
    else:
        result = run_pipeline(
            paths, work, args.workers, entities=config != "no-entities", semantic=config == "full"
        )
    result.update(peak_memory())
    print(json.dumps(result))


def spawn(config: str, paths: list[Path], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", config, "--workdir", str(work),
               "--workers", str(args.workers), "--entity-sample", str(args.entity_sample),
               "--inputs", *map(str, paths)]  # fmt: skip
    log(f"[{config}] ...")
    started = time.perf_counter()
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["child_wall_s"] = round(time.perf_counter() - started, 1)
    log(f"[{config}] done in {result['child_wall_s']}s")
    return result


# ---------------------------------------------------------------- output


def print_table(report: dict[str, Any]) -> None:
    runs = report["runs"]
    print(f"input: {report['input']}  cores: {report['cores']}  load before: {report['load']}")
    print(f"{'run':<14}{'articles':>9}{'seconds':>9}{'art/s':>9}{'x base':>8}"
          f"{'peak MB':>9}{'child MB':>9}{'index MB':>9}")  # fmt: skip
    print("-" * 76)
    base = runs.get("baseline", {}).get("articles_per_s")
    for name in (*RUNS, "baseline"):
        run = runs.get(name)
        if not run:
            continue
        ratio = f"{run['articles_per_s'] / base:8.2f}" if base else f"{'-':>8}"
        print(f"{name:<14}{run['read']:>9}{run['seconds']:>9.1f}{run['articles_per_s']:>9.1f}"
              f"{ratio}{run['peak_rss_mb']:>9.0f}{run['peak_child_rss_mb']:>9.0f}"
              f"{run['index_mb']:>9.1f}")  # fmt: skip
    for name in RUNS:
        if name in runs:
            print(f"  {name} phases (s): {runs[name]['phases_s']}")
    if "stages" in runs:
        print(f"\n{'stage (1 process)':<20}{'n':>7}{'seconds':>9}{'art/s':>10}{'ms/art':>9}")
        print("-" * 55)
        for stage in runs["stages"]["stages"]:
            print(f"{stage['stage']:<20}{stage['n']:>7}{stage['seconds']:>9.2f}"
                  f"{stage['articles_per_s']:>10.1f}{stage['ms_per_article']:>9.2f}")  # fmt: skip
    print("baseline art/s = Whoosh writer only (records already read); "
          f"with reading: {runs.get('baseline', {}).get('articles_per_s_with_read')}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON report path")
    parser.add_argument("--workers", type=int, default=2, help="pipeline worker processes")
    parser.add_argument(
        "--entity-sample", type=int, default=3000, help="English articles for the NER stage"
    )
    parser.add_argument("--max-docs", type=int, default=0, help="Reuters prefix (0: all)")
    parser.add_argument(
        "--data", help="shared data (default $NEWSEARCH_SHARED_DATA or ../shared/data)"
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated runs to leave out: " + ",".join(CONFIGS)
    )
    parser.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, [Path(p) for p in args.inputs], Path(args.workdir), args)
        return 0
    skip = {s for s in args.skip.split(",") if s}
    if skip - set(CONFIGS):
        parser.error(f"unknown runs in --skip: {sorted(skip - set(CONFIGS))}")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        work = Path(tmp)
        paths = prepare_inputs(shared_data(args.data), work, args.max_docs)
        runs: dict[str, Any] = {}
        # The baseline first and the rest right after it, so all share the machine's state.
        for config in CONFIGS:
            if config not in skip:
                runs[config] = spawn(config, paths, work, args)
    report = {
        "input": "Reuters-21578 (importer JSONL) + BBC folder",
        "cores": os.cpu_count(),
        "load": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "workers": args.workers,
        "runs": runs,
    }
    if "baseline" in runs:
        base = runs["baseline"]["articles_per_s"]
        report["ratios_vs_baseline"] = {
            name: round(runs[name]["articles_per_s"] / base, 2) for name in RUNS if name in runs
        }
    print_table(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
