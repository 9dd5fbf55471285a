"""Search latency and throughput benchmark.

Measures, in one run on the same documents:

(a) the project's search function (ArticleIndex.search), single thread, after a warm-up,
    as shipped and by words alone (semantic share 0: what the semantic blend costs);
(b) a plain-Whoosh baseline (StemmingAnalyzer, MultifieldParser AND query, top-10 with
    body highlights), built in the same temporary folder;
(c) the JSON endpoint /api/search served by the production server (`newsearch serve`,
    one process) on 127.0.0.1 under C concurrent urllib client threads for S seconds.

The query log is built, seeded and deterministic, from the indexed articles themselves.

    scripts/bench_search.py [--index DIR] [--build-from reuters|reuters+bbc] [--queries 500]
                            [--clients 4] [--seconds 20] [--json OUT] [--seed 1]
                            [--max-docs N] [--data DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from whoosh import index as whoosh_index  # noqa: E402
from whoosh.analysis import STOP_WORDS, StemmingAnalyzer  # noqa: E402
from whoosh.fields import DATETIME, ID, TEXT, Schema  # noqa: E402
from whoosh.qparser import AndGroup, MultifieldParser  # noqa: E402
from whoosh.query import And, DateRange  # noqa: E402

from scripts._scripts import free_port, load_script, start_server  # noqa: E402
from search.config import RANKING, Ranking  # noqa: E402
from search.indexer import index_paths  # noqa: E402
from search.searcher import ArticleIndex, SearchRequest  # noqa: E402

WARMUP = 20
MAX_HTTP_REQUESTS = 200_000  # a hard bound on the client loop besides the clock
WORD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
RESERVED = {"and", "or", "not", "to", "in", "since", "after", "before", "until", "between"}
RESERVED |= {"today", "yesterday", "last", "this", "near"}
YEAR_START, YEAR_END = date(1987, 1, 1), date(1987, 12, 31)


@dataclass
class Query:
    kind: str
    q: str = ""
    lang: str = ""
    source: str = ""
    entity: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"

    def request(self) -> SearchRequest:
        return SearchRequest(
            q=self.q,
            lang=self.lang,
            source=self.source,
            entity=self.entity,
            date_from=self.date_from,
            date_to=self.date_to,
            sort=self.sort,
        )

    def url_params(self) -> dict[str, str]:
        params = {
            "q": self.q,
            "lang": self.lang,
            "source": self.source,
            "entity": self.entity,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "sort": self.sort,
        }
        return {key: value for key, value in params.items() if value}

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, **self.url_params()}


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0

    def summary(self) -> dict[str, Any]:
        values = sorted(self.seconds)
        out: dict[str, Any] = {"n": len(values), "errors": self.errors}
        if values:
            out.update(
                p50_ms=1000 * pct(values, 50),
                p95_ms=1000 * pct(values, 95),
                p99_ms=1000 * pct(values, 99),
                mean_ms=1000 * statistics.fmean(values),
            )
        if self.wall > 0:
            out["per_s"] = len(values) / self.wall
        return out


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, min(len(values), round(p / 100 * len(values) + 0.5)))
    return values[rank - 1]


def shared_data(explicit: str | None) -> Path:
    root = explicit or os.environ.get("NEWSEARCH_SHARED_DATA") or REPO.parent / "shared" / "data"
    return Path(root)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- building the index


def write_reuters_jsonl(data: Path, out: Path, max_docs: int) -> int:
    importer = load_script("import_reuters21578")
    folder = data / "reuters21578"
    files = sorted(folder.glob("reut2-*.sgm"))
    if not files:
        raise SystemExit(f"no reut2-*.sgm files in {folder}")
    count = 0
    with out.open("w", encoding="utf-8") as sink:
        for path in files:
            for record in importer.iter_documents(path):
                if max_docs and count >= max_docs:
                    return count
                doc = {key: record[key] for key in ("id", "headline", "body", "date", "source")}
                sink.write(json.dumps(doc) + "\n")
                count += 1
    return count


def build_index(args: argparse.Namespace, work: Path) -> Path:
    data = shared_data(args.data)
    inputs = work / "input"
    inputs.mkdir()
    paths: list[Path] = [inputs / "reuters.jsonl"]
    n = write_reuters_jsonl(data, paths[0], args.max_docs)
    log(f"converted {n} Reuters-21578 documents to JSONL")
    if args.build_from == "reuters+bbc":
        bbc = data / "bbc" / "bbc"
        if not bbc.is_dir():
            raise SystemExit(f"no BBC folder at {bbc}")
        paths.append(bbc)
    target = work / "project-index"
    log("indexing with entities OFF (index_paths(..., workers=2, entities=False)) ...")
    summary = index_paths(paths, target, workers=2, entities=False)
    log(f"  project index: {summary.line()} in {summary.seconds:.1f}s")
    return target


# ---------------------------------------------------------------- the query log


def stored_docs(index_dir: Path) -> list[dict[str, Any]]:
    ix = whoosh_index.open_dir(str(index_dir), indexname="MAIN")
    with ix.searcher() as searcher:
        return [dict(fields) for fields in searcher.all_stored_fields()]


def words_of(text: str) -> list[str]:
    return [w for w in re.split(r"[^A-Za-z0-9]+", text) if WORD.match(w)]


def plain(words: Iterable[str]) -> bool:
    """No operator, date word, stop word or single letter: every query has words to search."""
    return all(w.lower() not in RESERVED | STOP_WORDS and len(w) > 1 for w in words)


def lexicon_buckets(index_dir: Path, n_docs: int) -> dict[str, list[str]]:
    """Body terms by document frequency: rare (2-5 docs), medium, common (>= 2 %)."""
    buckets: dict[str, list[str]] = {"rare": [], "medium": [], "common": []}
    common_at = max(20, n_docs // 50)
    ix = whoosh_index.open_dir(str(index_dir), indexname="MAIN")
    with ix.reader() as reader:
        for term, info in reader.iter_field("body"):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            if not (text.isalpha() and text.isascii() and len(text) >= 4) or not plain([text]):
                continue
            df = info.doc_frequency()
            if 2 <= df <= 5:
                buckets["rare"].append(text)
            elif 20 <= df < common_at:
                buckets["medium"].append(text)
            elif df >= common_at:
                buckets["common"].append(text)
    return buckets


def entity_names(docs: list[dict[str, Any]]) -> list[str]:
    names: set[str] = set()
    for doc in docs:
        entities = doc.get("entities") or {}
        if isinstance(entities, dict):
            for values in entities.values():
                names.update(v for v in values or () if isinstance(v, str))
    return sorted(names)


def build_log(index_dir: Path, n: int, seed: int) -> tuple[list[Query], dict[str, Any]]:
    rng = random.Random(seed)
    docs = stored_docs(index_dir)
    docs.sort(key=lambda d: d.get("id", ""))
    if not docs:
        raise SystemExit("the index is empty")
    buckets = lexicon_buckets(index_dir, len(docs))
    for terms in buckets.values():
        terms.sort()
    entities = entity_names(docs)
    langs = sorted({d.get("lang") or "" for d in docs} - {""})
    sources = ["Reuters"]  # every converted Reuters record says so; source is not stored
    common = buckets["common"] or buckets["medium"] or ["said"]
    info = {"documents": len(docs), "entities_indexed": bool(entities), "langs": langs,
            "lexicon": {k: len(v) for k, v in buckets.items()}}  # fmt: skip

    def headline_fragment() -> Query | None:
        words = words_of(rng.choice(docs).get("headline") or "")
        size = rng.randint(2, 4)
        if len(words) < size:
            return None
        start = rng.randrange(len(words) - size + 1)
        chunk = words[start : start + size]
        return Query("headline", " ".join(chunk).lower()) if plain(chunk) else None

    def term(bucket: str) -> Query | None:
        terms = buckets[bucket]
        return Query(f"term_{bucket}", rng.choice(terms)) if terms else None

    def phrase() -> Query | None:
        words = words_of((rng.choice(docs).get("body") or "")[:600])
        size = rng.randint(2, 3)
        if len(words) < size + 1:
            return None
        start = rng.randrange(len(words) - size)
        chunk = words[start : start + size]
        return Query("phrase", '"' + " ".join(chunk).lower() + '"') if plain(chunk) else None

    def filtered() -> Query | None:
        if entities:
            return Query("filter_entity", rng.choice(common), entity=rng.choice(entities))
        if rng.random() < 0.5 and langs:
            return Query("filter_lang", rng.choice(common), lang=rng.choice(langs))
        return Query("filter_source", rng.choice(common), source=rng.choice(sources))

    def date_range() -> Query:
        start = YEAR_START + timedelta(days=rng.randrange(365))
        end = min(YEAR_END, start + timedelta(days=rng.choice((3, 7, 30, 90))))
        return Query("date_range", rng.choice(common), date_from=start, date_to=end)

    def facet_only() -> Query:
        if entities and rng.random() < 0.5:
            return Query("facet_only", entity=rng.choice(entities))
        if langs and rng.random() < 0.5:
            return Query("facet_only", lang=rng.choice(langs))
        return Query("facet_only", source=rng.choice(sources))

    def sorted_query() -> Query:
        return Query("sort", rng.choice(common), sort=rng.choice(("newest", "oldest")))

    makers: list[Callable[[], Query | None]] = [
        headline_fragment, headline_fragment, lambda: term("rare"), lambda: term("medium"),
        lambda: term("common"), phrase, filtered, date_range, facet_only, sorted_query,
    ]  # fmt: skip
    queries: list[Query] = []
    for attempt in range(n * 20):  # bounded: some draws are refused
        if len(queries) >= n:
            break
        made = makers[attempt % len(makers)]()
        if made is not None:
            queries.append(made)
    return queries, info


# ---------------------------------------------------------------- (a) the project


def bench_project(
    index_dir: Path, queries: list[Query], ranking: Ranking = RANKING
) -> dict[str, Any]:
    articles = ArticleIndex(index_dir, ranking=ranking)
    for query in queries[:WARMUP]:
        articles.search(query.request())
    overall, kinds = Timings(), {}
    started = time.perf_counter()
    for query in queries:
        t0 = time.perf_counter()
        try:
            articles.search(query.request())
        except Exception as error:  # counted and reported, the run goes on
            overall.errors += 1
            kinds.setdefault(query.kind, Timings()).errors += 1
            log(f"  project error on {query.to_json()}: {error!r}")
            continue
        elapsed = time.perf_counter() - t0
        overall.seconds.append(elapsed)
        kinds.setdefault(query.kind, Timings()).seconds.append(elapsed)
    overall.wall = time.perf_counter() - started
    for timing in kinds.values():
        timing.wall = sum(timing.seconds)
    # The 1M target leaves out queries of a single very common word.
    uncommon = Timings(
        [t for kind, timing in kinds.items() if kind != "term_common" for t in timing.seconds]
    )
    return {
        "overall": overall.summary(),
        "not_single_common_word": uncommon.summary(),
        "kinds": {k: t.summary() for k, t in sorted(kinds.items())},
    }


# ---------------------------------------------------------------- (b) plain Whoosh


def build_baseline(docs: list[dict[str, Any]], folder: Path) -> whoosh_index.Index:
    analyzer = StemmingAnalyzer()
    schema = Schema(id=ID(stored=True, unique=True), date=DATETIME(),
                    headline=TEXT(stored=True, analyzer=analyzer),
                    body=TEXT(stored=True, analyzer=analyzer))  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(folder), schema)
    writer = ix.writer(limitmb=256)
    for doc in docs:
        fields: dict[str, Any] = {"id": doc.get("id", ""), "headline": doc.get("headline") or "",
                                  "body": doc.get("body") or ""}  # fmt: skip
        iso = doc.get("date_iso")
        if iso:
            with contextlib.suppress(ValueError):
                fields["date"] = datetime.fromisoformat(str(iso)[:10])
        writer.add_document(**fields)
    writer.commit()
    return ix


def bench_baseline(ix: whoosh_index.Index, queries: list[Query]) -> dict[str, Any]:
    parser = MultifieldParser(["headline", "body"], ix.schema, group=AndGroup)
    plain_t, dated_t = Timings(), Timings()
    texts = [q for q in queries if q.q]
    with ix.searcher() as searcher:

        def run(query: Query) -> None:
            parsed = parser.parse(query.q)
            if query.date_from or query.date_to:
                start = datetime.combine(query.date_from or YEAR_START, datetime.min.time())
                end = datetime.combine(query.date_to or YEAR_END, datetime.max.time())
                parsed = And([parsed, DateRange("date", start, end)])
            for hit in searcher.search(parsed, limit=10):
                hit.highlights("body")

        for query in texts[:WARMUP]:
            run(query)
        for query in texts:
            t0 = time.perf_counter()
            run(query)
            elapsed = time.perf_counter() - t0
            (dated_t if query.kind == "date_range" else plain_t).seconds.append(elapsed)
    plain_t.wall, dated_t.wall = sum(plain_t.seconds), sum(dated_t.seconds)
    return {"plain": plain_t.summary(), "date_range": dated_t.summary()}


# ---------------------------------------------------------------- (c) HTTP


def bench_http(
    index_dir: Path, queries: list[Query], clients: int, seconds: float
) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = start_server(index_dir, port, log)  # as `newsearch serve` runs by default
        try:
            out = load_http(port, queries, clients, seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    out["clients"], out["seconds"], out["port"] = clients, seconds, port
    return out


def load_http(port: int, queries: list[Query], clients: int, seconds: float) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}/api/search?"
    urls = [base + urllib.parse.urlencode(q.url_params()) for q in queries]
    with urllib.request.urlopen(urls[0], timeout=60) as response:  # warm the app
        response.read()
    results = [Timings() for _ in range(clients)]
    deadline = time.perf_counter() + seconds
    per_client = MAX_HTTP_REQUESTS // max(1, clients)

    def client(number: int) -> None:
        timing = results[number]
        position = number * len(urls) // max(1, clients)
        for _ in range(per_client):
            if time.perf_counter() >= deadline:
                break
            url = urls[position % len(urls)]
            position += 1
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            timing.seconds.append(time.perf_counter() - t0)
            if not ok:
                timing.errors += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 120)
    total = Timings(wall=time.perf_counter() - started)
    for timing in results:
        total.seconds.extend(timing.seconds)
        total.errors += timing.errors
    return total.summary()


# ---------------------------------------------------------------- output


def row(label: str, s: dict[str, Any]) -> str:
    def f(key: str) -> str:
        return f"{s[key]:8.1f}" if key in s else f"{'-':>8}"

    cells = f"{f('p50_ms')}{f('p95_ms')}{f('p99_ms')}{f('per_s')}"
    return f"{label:<28}{s.get('n', 0):>6}{cells}{s.get('errors', 0):>7}"


def print_table(report: dict[str, Any]) -> None:
    print(f"index: {report['index']}  documents: {report['log']['documents']}  "
          f"queries: {report['queries']}  seed: {report['seed']}")  # fmt: skip
    print(report["build_note"])
    print(f"{'measure':<28}{'n':>6}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'q/s':>8}{'errors':>7}")
    print("-" * 73)
    project = report["project"]
    print(row("project search (all)", project["overall"]))
    for kind, summary in project["kinds"].items():
        print(row(f"  {kind}", summary))
    if "project_words_only" in report:
        print(row("project, words only (all)", report["project_words_only"]["overall"]))
    print(row("plain Whoosh (no filter)", report["baseline"]["plain"]))
    print(row("plain Whoosh + DateRange", report["baseline"]["date_range"]))
    http = report["http"]
    print(row(f"HTTP /api/search x{http['clients']}", http))
    print("(q/s per kind = queries / time spent in that kind; HTTP q/s = requests / wall time)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--index", help="an existing index (else one is built from the shared data)"
    )
    parser.add_argument("--build-from", choices=("reuters", "reuters+bbc"), default="reuters")
    parser.add_argument(
        "--data", help="shared data folder (default $NEWSEARCH_SHARED_DATA or ../shared/data)"
    )
    parser.add_argument(
        "--max-docs", type=int, default=0, help="index at most N Reuters documents (0: all)"
    )
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", help="write the report here")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.queries < 500:
        parser.error("--queries must be at least 500")
    if args.clients < 1 or not 0 < args.seconds <= 3600:
        parser.error("--clients must be >= 1 and --seconds in (0, 3600]")
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        work = Path(tmp)
        if args.index:
            index_dir = Path(args.index)
            if not whoosh_index.exists_in(str(index_dir), indexname="MAIN"):
                parser.error(f"there is no index in {index_dir}")
            note = f"using the existing index {index_dir}"
        else:
            index_dir = build_index(args, work)
            note = f"built a temporary index from {args.build_from} with entities OFF (for speed)"
        log("building the query log ...")
        queries, info = build_log(index_dir, args.queries, args.seed)
        log("(a) project search ...")
        project = bench_project(index_dir, queries)
        log("(a') project search by words alone ...")
        words_only = bench_project(index_dir, queries, replace(RANKING, semantic_share=0.0))
        log("(b) plain Whoosh baseline: indexing ...")
        docs = stored_docs(index_dir)
        t0 = time.perf_counter()
        baseline_ix = build_baseline(docs, work / "baseline-index")
        log(f"  baseline index built in {time.perf_counter() - t0:.1f}s; searching ...")
        baseline = bench_baseline(baseline_ix, queries)
        log(f"(c) HTTP: {args.clients} clients for {args.seconds:g}s ...")
        http = bench_http(index_dir, queries, args.clients, args.seconds)
    report = {"index": str(args.index or f"temporary ({args.build_from})"), "build_note": note,
              "queries": len(queries), "seed": args.seed, "log": info, "project": project,
              "project_words_only": words_only, "baseline": baseline, "http": http,
              "query_log_sample": [q.to_json() for q in queries[:20]]}  # fmt: skip
    print_table(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
