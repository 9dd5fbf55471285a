"""Served-load benchmark: `newsearch serve` (Granian) under C concurrent clients for S seconds.

In one run, on one index and one query log (scripts/bench_search.py's, seeded):

1. the search function alone (ArticleIndex.search in this process, one thread, then two
   threads; with ``--workers N`` also in N processes at once, as the server will run),
   after the whole log has run once: the best is what the server is compared with;
2. ``newsearch serve --index DIR --workers N`` started as its own process on 127.0.0.1 (a
   free port), sent the whole log once, then C keep-alive connections, driven by one
   thread, sending /api/search requests from the log in turn for S seconds: errors
   (non-200, connection failures), p50/p95/p99, requests/s, and the server's memory:
   peak resident (VmHWM) summed over its processes, and their proportional share (Pss)
   at the end, which counts pages the processes share once.

Both sides are warmed by the whole log because the load repeats it (a 60 s run sends each
query about ten times): the query embeddings are cached on both, and the comparison is of
the steady state, not of which side paid the first encodings inside its clock.

The clients run in this process, so they take CPU from the two cores too (reported as
``client_cpu_share``, in cores): the served figure is a lower bound on what the server
alone could do.

    scripts/bench_serve.py --index DIR [--clients 20] [--seconds 60] [--threads 4]
                           [--workers 1] [--queries 500] [--seed 1]
                           [--out bench-results/serve.json]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import queue
import selectors
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from threadpoolctl import threadpool_limits  # noqa: E402

from scripts._scripts import free_port, load_script, start_server  # noqa: E402

DEFAULT_OUT = REPO / "bench-results" / "serve.json"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb(pid: int) -> float | None:
    """The process's high-water resident set (VmHWM), in MB; None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def warmed_index(index_dir: Path, requests: list[Any]) -> Any:
    """An ArticleIndex that has run the whole log once, with BLAS on one thread as the
    server has it (search/cli.py serve)."""
    from search.searcher import ArticleIndex

    threadpool_limits(limits=1, user_api="blas")
    articles = ArticleIndex(index_dir)
    for request in requests:
        articles.search(request)
    return articles


def bench_function(index_dir: Path, queries: list[Any], threads: int, bench: ModuleType) -> dict:
    """The search call alone: ``threads`` threads share one ArticleIndex, as the app does."""
    articles = warmed_index(index_dir, [query.request() for query in queries])
    results = [bench.Timings() for _ in range(threads)]

    def worker(number: int) -> None:
        for query in queries[number::threads]:
            t0 = time.perf_counter()
            try:
                articles.search(query.request())
            except Exception:  # counted, the run goes on
                results[number].errors += 1
                continue
            results[number].seconds.append(time.perf_counter() - t0)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    total = bench.Timings(wall=time.perf_counter() - started)
    for timing in results:
        total.seconds.extend(timing.seconds)
        total.errors += timing.errors
    out: dict[str, Any] = total.summary()
    out["threads"] = threads
    return out


def _function_process(
    index_dir: str, requests: list[Any], share: int, shares: int, start: Any, out: Any
) -> None:
    """One process of ``bench_processes``: warm up on the whole log, wait for the others,
    then time its share of the log."""
    articles = warmed_index(Path(index_dir), requests)
    seconds = []
    start.wait()
    began = time.perf_counter()
    for request in requests[share::shares]:
        t0 = time.perf_counter()
        articles.search(request)
        seconds.append(time.perf_counter() - t0)
    out.put((seconds, began, time.perf_counter()))


def bench_processes(index_dir: Path, queries: list[Any], processes: int, bench: ModuleType) -> dict:
    """The search call alone in ``processes`` processes at once (as many as the server's
    workers): what the function does with every core, since one process uses one."""
    context = multiprocessing.get_context("spawn")  # no fork of a process that ran torch
    start, out = context.Barrier(processes), context.Queue()
    requests = [query.request() for query in queries]
    pool = [
        context.Process(
            target=_function_process, args=(str(index_dir), requests, i, processes, start, out)
        )
        for i in range(processes)
    ]
    for process in pool:
        process.start()
    parts = []
    deadline = time.perf_counter() + 3600
    while len(parts) < processes:
        try:
            parts.append(out.get(timeout=5))
        except queue.Empty:
            # A process gone without sending its share (or one taking an hour) would
            # leave the run waiting for ever.
            alive = sum(process.is_alive() for process in pool)
            if len(parts) + alive < processes or time.perf_counter() > deadline:
                codes = [process.exitcode for process in pool]
                for process in pool:
                    process.kill()
                raise SystemExit(f"a search process failed (exit codes {codes})") from None
    for process in pool:
        process.join()
    total = bench.Timings(wall=max(p[2] for p in parts) - min(p[1] for p in parts))
    for seconds, _, _ in parts:
        total.seconds.extend(seconds)
    summary: dict[str, Any] = total.summary()
    summary["processes"] = processes
    return summary


def server_memory_mb(pid: int) -> dict[str, float | None]:
    """The server's peak resident memory (VmHWM) summed over its processes, and their
    proportional share (Pss: a page shared by two processes counts half in each) now."""
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    peaks = [peak_rss_mb(each) for each in pids]
    pss = 0.0
    for each in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
    known = [peak for peak in peaks if peak is not None]
    return {
        "peak_rss_mb": round(sum(known), 1) if known else None,
        "pss_mb": round(pss, 1) if pss else None,
        "processes": len(pids),
    }


def warm_server(port: int, queries: list[Any], workers: int) -> None:
    """Send the whole log before the clock starts, as the function gets it: with several
    workers, over four connections a worker at once, each with the whole log. A
    connection stays with the process that accepted it and the kernel picks that
    process, so every worker seeing the whole log is likely, not certain."""
    paths = ["/api/search?" + urllib.parse.urlencode(q.url_params()) for q in queries]

    def send_all() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            for path in paths:
                connection.request("GET", path)
                connection.getresponse().read()
        finally:
            connection.close()

    senders = [threading.Thread(target=send_all) for _ in range(1 if workers == 1 else 4 * workers)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()


def response_end(buffer: bytes | bytearray) -> tuple[int, int, bool] | None:
    """(status, length of the whole response, whether the server closes the connection)
    once ``buffer`` holds a complete HTTP/1.1 response with a Content-Length (every
    newsearch response has one), else None."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = bytes(buffer[:head_end]).lower()
    status = int(head[9:12])
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        raise ValueError(f"response without Content-Length: {head[:200]!r}")
    line_end = head.find(b"\r\n", at + 2)
    length = int(head[at + 17 : line_end if line_end > 0 else len(head)])
    total = head_end + 4 + length
    closing = b"\r\nconnection: close" in head
    return (status, total, closing) if len(buffer) >= total else None


class Client:
    """One keep-alive connection of the load, sending the log's requests in turn."""

    def __init__(self, port: int, requests: list[bytes], position: int) -> None:
        self.port, self.requests, self.position = port, requests, position
        self.buffer = bytearray()
        self.started = 0.0
        self.sock = self.connect()

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        return sock

    def reconnect(self, selector: selectors.BaseSelector) -> None:
        """A new connection (on loopback, established at once, inside the caller's
        loop)."""
        with contextlib.suppress(KeyError, ValueError):  # a failed reconnect left none
            selector.unregister(self.sock)
        self.sock.close()
        self.sock = self.connect()
        selector.register(self.sock, selectors.EVENT_READ, self)

    def send_next(self) -> None:
        request = self.requests[self.position % len(self.requests)]
        self.position += 1
        self.buffer.clear()
        self.started = time.perf_counter()
        self.sock.sendall(request)  # a few hundred bytes: the socket buffer takes it whole


def bench_http(
    port: int, queries: list[Any], clients: int, seconds: float, bench: ModuleType
) -> dict:
    """``clients`` keep-alive connections driven by one thread with ``selectors``: a
    request is prepared bytes and a response is read up to its Content-Length, so the
    load itself costs little of the two cores the server and its clients share: 3 % of a
    core at 300 requests/s, where 20 threads with http.client took 7 %."""
    requests = [
        f"GET /api/search?{urllib.parse.urlencode(q.url_params())} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n\r\n".encode()
        for q in queries
    ]
    timing = bench.Timings()
    failures: list[str] = []

    def fail(reason: str) -> None:
        timing.errors += 1
        if len(failures) < 20:
            failures.append(reason)

    selector = selectors.DefaultSelector()
    pool = [Client(port, requests, n * len(requests) // clients) for n in range(clients)]
    started, cpu_started = time.perf_counter(), time.process_time()
    deadline = started + seconds
    for each in pool:
        selector.register(each.sock, selectors.EVENT_READ, each)
        each.send_next()
    running = set(pool)

    def stop(each: Client) -> None:
        running.discard(each)
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(each.sock)

    try:
        while running:
            for key, _ in selector.select(timeout=30):
                each = key.data
                try:
                    chunk = each.sock.recv(1 << 20)
                    if not chunk:
                        raise ConnectionError("the server closed the connection")
                    each.buffer += chunk
                    done = response_end(each.buffer)
                    if done is None:
                        continue
                    status, _, closing = done
                except (OSError, ValueError) as error:
                    status, closing = 0, True
                    fail(repr(error))
                now = time.perf_counter()
                timing.seconds.append(now - each.started)
                if status and status != 200:
                    fail(f"{status} {bytes(each.buffer[:200])!r}")
                try:
                    if now >= deadline:
                        raise StopIteration
                    if closing:  # a fresh connection for the next request
                        each.reconnect(selector)
                    each.send_next()
                except OSError as error:  # the server is gone: this client stops
                    timing.seconds.append(time.perf_counter() - now)
                    fail(f"cannot send: {error!r}")
                    stop(each)
                except StopIteration:
                    stop(each)
            if time.perf_counter() > deadline + 120:
                for _ in running:
                    timing.seconds.append(time.perf_counter() - started)
                    fail("no response 120 s after the end")
                break
    finally:
        for each in pool:
            each.sock.close()
        selector.close()
    timing.wall = time.perf_counter() - started
    out: dict[str, Any] = timing.summary()
    client_cpu = time.process_time() - cpu_started
    out.update(clients=clients, seconds=seconds, failures=failures,
               client_cpu_share=round(client_cpu / timing.wall, 3))  # fmt: skip
    return out


def row(label: str, s: dict[str, Any]) -> str:
    cells = "".join(
        f"{s[k]:9.1f}" if k in s else f"{'-':>9}" for k in ("p50_ms", "p95_ms", "p99_ms", "per_s")
    )
    return f"{label:<34}{s.get('n', 0):>7}{cells}{s.get('errors', 0):>8}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="the index to serve (e.g. the 24k one)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="load duration (short: 10)")
    parser.add_argument("--threads", type=int, default=4, help="server threads per process")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (newsearch serve --workers)"
    )
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON report path")
    args = parser.parse_args(argv)
    if args.clients < 1 or not 0 < args.seconds <= 3600:
        parser.error("--clients must be >= 1 and --seconds in (0, 3600]")
    index_dir = Path(args.index)
    bench = load_script("bench_search")
    log("building the query log ...")
    queries, info = bench.build_log(index_dir, args.queries, args.seed)
    load = os.getloadavg()
    log("search function alone, 1 thread ...")
    alone_1 = bench_function(index_dir, queries, 1, bench)
    log("search function alone, 2 threads ...")
    alone_2 = bench_function(index_dir, queries, 2, bench)
    alone_n: dict[str, Any] = {}
    if args.workers > 1:
        log(f"search function alone, {args.workers} processes ...")
        alone_n = bench_processes(index_dir, queries, args.workers, bench)
    port = free_port()
    log(f"starting newsearch serve on 127.0.0.1:{port} ...")
    with tempfile.TemporaryFile() as server_log:
        server = start_server(
            index_dir, port, server_log, threads=args.threads, workers=args.workers
        )
        try:
            idle_rss = peak_rss_mb(server.pid)
            log("sending the log before the clock ...")
            warm_server(port, queries, args.workers)
            log(f"{args.clients} clients for {args.seconds:g}s ...")
            http_result = bench_http(port, queries, args.clients, args.seconds, bench)
            memory = server_memory_mb(server.pid)
            http_result["server_peak_rss_mb"] = memory["peak_rss_mb"]
            http_result["server_pss_mb"] = memory["pss_mb"]
            http_result["server_processes"] = memory["processes"]
            http_result["server_rss_after_start_mb"] = idle_rss
        finally:
            server.terminate()
            server.wait(timeout=30)
    best_alone = max(s.get("per_s", 0.0) for s in (alone_1, alone_2, alone_n))
    ratio = http_result.get("per_s", 0.0) / best_alone if best_alone else None
    report = {
        "index": str(index_dir),
        "documents": info["documents"],
        "queries": len(queries),
        "seed": args.seed,
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in load],
        "function_1_thread": alone_1,
        "function_2_threads": alone_2,
        "function_processes": alone_n or None,
        "workers": args.workers,
        "http": http_result,
        "served_vs_function": round(ratio, 3) if ratio is not None else None,
    }
    print(f"index: {index_dir}  documents: {info['documents']}  queries: {len(queries)}  "
          f"load before: {report['load_before']}")  # fmt: skip
    print(
        f"{'measure':<34}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>8}"
    )
    print("-" * 85)
    print(row("search function, 1 thread", alone_1))
    print(row("search function, 2 threads", alone_2))
    if alone_n:
        print(row(f"search function, {args.workers} processes", alone_n))
    print(row(f"HTTP x{args.clients} clients, {args.seconds:g}s", http_result))
    print(f"served / best function throughput: {report['served_vs_function']}  "
          f"server peak RSS: {http_result['server_peak_rss_mb']} MB over "
          f"{http_result['server_processes']} processes, "
          f"Pss {http_result['server_pss_mb']} MB; the load client used "
          f"{http_result.get('client_cpu_share')} of a core")  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
