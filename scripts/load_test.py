"""Load test: normal and hostile queries against `newsearch serve`, on loopback only.

Starts the production server (Granian, via the `newsearch serve` command) on a free
127.0.0.1 port over an existing index, then runs C client threads for S seconds. Each
client draws requests, seeded, from a mix of ordinary searches (words taken from the
index's own headlines, with filters, sorts, pages, article and facet pages) and hostile
ones (operators only, lone quotes and brackets, 10,000 characters, 1,000 nested brackets,
`*`, short prefixes, 500 OR'ed terms, invalid UTF-8, huge page numbers, script tags).

It fails (exit 1) on any 5xx, any connection error, or when afterwards the server does
not answer one health check per worker thread at once: zero 5xx and every worker still
answering is the bar. Prints a table and, with --json, writes the figures.

    scripts/load_test.py --index DIR [--clients 20] [--seconds 60] [--threads 4] [--json OUT]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts._scripts import free_port, start_server  # noqa: E402 - after the path set-up

HOSTILE_PATHS = [
    "/api/search?q=AND",
    "/api/search?q=OR%20NOT",
    "/api/search?q=%22",
    "/api/search?q=(",
    "/api/search?q=)",
    "/api/search?q=" + "a" * 10_000,
    "/api/search?q=" + "(" * 1000 + "x" + ")" * 1000,
    "/api/search?q=" + "(" * 499 + "x" + ")" * 499,
    "/api/search?q=*",
    "/api/search?q=a*",
    "/api/search?q=" + urllib.parse.quote(" OR ".join(f"w{i}" for i in range(500))),
    "/api/search?q=%ff%fe%fd",
    "/search?q=%ff",
    "/api/search?q=x&page=99999999999999999999",
    "/api/search?q=x&per_page=100000",
    "/api/search?q=x&from=2020-13-45",
    "/api/search?q=x&sort=%3Cscript%3E",
    "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/search?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    "/api/search?q=foo:bar",
    "/api/search?q=date:2099..1800",
    "/api/articles/%3Cscript%3E",
    "/articles/..%2F..%2Fetc%2Fpasswd",
    "/nowhere",
]


@dataclass
class Tally:
    """What the clients saw; one lock guards it (appends are rare next to the I/O)."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    hostile_latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, status: int, elapsed_ms: float, hostile: bool) -> None:
        with self.lock:
            self.statuses[status] += 1
            (self.hostile_latencies_ms if hostile else self.latencies_ms).append(elapsed_ms)
            if status >= 500:
                self.server_errors.append(f"{status} {path[:120]}")


def get(port: int, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def normal_paths(port: int, rng: random.Random, count: int = 300) -> list[str]:
    """Ordinary requests built from the index's own headlines and facets."""
    status, body = get(port, "/api/search?per_page=100&sort=newest")
    if status != 200:
        raise SystemExit(f"/api/search answered {status}; is the index empty?")
    response = json.loads(body)
    hits = response["results"]
    words = [
        word
        for hit in hits
        for word in hit["headline"].split()
        if len(word) > 3 and word.isalpha() and word.lower() not in {"and", "not"}
    ] or ["news"]
    paths = []
    for _ in range(count):
        query = " ".join(rng.sample(words, k=min(len(words), rng.choice((1, 1, 2, 3)))))
        params: dict[str, str] = {"q": query}
        roll = rng.random()
        if roll < 0.15:
            params["sort"] = rng.choice(("newest", "oldest"))
        elif roll < 0.25:
            params["page"] = "2"
        elif roll < 0.35:
            lang = response["facets"]["lang"]
            if lang:
                params["lang"] = rng.choice(lang)["value"]
        endpoint = rng.choice(("/api/search", "/api/search", "/search"))
        paths.append(f"{endpoint}?{urllib.parse.urlencode(params)}")
    paths += [f"/articles/{urllib.parse.quote(hit['id'], safe='')}" for hit in hits[:20]]
    paths += [f"/api/articles/{urllib.parse.quote(hit['id'], safe='')}" for hit in hits[:20]]
    paths += ["/", "/help", "/healthz"]
    return paths


def client(
    port: int, paths: list[str], hostile_share: float, seed: int, stop: float, tally: Tally
) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop:
        hostile = rng.random() < hostile_share
        path = rng.choice(HOSTILE_PATHS if hostile else paths)
        started = time.perf_counter()
        try:
            status, _ = get(port, path)
        except OSError as error:
            with tally.lock:
                tally.errors.append(f"{type(error).__name__}: {error} on {path[:80]}")
            continue
        tally.record(path, status, (time.perf_counter() - started) * 1000, hostile)


def every_worker_answers(port: int, threads: int) -> bool:
    """As many simultaneous health checks as the server has threads, all answered."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda _: get(port, "/healthz", timeout=10)[0], range(threads)))
    return all(status == 200 for status in results)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryFile() as log:
        return load(args, port, log)


def load(args: argparse.Namespace, port: int, log: IO[bytes]) -> dict[str, Any]:
    server = start_server(args.index, port, log, threads=args.threads, timeout=60)
    try:
        rng = random.Random(args.seed)
        paths = normal_paths(port, rng)
        tally = Tally()
        stop = time.monotonic() + args.seconds
        workers = [
            threading.Thread(
                target=client,
                args=(port, paths, args.hostile, args.seed + i, stop, tally),
                daemon=True,
            )
            for i in range(args.clients)
        ]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        answering = every_worker_answers(port, args.threads)
    finally:
        server.terminate()
        server.wait(timeout=30)
    requests = sum(tally.statuses.values())
    return {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "server_threads": args.threads,
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "statuses": {str(code): n for code, n in sorted(tally.statuses.items())},
        "server_errors": tally.server_errors[:20],
        "connection_errors": tally.errors[:20],
        "every_worker_answers_after": answering,
        "normal_ms": latency_figures(tally.latencies_ms),
        "hostile_ms": latency_figures(tally.hostile_latencies_ms),
    }


def latency_figures(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 1) if values else 0.0,
        "p95": round(percentile(values, 0.95), 1),
        "p99": round(percentile(values, 0.99), 1),
        "max": round(max(values), 1) if values else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an index built by newsearch")
    parser.add_argument("--clients", type=int, default=20, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs")
    parser.add_argument("--threads", type=int, default=4, help="server threads per process")
    parser.add_argument("--hostile", type=float, default=0.3, help="share of hostile requests")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = run(args)
    print(f"{figures['requests']:,} requests in {figures['seconds']} s from {args.clients} clients")
    print(f"{figures['requests_per_s']} requests/s; statuses {figures['statuses']}")
    for kind in ("normal_ms", "hostile_ms"):
        row = figures[kind]
        print(
            f"  {kind[:-3]:8} n={row['n']:<7} p50 {row['p50']:>7} ms  p95 {row['p95']:>7} ms  ",
            end="",
        )
        print(f"p99 {row['p99']:>7} ms  max {row['max']:>7} ms")
    print(f"every worker answering afterwards: {figures['every_worker_answers_after']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    failed = figures["server_errors"] or figures["connection_errors"]
    if failed or not figures["every_worker_answers_after"]:
        print("FAILED:", *figures["server_errors"], *figures["connection_errors"], sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
