"""The production server (web/server.py) as users start it: ``newsearch serve``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts._scripts import free_port
from search.indexer import IndexSummary

NEWSEARCH = str(Path(sys.executable).parent / "newsearch")


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def connections_held(pid: int, port: int) -> int:
    """Established connections to ``port`` among the process's open sockets."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        held += local_port == port and state == "01" and inode in inodes
    return held


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200
        return json.loads(answer.read())


def wait_until_serving(server: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"newsearch serve exited: {server.communicate()[1][-2000:]}")
        try:
            get_json(f"{base}/healthz")
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail("newsearch serve did not answer in time")


def test_two_workers_share_the_port_and_stop_together(
    sample_index: tuple[Path, IndexSummary],
) -> None:
    port = free_port()
    command = [NEWSEARCH, "serve", "--index", str(sample_index[0]), "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "2", "--threads", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(server, base)
        workers = children(server.pid)
        assert len(workers) == 2
        totals = {get_json(f"{base}/api/search?q=harbour")["total"] for _ in range(10)}
        assert len(totals) == 1 and totals.pop() > 0
        # Kept-alive connections are spread over the workers, not kept by the first.
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            time.sleep(1)
            held = [connections_held(pid, port) for pid in workers]
        finally:
            for client in clients:
                client.close()
        assert sum(held) == 40 and min(held) >= 8, held
        # A second server cannot take the port, even with workers of its own: a clear
        # error, not a traceback.
        refused = subprocess.run(
            [*command, "--workers", "2"], capture_output=True, text=True, timeout=120
        )
        assert refused.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert "Serving" not in refused.stdout  # it said nothing it could not do
        # Ctrl-C: INT to the whole group, workers included, is one clean stop.
        os.killpg(server.pid, signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, err[-2000:]
    assert "in 2 processes" in out and "Traceback" not in err
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_a_worker_that_dies_stops_the_server(sample_index: tuple[Path, IndexSummary]) -> None:
    port = free_port()
    command = [NEWSEARCH, "serve", "--index", str(sample_index[0]), "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_serving(server, f"http://127.0.0.1:{port}")
        first, second = children(server.pid)
        os.kill(first, signal.SIGKILL)
        server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    # Killed is not a clean stop: the supervisor says so, and takes the other one down.
    assert server.returncode != 0
    assert (
        not Path(f"/proc/{second}/status").exists()
        or "zombie" in Path(f"/proc/{second}/status").read_text()
    )


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


@contextlib.contextmanager
def serving(command: list[str]) -> Iterator[subprocess.Popen[str]]:
    """``command`` started, and killed on the way out if it is still running."""
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield server
    finally:
        if server.poll() is None:
            server.kill()


def stopped(server: subprocess.Popen[str]) -> int:
    """TERM, and the exit status once it has ended."""
    server.terminate()
    _, err = server.communicate(timeout=30)
    assert "Traceback" not in err, err[-2000:]
    return server.returncode


def test_one_worker_warms_up_itself(sample_index: tuple[Path, IndexSummary]) -> None:
    """The process that only watches the worker does not also hold the sentence model
    and the tables: the worker loads them after the fork."""
    port = free_port()
    with serving(
        [NEWSEARCH, "serve", "--index", str(sample_index[0]), "--port", str(port)]
    ) as server:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(server, base)
        [worker] = children(server.pid)
        assert get_json(f"{base}/api/search?q=harbour")["total"] > 0
        watcher, worker_mb = resident_mb(server.pid), resident_mb(worker)
        assert watcher < worker_mb / 2, (watcher, worker_mb)
        assert stopped(server) == 0


def test_a_host_name_is_served_and_term_stops_a_worker_warming_up(
    sample_index: tuple[Path, IndexSummary],
) -> None:
    """TERM reaches a worker still loading the model (the server stops, it does not
    start serving); a host name is resolved, as Granian binds only numeric addresses."""
    port = free_port()
    command = [NEWSEARCH, "serve", "--index", str(sample_index[0]), "--port", str(port)]
    with serving([*command, "--host", "localhost"]) as server:
        deadline = time.monotonic() + 60
        while not children(server.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stopped(server) == 0
    with serving([*command, "--host", "localhost"]) as server:
        wait_until_serving(server, f"http://127.0.0.1:{port}")
        assert stopped(server) == 0


def test_a_worker_ends_when_its_parent_is_killed(sample_index: tuple[Path, IndexSummary]) -> None:
    port = free_port()
    with serving(
        [NEWSEARCH, "serve", "--index", str(sample_index[0]), "--port", str(port)]
    ) as server:
        wait_until_serving(server, f"http://127.0.0.1:{port}")
        [worker] = children(server.pid)
        server.kill()  # no chance to stop its worker
        server.communicate(timeout=30)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not Path(f"/proc/{worker}").exists(), "the worker outlived its parent"
