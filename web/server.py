"""The production server: Granian, in one process or in several on one port.

Granian reads and writes HTTP in Rust threads that do not hold Python's interpreter lock,
so a process's lock goes to searching: on the 24k Reuters index under 20 clients, two
workers answered 0.82 of what the search function alone does in two processes, where
waitress's answered 0.70 (476 against 367 requests/s; scripts/bench_serve.py).

A worker runs one search at a time (search/admission.py): only another process can
search on another core. Several workers are forked from a process that has already
served a search, so each starts with the index's tables built, sharing their memory pages
until it writes to them; each holds its own copy of what it changes, so memory grows with
every worker: at a million articles one worker is the choice that stays under 1.5 GB. One
worker warms up itself, and the process that watches it stays small.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
from collections.abc import Callable

from flask import Flask
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

# What Granian calls the app (its "target"): a label here, as the loader gives the app.
TARGET = "newsearch"
# A worker not gone this long after TERM is killed.
STOP_SECONDS = 30
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ServerError(Exception):
    """The server could not start; the message says why."""


def bind_address(host: str, port: int) -> str:
    """The numeric address for ``host`` (Granian takes no names), checked free on ``port``.
    Raises ServerError when the name does not resolve or the port is taken: Granian's
    workers each bind with SO_REUSEPORT, which would share the port with another server
    of this user instead of saying it is taken, so a plain bind says so first."""
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        address = str(sockaddr[0])
        socket.create_server((address, port), family=family).close()
    except OSError as error:  # socket.gaierror included
        raise ServerError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return address


def serve(
    app: Flask,
    address: str,
    port: int,
    workers: int,
    threads: int,
    prepare: Callable[[], object] | None = None,
) -> None:
    """Serve ``app`` on ``address`` (from ``bind_address``) until stopped by TERM or INT.
    Workers are forked from this process and each calls ``prepare`` before it serves; if
    one dies the others are stopped and the process exits with status 1."""
    server = Server(
        TARGET,
        address=address,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backlog=1024,
        log_level=LogLevels.warning,
        respawn_failed_workers=False,
        workers_kill_timeout=STOP_SECONDS,
    )

    parent = os.getpid()

    def prepared_app() -> Flask:  # called in a worker: the app built here, not an import path
        # Until Granian sets the worker's handlers (after this returns), the parent's
        # copies would only set a flag here, and a TERM during the warm-up would be lost.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # A worker whose parent is killed outright (OOM, kill -9) would serve on alone.
        end_with_parent(parent)
        # INT from a terminal reaches the whole group; the parent then stops the workers
        # with TERM. A worker stopping on its own first would be counted as a crash.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        if prepare is not None:
            prepare()
        return app

    server.serve(target_loader=prepared_app, wrap_loader=False)


def end_with_parent(parent: int) -> None:
    """TERM this process when ``parent`` ends (Linux's parent-death signal)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it ended before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)
